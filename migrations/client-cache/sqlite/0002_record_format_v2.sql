-- Record format 2 (docs/design.md): this device's id, written into the
-- header of every record it seals, and what the sync checks refused.

ALTER TABLE profile ADD COLUMN device_id TEXT;

-- Set on a command that only re-seals a format 1 record in format 2: it
-- carries no edit of the person's, so a conflict drops it silently.
ALTER TABLE pending ADD COLUMN upgrade INTEGER NOT NULL DEFAULT 0;

-- Records the server served that this device refused: an older version of
-- a record than one it had seen, a deletion no key holder made, a record
-- that does not open, or a second, different record under a version it
-- already knew. The mirror keeps the version it trusted.
CREATE TABLE tamper_alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    what TEXT NOT NULL CHECK (what IN ('rollback', 'forged-deletion', 'does-not-open', 'fork')),
    revision INTEGER NOT NULL,
    detected_at_ms INTEGER NOT NULL
);

-- The vault summary (docs/design.md, "The vault summary"): what a summary
-- entry says of each mirror row, kept beside it so that writing or checking
-- a summary reads no ciphertext. NULL on rows stored before this migration
-- until the summary code fills them in.
ALTER TABLE records ADD COLUMN version INTEGER;
ALTER TABLE records ADD COLUMN digest BLOB;
ALTER TABLE records ADD COLUMN bucket INTEGER;
CREATE INDEX records_by_bucket ON records (bucket);
CREATE INDEX records_unsummarised ON records (record_id) WHERE digest IS NULL;
-- Live format 1 records, which the upgrade pass looks for on every sync.
CREATE INDEX records_format_1 ON records (record_id) WHERE deleted = 0 AND version = 0;

-- A fifth refusal: a record a key holder's summary lists that the server
-- did not serve. SQLite cannot change a CHECK constraint in place.
CREATE TABLE tamper_alerts_v2 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    what TEXT NOT NULL CHECK (what IN ('rollback', 'forged-deletion', 'does-not-open', 'fork', 'withheld')),
    revision INTEGER NOT NULL,
    detected_at_ms INTEGER NOT NULL
);
INSERT INTO tamper_alerts_v2 SELECT seq, record_id, what, revision, detected_at_ms FROM tamper_alerts;
DROP TABLE tamper_alerts;
ALTER TABLE tamper_alerts_v2 RENAME TO tamper_alerts;

-- The sync cursor up to which every summary in the mirror has been checked:
-- a pull cut off before its end leaves what it stored for the next
-- complete pull to check in full.
ALTER TABLE profile ADD COLUMN summaries_checked INTEGER NOT NULL DEFAULT 0;

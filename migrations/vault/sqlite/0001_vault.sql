-- Vault store (single-node engine). Ids are 16-byte UUID blobs.

-- One revision counter per user: every change takes the next number, in the
-- same transaction as the change (DESIGN.md invariant 4).
CREATE TABLE user_revisions (
    user_id  BLOB PRIMARY KEY,
    revision INTEGER NOT NULL
) WITHOUT ROWID;

-- The newest version of every record, tombstones included, so that
-- "changes after revision N" is one index range.
CREATE TABLE records (
    user_id       BLOB    NOT NULL,
    record_id     BLOB    NOT NULL,
    kind          INTEGER NOT NULL,
    ciphertext    BLOB    NOT NULL,
    revision      INTEGER NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, record_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX records_by_revision ON records (user_id, revision);
CREATE INDEX records_by_kind ON records (user_id, kind, record_id) WHERE deleted = 0;

-- Every command id ever applied, with its first outcome (encoded
-- gophkeeper.v1.CommandOutcome), written in the same transaction as the
-- change: a redelivered command changes nothing and gets the same answer.
CREATE TABLE applied_commands (
    user_id       BLOB    NOT NULL,
    command_id    BLOB    NOT NULL,
    outcome       BLOB    NOT NULL,
    applied_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, command_id)
) WITHOUT ROWID;

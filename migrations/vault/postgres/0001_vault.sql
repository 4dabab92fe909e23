-- Vault store (cluster engine, the PostgreSQL primary). The same tables as
-- the SQLite engine, so that both engines answer the same queries; times
-- stay bigint milliseconds since the epoch, as on the wire.

-- One revision counter per user: every change takes the next number, in the
-- same transaction as the change (DESIGN.md invariant 4). Its row is also
-- the per-user lock that serialises one user's writers.
CREATE TABLE user_revisions (
    user_id  uuid   PRIMARY KEY,
    revision bigint NOT NULL CHECK (revision >= 0)
);

-- The newest version of every record, tombstones included, so that
-- "changes after revision N" is one index range.
CREATE TABLE records (
    user_id       uuid    NOT NULL,
    record_id     uuid    NOT NULL,
    kind          integer NOT NULL,
    ciphertext    bytea   NOT NULL,
    revision      bigint  NOT NULL CHECK (revision > 0),
    deleted       boolean NOT NULL DEFAULT false,
    created_at_ms bigint  NOT NULL,
    updated_at_ms bigint  NOT NULL,
    PRIMARY KEY (user_id, record_id)
);

-- The safety net under the per-user lock: two changes of one user can never
-- share a revision.
CREATE UNIQUE INDEX records_by_revision ON records (user_id, revision);
CREATE INDEX records_by_kind ON records (user_id, kind, record_id) WHERE NOT deleted;

-- Every command id ever applied, with its first outcome (encoded
-- gophkeeper.v1.CommandOutcome), written in the same transaction as the
-- change: a redelivered command changes nothing and gets the same answer.
CREATE TABLE applied_commands (
    user_id       uuid   NOT NULL,
    command_id    uuid   NOT NULL,
    outcome       bytea  NOT NULL,
    applied_at_ms bigint NOT NULL,
    PRIMARY KEY (user_id, command_id)
);

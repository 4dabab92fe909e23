-- The client's local cache of one profile. Nothing here reveals an item:
-- records are the server's ciphertext, the refresh token is sealed under a
-- key derived from the vault key, and the vault key itself is wrapped.

-- One row: who this profile is and how it reaches its server.
CREATE TABLE profile (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT NOT NULL,
    username TEXT NOT NULL,
    user_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    kdf_memory_kib INTEGER NOT NULL,
    kdf_iterations INTEGER NOT NULL,
    kdf_parallelism INTEGER NOT NULL,
    kdf_salt BLOB NOT NULL,
    wrapped_vault_key BLOB NOT NULL,
    -- 'system', 'ca-file' (value: path) or 'pinned' (value: fingerprint).
    trust_kind TEXT NOT NULL CHECK (trust_kind IN ('system', 'ca-file', 'pinned')),
    trust_value TEXT NOT NULL,
    sealed_refresh_token BLOB,
    -- Changes are pulled after this revision.
    sync_cursor INTEGER NOT NULL DEFAULT 0,
    -- The newest revision one of our own commands was applied at; queries
    -- ask for at least this (read your writes).
    seen_revision INTEGER NOT NULL DEFAULT 0,
    last_sync_ms INTEGER
);

-- The server's records as last seen, tombstones included.
CREATE TABLE records (
    record_id TEXT PRIMARY KEY,
    kind INTEGER NOT NULL,
    ciphertext BLOB NOT NULL,
    revision INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

-- Commands not yet applied, in the order they were made.
CREATE TABLE pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    kind INTEGER NOT NULL,
    ciphertext BLOB,
    -- NULL: the revision the record's earlier command gets applied at.
    base_revision INTEGER,
    -- Set before the first send; from then on the command is frozen,
    -- because the server may already have applied it.
    sent INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX pending_by_record ON pending (record_id, seq);

-- Commands the server found in conflict, with both versions.
CREATE TABLE conflicts (
    record_id TEXT PRIMARY KEY,
    kind INTEGER NOT NULL,
    mine_op TEXT NOT NULL CHECK (mine_op IN ('create', 'update', 'delete')),
    -- NULL when mine is a delete.
    mine_ciphertext BLOB,
    theirs_kind INTEGER NOT NULL,
    theirs_ciphertext BLOB NOT NULL,
    theirs_revision INTEGER NOT NULL,
    theirs_deleted INTEGER NOT NULL,
    detected_at_ms INTEGER NOT NULL
);

-- Auth store (single-node engine). Ids are 16-byte UUID blobs.

CREATE TABLE users (
    user_id           BLOB    PRIMARY KEY,
    -- As the user typed it (for display).
    username          TEXT    NOT NULL,
    -- NFKC + lower case: the form names are compared in.
    username_key      TEXT    NOT NULL UNIQUE,
    -- PHC string of the server-side Argon2id over the client's auth key.
    auth_hash         TEXT    NOT NULL,
    kdf_algorithm     TEXT    NOT NULL,
    kdf_memory_kib    INTEGER NOT NULL,
    kdf_iterations    INTEGER NOT NULL,
    kdf_parallelism   INTEGER NOT NULL,
    kdf_salt          BLOB    NOT NULL,
    -- The vault key sealed by the client's key-encryption key.
    wrapped_vault_key BLOB    NOT NULL,
    created_at_ms     INTEGER NOT NULL,
    updated_at_ms     INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per signed-in device. Revoking a session ends its refresh token
-- family and makes its access tokens fail validation.
CREATE TABLE sessions (
    session_id      BLOB    PRIMARY KEY,
    user_id         BLOB    NOT NULL REFERENCES users (user_id),
    device_name     TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    last_seen_at_ms INTEGER NOT NULL,
    revoked_at_ms   INTEGER,
    revoke_reason   TEXT
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);

-- Refresh tokens, stored as SHA-256 of the token. A used token stays (with
-- used_at_ms set) so that its reuse is recognised as theft.
CREATE TABLE refresh_tokens (
    token_hash    BLOB    PRIMARY KEY,
    session_id    BLOB    NOT NULL REFERENCES sessions (session_id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER
) WITHOUT ROWID;

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Auth store (cluster engine, its own PostgreSQL server). The same tables as
-- the SQLite engine; times stay bigint milliseconds since the epoch.

CREATE TABLE users (
    user_id           uuid    PRIMARY KEY,
    -- As the user typed it (for display).
    username          text    NOT NULL,
    -- NFKC + lower case: the form names are compared in.
    username_key      text    NOT NULL UNIQUE,
    -- PHC string of the server-side Argon2id over the client's auth key.
    auth_hash         text    NOT NULL,
    kdf_algorithm     text    NOT NULL,
    kdf_memory_kib    bigint  NOT NULL,
    kdf_iterations    bigint  NOT NULL,
    kdf_parallelism   bigint  NOT NULL,
    kdf_salt          bytea   NOT NULL,
    -- The vault key sealed by the client's key-encryption key.
    wrapped_vault_key bytea   NOT NULL,
    created_at_ms     bigint  NOT NULL,
    updated_at_ms     bigint  NOT NULL
);

-- One row per signed-in device. Revoking a session ends its refresh token
-- family and makes its access tokens fail validation.
CREATE TABLE sessions (
    session_id      uuid   PRIMARY KEY,
    user_id         uuid   NOT NULL REFERENCES users (user_id),
    device_name     text   NOT NULL,
    created_at_ms   bigint NOT NULL,
    last_seen_at_ms bigint NOT NULL,
    revoked_at_ms   bigint,
    revoke_reason   text
);

CREATE INDEX sessions_by_user ON sessions (user_id);

-- Refresh tokens, stored as SHA-256 of the token. A used token stays (with
-- used_at_ms set) so that its reuse is recognised as theft.
CREATE TABLE refresh_tokens (
    token_hash    bytea  PRIMARY KEY CHECK (length(token_hash) = 32),
    session_id    uuid   NOT NULL REFERENCES sessions (session_id),
    created_at_ms bigint NOT NULL,
    expires_at_ms bigint NOT NULL,
    used_at_ms    bigint
);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

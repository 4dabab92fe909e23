-- Two-factor login (docs/design.md, "Two-factor login"). The TOTP secret is
-- sealed under a key from the server secret (nonce ‖ XChaCha20-Poly1305);
-- a row without enabled_at_ms is a secret shown but not yet confirmed.
-- last_step is the newest TOTP step accepted: a code is good once.
CREATE TABLE two_factor (
    user_id       uuid   PRIMARY KEY REFERENCES users (user_id),
    sealed_secret bytea  NOT NULL,
    created_at_ms bigint NOT NULL,
    enabled_at_ms bigint,
    last_step     bigint NOT NULL DEFAULT 0
);

-- One-time recovery codes, as HMAC-SHA256 under a key from the server
-- secret; a used one keeps its row with used_at_ms set.
CREATE TABLE recovery_codes (
    user_id    uuid   NOT NULL REFERENCES users (user_id),
    code_hash  bytea  NOT NULL,
    used_at_ms bigint,
    PRIMARY KEY (user_id, code_hash)
);

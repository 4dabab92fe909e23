-- OPAQUE (docs/design.md, "OPAQUE"). An account's registration record
-- replaces the legacy verifier: once opaque_record is set, auth_hash is ''
-- (an account not yet moved keeps its hash until its next login).
ALTER TABLE users ADD COLUMN opaque_record bytea;

-- The server's state between a login's two round trips, sealed under a key
-- from the server secret. Any auth process may finish a login another
-- started; taking the row deletes it, so a finish message works once.
-- password_verified_at_ms is set on a login kept for its second factor.
CREATE TABLE opaque_logins (
    login_id                bytea  PRIMARY KEY,
    user_id                 uuid,
    sealed_state            bytea  NOT NULL,
    password_verified_at_ms bigint,
    expires_at_ms           bigint NOT NULL
);

CREATE INDEX opaque_logins_by_expiry ON opaque_logins (expires_at_ms);

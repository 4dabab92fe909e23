-- A vault-key rotation this device started and has not yet seen the
-- server take (docs/design.md, "Vault-key rotation"): the new keys, wrapped
-- under this device's key-encryption key like `wrapped_vault_key`, so that
-- a rotation cut off half-way resumes with the same keys.
ALTER TABLE profile ADD COLUMN pending_vault_keys BLOB;

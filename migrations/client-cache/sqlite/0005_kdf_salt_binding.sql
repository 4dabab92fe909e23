-- The KDF algorithm of the profile's account (docs/design.md, "Keys and
-- crypto"): "argon2id" (the salt as the server stores it) for profiles from
-- before, "argon2id-user-salt" (bound to the user name) once the account
-- moved. Offline unlock needs it to derive the same key, and a login
-- refuses a server that asks for the unbound form again.
ALTER TABLE profile ADD COLUMN kdf_algorithm TEXT NOT NULL DEFAULT 'argon2id';

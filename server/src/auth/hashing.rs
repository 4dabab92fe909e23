//! The server's slow hash of the client's auth key. The auth key is already
//! the output of a 64 MiB Argon2id on the client, so this second, cheaper
//! Argon2id is there so that a stolen auth database cannot be used to log in
//! directly (the stored value is not the credential).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Debug, Clone)]
pub struct AuthKeyHasher {
    params: Params,
    /// A hash of a random key, verified against when a user name is unknown
    /// so that "no such user" takes as long as "wrong key".
    decoy: String,
}

#[derive(Debug, thiserror::Error)]
#[error("hashing failed: {0}")]
pub struct HashError(String);

impl AuthKeyHasher {
    pub fn new(memory_kib: u32, iterations: u32) -> Result<Self, HashError> {
        let params = Params::new(memory_kib, iterations, 1, Some(32))
            .map_err(|e| HashError(e.to_string()))?;
        let mut hasher = Self {
            params,
            decoy: String::new(),
        };
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
        hasher.decoy = hasher.hash(&random)?;
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// PHC string (`$argon2id$v=19$m=...`), salt included.
    pub fn hash(&self, auth_key: &[u8]) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon2()
            .hash_password(auth_key, &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| HashError(e.to_string()))
    }

    /// Constant-time check; a malformed stored hash counts as a mismatch.
    pub fn verify(&self, auth_key: &[u8], stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(parsed) => self.argon2().verify_password(auth_key, &parsed).is_ok(),
            Err(_) => false,
        }
    }

    /// Burns the same time as [`Self::verify`] for a user that does not exist.
    pub fn verify_decoy(&self, auth_key: &[u8]) {
        let _ = self.verify(auth_key, &self.decoy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_right_key_only() {
        let hasher = AuthKeyHasher::new(1024, 1).unwrap();
        let stored = hasher.hash(b"right key").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(hasher.verify(b"right key", &stored));
        assert!(!hasher.verify(b"wrong key", &stored));
        assert!(!hasher.verify(b"right key", "not a phc string"));
    }
}

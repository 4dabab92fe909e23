//! Small client-local secrets (the refresh token in the profile cache),
//! sealed under a key derived from the vault key.
//!
//! Derived rather than the vault key itself so that no ciphertext in the
//! cache can ever be mistaken for a record: different key, different
//! associated data. Someone who copies the cache file learns nothing
//! without the master password.

use super::keys::{VaultKey, hkdf_sha256};
use super::secret::KeyBytes;
use super::{CryptoError, Plaintext, aead};

const LOCAL_KEY_INFO: &[u8] = b"gophkeeper/v1/local-cache-key";
const LOCAL_FORMAT_V1: u8 = 1;

/// Seals and opens client-local secrets. Wiped on drop.
pub struct LocalKey(KeyBytes);

impl LocalKey {
    pub fn derive(vault_key: &VaultKey) -> Self {
        let mut key = KeyBytes::zeroed();
        #[expect(
            clippy::expect_used,
            reason = "32 bytes is far below HKDF-SHA256's 8160-byte output limit"
        )]
        hkdf_sha256(vault_key.0.as_bytes(), None, LOCAL_KEY_INFO, key.as_mut())
            .expect("32-byte HKDF output is always allowed");
        Self(key)
    }

    /// `purpose` is bound as associated data, so a sealed value cannot be
    /// moved to another slot of the cache.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        aead::seal(&self.0, LOCAL_FORMAT_V1, &aad(purpose), plaintext)
    }

    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Plaintext, CryptoError> {
        aead::open(&self.0, LOCAL_FORMAT_V1, &aad(purpose), sealed)
    }
}

fn aad(purpose: &str) -> Vec<u8> {
    let mut aad = b"gophkeeper/v1/local/".to_vec();
    aad.extend_from_slice(purpose.as_bytes());
    aad
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_purpose_and_key() {
        let vault = VaultKey::generate();
        let key = LocalKey::derive(&vault);
        let sealed = key.seal("refresh-token", b"token");
        assert_eq!(
            key.open("refresh-token", &sealed).unwrap().as_slice(),
            b"token"
        );
        assert!(key.open("other", &sealed).is_err());
        let other = LocalKey::derive(&VaultKey::generate());
        assert!(other.open("refresh-token", &sealed).is_err());
        assert_ne!(LocalKey::derive(&vault).0.as_bytes(), vault.0.as_bytes());
        assert_eq!(format!("{key:?}"), "LocalKey(<redacted>)");
    }
}

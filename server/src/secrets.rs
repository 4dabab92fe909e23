//! The server secret: signs access tokens and keys the fake prelogin salts.
//! From configuration (`auth.secret` / `GOPHKEEPER__AUTH__SECRET`) in a
//! cluster, where every auth process must share it; otherwise made once and
//! kept in `<data dir>/secrets/auth.key` (mode 0600).

use std::path::Path;

use gophkeeper_private_file::Existing;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use zeroize::Zeroizing;

pub struct ServerSecret(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("auth.secret must be 64 hex digits (32 bytes)")]
    Malformed,
    #[error("cannot read or write the secret file {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ServerSecret {
    pub fn load_or_create(configured: &SecretString, data_dir: &Path) -> Result<Self, SecretError> {
        if !configured.expose_secret().is_empty() {
            return Self::from_hex(configured.expose_secret());
        }
        let path = data_dir.join("secrets").join("auth.key");
        let io = |source| SecretError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_hex(text.trim()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = Zeroizing::new([0u8; 32]);
                rand::rngs::OsRng.fill_bytes(bytes.as_mut());
                let text = Zeroizing::new(hex::encode(bytes.as_ref()));
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                gophkeeper_private_file::write(&path, text.as_bytes(), Existing::Replace)
                    .map_err(io)?;
                tracing::info!(path = %path.display(), "created the server secret");
                Ok(Self(bytes))
            }
            Err(err) => Err(io(err)),
        }
    }

    fn from_hex(text: &str) -> Result<Self, SecretError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text, bytes.as_mut()).map_err(|_| SecretError::Malformed)?;
        Ok(Self(bytes))
    }

    /// A key for one purpose, so that the token-signing key and the prelogin
    /// key are independent even though they come from one secret.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(purpose.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_reused_and_purposes_differ() {
        let dir = tempfile::tempdir().unwrap();
        let empty = SecretString::from(String::new());
        let first = ServerSecret::load_or_create(&empty, dir.path()).unwrap();
        let again = ServerSecret::load_or_create(&empty, dir.path()).unwrap();
        assert_eq!(*first.derive("jwt"), *again.derive("jwt"));
        assert_ne!(*first.derive("jwt"), *first.derive("prelogin"));
        assert_eq!(format!("{first:?}"), "ServerSecret(<redacted>)");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets/auth.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn configured_secret_wins_and_must_be_hex() {
        let dir = tempfile::tempdir().unwrap();
        let configured = SecretString::from("ab".repeat(32));
        let secret = ServerSecret::load_or_create(&configured, dir.path()).unwrap();
        assert!(!dir.path().join("secrets").exists());
        let same = ServerSecret::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(*secret.derive("x"), *same.derive("x"));
        let bad = SecretString::from("not hex".to_string());
        assert!(matches!(
            ServerSecret::load_or_create(&bad, dir.path()),
            Err(SecretError::Malformed)
        ));
    }
}

//! Where the refresh token waits between runs: the operating system's
//! credential store (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows), one entry per server and user. Where
//! there is none (a headless Linux box has no Secret Service) it is a file
//! in the profile, readable by its owner only, and the person is told so
//! once, when that file is first made.
//!
//! The keyring needs the `os-keyring` feature; without it every profile
//! uses the file.
//!
//! Either way what is stored is the token sealed under the profile's local
//! key (derived from the vault key), so neither a copied keyring entry nor
//! the file is usable without the master password; the vault key itself
//! is never stored unwrapped anywhere.
//!
//! An account's Secret Key waits in a second slot of the same kind. It
//! cannot be sealed under anything from the password (it is needed to get
//! there), so it is stored as it is: the keyring's own protection, or the
//! owner-only file (docs/design.md, "Secret Key").

use std::path::{Path, PathBuf};

/// The fallback file in the profile directory.
pub const TOKEN_FILE: &str = "refresh-token";
/// The Secret Key's fallback file in the profile directory.
pub const SECRET_KEY_FILE: &str = "secret-key";
/// Set to `off` to skip the OS keyring (tests, or a keyring that prompts).
#[cfg(feature = "os-keyring")]
const KEYRING_ENV: &str = "GOPHKEEPER_KEYRING";

/// What a store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The refresh token, sealed.
    RefreshToken,
    /// The account's Secret Key.
    SecretKey,
}

impl Slot {
    fn file(self) -> &'static str {
        match self {
            Self::RefreshToken => TOKEN_FILE,
            Self::SecretKey => SECRET_KEY_FILE,
        }
    }

    /// The keyring's service name: one entry per slot, server and user.
    #[cfg(feature = "os-keyring")]
    fn service(self) -> &'static str {
        match self {
            Self::RefreshToken => "gophkeeper",
            Self::SecretKey => "gophkeeper-secret-key",
        }
    }

    fn notice(self, path: &Path) -> String {
        match self {
            Self::RefreshToken => format!(
                "no OS keyring here; this device's login token is kept in {} (owner-only, \
                 sealed with a key from the master password)",
                path.display()
            ),
            Self::SecretKey => format!(
                "no OS keyring here; this account's Secret Key is kept in {} (owner-only; \
                 whoever copies this device's files has it, so keep the disk encrypted)",
                path.display()
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("cannot use {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Unexpected(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Backend {
    /// `file` is where a token from before the keyring answered may wait.
    #[cfg(feature = "os-keyring")]
    Keyring {
        service: &'static str,
        account: String,
        file: PathBuf,
    },
    File(PathBuf),
}

/// The place this profile's refresh token (or Secret Key) is kept.
#[derive(Debug, Clone)]
pub struct TokenStore {
    backend: Backend,
    notice: Option<String>,
}

/// Keyring calls block (D-Bus, Keychain): off the async workers.
#[cfg(feature = "os-keyring")]
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TokenStoreError> + Send + 'static,
) -> Result<T, TokenStoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TokenStoreError::Unexpected(format!("token store task failed: {e}")))?
}

#[cfg(feature = "os-keyring")]
fn keyring_error(err: &keyring::Error) -> TokenStoreError {
    TokenStoreError::Keyring(err.to_string())
}

impl TokenStore {
    /// The OS keyring if it answers, else the file in `profile_dir`: for
    /// the refresh token.
    pub async fn open(profile_dir: &Path, server: &str, username: &str) -> Self {
        Self::open_slot(Slot::RefreshToken, profile_dir, server, username).await
    }

    /// As [`TokenStore::open`], for `slot`.
    pub async fn open_slot(slot: Slot, profile_dir: &Path, server: &str, username: &str) -> Self {
        #[cfg(not(feature = "os-keyring"))]
        let _ = (server, username);
        #[cfg(feature = "os-keyring")]
        if let Some(store) = Self::keyring(slot, server, username, profile_dir).await {
            return store;
        }
        Self::file_slot(slot, profile_dir)
    }

    /// The keyring entry, if the keyring answers and is not turned off.
    #[cfg(feature = "os-keyring")]
    async fn keyring(slot: Slot, server: &str, username: &str, dir: &Path) -> Option<Self> {
        let off = std::env::var(KEYRING_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("off"));
        let account = format!("{username}@{server}");
        let probe = account.clone();
        let service = slot.service();
        let available = !off
            && blocking(move || {
                let entry = keyring::Entry::new(service, &probe).map_err(|e| keyring_error(&e))?;
                match entry.get_secret() {
                    Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(err) => Err(keyring_error(&err)),
                }
            })
            .await
            .inspect_err(|err| tracing::debug!(%err, "no OS keyring; using the profile file"))
            .is_ok();
        available.then_some(Self {
            backend: Backend::Keyring {
                service,
                account,
                file: dir.join(slot.file()),
            },
            notice: None,
        })
    }

    /// The refresh token's file in `profile_dir`, whatever the platform
    /// offers.
    #[cfg(test)]
    pub fn file_only(profile_dir: &Path) -> Self {
        Self::file_slot(Slot::RefreshToken, profile_dir)
    }

    fn file_slot(slot: Slot, profile_dir: &Path) -> Self {
        let path = profile_dir.join(slot.file());
        let notice = (!path.exists()).then(|| slot.notice(&path));
        Self {
            backend: Backend::File(path),
            notice,
        }
    }

    #[cfg(test)]
    pub fn is_keyring(&self) -> bool {
        !matches!(self.backend, Backend::File(_))
    }

    /// The one-time note about the fallback file, while it is new.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub async fn load(&self) -> Result<Option<Vec<u8>>, TokenStoreError> {
        match self.backend.clone() {
            #[cfg(feature = "os-keyring")]
            Backend::Keyring {
                service,
                account,
                file,
            } => {
                let stored = blocking(move || {
                    let entry =
                        keyring::Entry::new(service, &account).map_err(|e| keyring_error(&e))?;
                    match entry.get_secret() {
                        Ok(sealed) => Ok(Some(sealed)),
                        Err(keyring::Error::NoEntry) => Ok(None),
                        Err(err) => Err(keyring_error(&err)),
                    }
                })
                .await?;
                if stored.is_some() {
                    return Ok(stored);
                }
                // Logged in while the keyring did not answer (a session
                // without D-Bus, say): move the token into the keyring now.
                let Some(sealed) = read_file(&file)? else {
                    return Ok(None);
                };
                self.save(&sealed).await?;
                remove_file(&file)?;
                Ok(Some(sealed))
            }
            Backend::File(path) => read_file(&path),
        }
    }

    pub async fn save(&self, sealed: &[u8]) -> Result<(), TokenStoreError> {
        match self.backend.clone() {
            #[cfg(feature = "os-keyring")]
            Backend::Keyring {
                service, account, ..
            } => {
                let sealed = sealed.to_vec();
                blocking(move || {
                    keyring::Entry::new(service, &account)
                        .and_then(|entry| entry.set_secret(&sealed))
                        .map_err(|e| keyring_error(&e))
                })
                .await
            }
            Backend::File(path) => write_private(&path, sealed),
        }
    }

    /// Forgets the token; nothing stored is not an error.
    pub async fn delete(&self) -> Result<(), TokenStoreError> {
        match self.backend.clone() {
            #[cfg(feature = "os-keyring")]
            Backend::Keyring {
                service,
                account,
                file,
            } => {
                blocking(move || {
                    let entry =
                        keyring::Entry::new(service, &account).map_err(|e| keyring_error(&e))?;
                    match entry.delete_credential() {
                        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                        Err(err) => Err(keyring_error(&err)),
                    }
                })
                .await?;
                remove_file(&file)
            }
            Backend::File(path) => remove_file(&path),
        }
    }
}

fn read_file(path: &Path) -> Result<Option<Vec<u8>>, TokenStoreError> {
    match std::fs::read(path) {
        Ok(sealed) => Ok(Some(sealed)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(file_error(path, source)),
    }
}

/// Removing what is not there is not an error.
fn remove_file(path: &Path) -> Result<(), TokenStoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(file_error(path, source)),
    }
}

fn file_error(path: &Path, source: std::io::Error) -> TokenStoreError {
    TokenStoreError::File {
        path: path.display().to_string(),
        source,
    }
}

/// Owner-only, and whole or not at all: a crash while saving leaves the
/// previous token, never a torn file that ends the session.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TokenStoreError> {
    gophkeeper_private_file::write(path, bytes, gophkeeper_private_file::Existing::Replace)
        .map_err(|e| file_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_store_keeps_forgets_and_says_so_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file_only(dir.path());
        assert!(!store.is_keyring());
        assert!(store.notice().unwrap().contains("no OS keyring"));
        assert_eq!(store.load().await.unwrap(), None);
        store.save(b"sealed-1").await.unwrap();
        store.save(b"sealed-2").await.unwrap();
        assert_eq!(
            store.load().await.unwrap().as_deref(),
            Some(&b"sealed-2"[..])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Once the file exists, no more notes.
        assert_eq!(TokenStore::file_only(dir.path()).notice(), None);
        store.delete().await.unwrap();
        store.delete().await.unwrap();
        assert_eq!(store.load().await.unwrap(), None);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_loose_file_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TOKEN_FILE);
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        TokenStore::file_only(dir.path())
            .save(b"new")
            .await
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[tokio::test]
    async fn an_unreadable_file_is_an_error_not_a_missing_token() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: reading it fails.
        std::fs::create_dir(dir.path().join(TOKEN_FILE)).unwrap();
        let store = TokenStore::file_only(dir.path());
        assert!(matches!(
            store.load().await,
            Err(TokenStoreError::File { .. })
        ));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn without_a_keyring_the_file_is_used() {
        // This machine (CI, a container) has no Secret Service; where one
        // exists the keyring is used and this only checks the flag.
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path(), "https://127.0.0.1:1", "nobody").await;
        assert_eq!(store.is_keyring(), store.notice().is_none());
    }
}

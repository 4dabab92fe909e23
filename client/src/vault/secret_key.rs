//! The account's optional Secret Key as a user interface sees it
//! (docs/design.md, "Secret Key"): where a login finds it, where each
//! device keeps it, and turning it on.

use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::{Vault, VaultError, credentials};
use crate::cache::CacheError;
use crate::crypto::{CryptoError, KdfParams, MasterSecret, SecretKey};
use crate::tokens::{Slot, TokenStore};

/// Where a login or registration finds the account's Secret Key.
#[derive(Clone, Default)]
pub enum SecretKeyInput {
    /// The one this profile keeps, if any; a new device that has none
    /// fails with [`CryptoError::SecretKeyNeeded`].
    #[default]
    Stored,
    /// Given: a script's `GOPHKEEPER_SECRET_KEY`, or for a registration
    /// the new key the account is made with.
    Given(SecretKey),
    /// The stored one, else asked for (in the emergency kit's text form)
    /// only when the server says the account has one. `None` gives up.
    Ask(Arc<dyn Fn() -> Option<SecretString> + Send + Sync>),
}

impl std::fmt::Debug for SecretKeyInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Stored => "Stored",
            Self::Given(_) => "Given(<redacted>)",
            Self::Ask(_) => "Ask",
        })
    }
}

impl SecretKeyInput {
    pub(super) fn given(&self) -> Option<&SecretKey> {
        match self {
            Self::Given(key) => Some(key),
            Self::Stored | Self::Ask(_) => None,
        }
    }

    /// The key asked for, once the account turned out to need one. A typo
    /// is an error of its own, not a wrong password.
    pub(super) fn ask(&self) -> Result<Option<SecretKey>, VaultError> {
        let Self::Ask(ask) = self else {
            return Ok(None);
        };
        let Some(text) = ask() else {
            return Ok(None);
        };
        Ok(Some(SecretKey::parse(text.expose_secret())?))
    }
}

/// This device's place for `username`'s Secret Key on `server`.
pub(super) async fn key_store(profile_dir: &Path, server: &str, username: &str) -> TokenStore {
    TokenStore::open_slot(Slot::SecretKey, profile_dir, server, username).await
}

/// The key this device keeps, if any.
pub(super) async fn stored(store: &TokenStore) -> Result<Option<SecretKey>, VaultError> {
    let Some(bytes) = store.load().await? else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| CacheError::Corrupt("the stored Secret Key is not text".into()))?;
    let key = SecretKey::parse(&text)
        .map_err(|_| CacheError::Corrupt("the stored Secret Key is damaged".into()))?;
    Ok(Some(key))
}

/// Keeps `key` (or forgets any, for an account without one).
pub(super) async fn keep(store: &TokenStore, key: Option<&SecretKey>) -> Result<(), VaultError> {
    match key {
        Some(key) => store.save(key.to_text().expose_secret().as_bytes()).await?,
        None => store.delete().await?,
    }
    Ok(())
}

impl Vault {
    /// Whether the account mixes a Secret Key into its password.
    pub fn has_secret_key(&self) -> bool {
        self.profile.kdf.secret_key
    }

    /// The Secret Key this device keeps for the account, for its
    /// emergency kit; `None` for an account without one.
    pub async fn kept_secret_key(&self) -> Result<Option<SecretKey>, VaultError> {
        if !self.profile.kdf.secret_key {
            return Ok(None);
        }
        let store = key_store(
            self.cache.dir(),
            &self.profile.server_url,
            &self.profile.username,
        )
        .await;
        stored(&store).await
    }

    /// The password with the Secret Key this device keeps, if the account
    /// has one.
    pub(super) async fn master_secret(
        &self,
        password: &SecretString,
    ) -> Result<MasterSecret, VaultError> {
        let key = self.kept_secret_key().await?;
        if self.profile.kdf.secret_key && key.is_none() {
            return Err(CryptoError::SecretKeyNeeded.into());
        }
        Ok(MasterSecret::new(password.clone(), key))
    }

    /// Gives the account a Secret Key and returns it for the emergency
    /// kit. The same password is registered again with the key mixed in
    /// (OPAQUE, a new salt) and the vault key re-wrapped; every other
    /// session ends, so that each device logs in again with the key and
    /// re-wraps its own copy under it.
    ///
    /// The key is kept on this device before the server hears of it: if
    /// the change fails half-way, a login finds it there (a kept key is
    /// tried before the person is asked), and if the server never took
    /// it, it is unused and the profile still says the account has none.
    pub async fn enable_secret_key(
        &mut self,
        password: &SecretString,
    ) -> Result<SecretKey, VaultError> {
        if self.profile.kdf.secret_key {
            return Err(VaultError::SecretKeyAlreadyOn);
        }
        self.no_rotation_pending().await?;
        let proof = self.password_proof(password).await?;
        let key = SecretKey::generate();
        let new_kdf = KdfParams {
            secret_key: true,
            ..KdfParams::generate_at_least(&self.profile.kdf, &self.profile.username)
        };
        let store = key_store(
            self.cache.dir(),
            &self.profile.server_url,
            &self.profile.username,
        )
        .await;
        keep(&store, Some(&key)).await?;
        let secret = MasterSecret::new(password.clone(), Some(key.clone()));
        let local =
            credentials::set_password(&self.session, &secret, &new_kdf, &self.key, &proof, false)
                .await?;
        self.profile.kdf = new_kdf;
        self.profile.wrapped_vault_key = local.wrap(&self.key);
        self.cache.save_profile(&self.profile).await?;
        self.secret_key_notice = store.notice().map(str::to_owned);
        Ok(key)
    }
}

//! Vault-key rotation (docs/design.md, "Vault-key rotation"): a new vault
//! key as the next key epoch, every live record re-sealed under it, the
//! older keys kept (wrapped under the new one) so that whatever they
//! sealed stays readable, and every other session ended.
//!
//! Order, so that a crash or a lost connection at any point leaves no
//! record readable only by a key nobody has:
//! 1. the new keys are written to this device's profile as pending
//!    (wrapped under its own key-encryption key);
//! 2. the server takes them in one write (with the same password, like a
//!    password change), which ends every other session;
//! 3. the profile takes them as its keys and forgets the pending copy;
//! 4. only now is anything sealed under the new epoch: the sync re-seals
//!    every record below it, and resumes at every later sync.
//!
//! A rotation cut off before step 3 resumes with the same keys
//! ([`Vault::rotate_key`] again, which the CLI runs when it unlocks such
//! a profile); a login instead takes the server's keys, which then hold
//! everything anything was sealed under.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::{REFRESH_TOKEN_PURPOSE, Vault, VaultError, credentials, token_listener};
use crate::crypto::{LocalKey, VaultKeys};
use crate::sync::SyncReport;

/// Where a rotation stops early, as a crash there would (for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStop {
    /// The new keys are pending on this device; the server has not heard.
    BeforeServer,
    /// The server took the new keys; this device still seals under the old.
    AfterServer,
}

/// What a finished rotation did.
#[derive(Debug)]
pub struct Rotated {
    /// The key epoch everything is now sealed under.
    pub epoch: u32,
    /// The sync that re-sealed the records (offline leaves them queued).
    pub sync: SyncReport,
    /// Live records still sealed under an older epoch: queued, or left to
    /// a later sync.
    pub left: usize,
}

impl Vault {
    /// The key epoch this device seals under.
    pub fn key_epoch(&self) -> u32 {
        self.key.epoch()
    }

    /// How many live records this device holds sealed under a key epoch
    /// older than the current one (format 1 counts as epoch 1).
    pub async fn records_below_epoch(&self) -> Result<usize, VaultError> {
        let epoch = self.key.epoch();
        if epoch == 1 {
            return Ok(0);
        }
        let below = self.cache.records_below_epoch(epoch).await?.len();
        Ok(below + self.cache.format_1_records().await?.len())
    }

    /// Whether a rotation this device started stopped before it knew the
    /// server took it: [`Vault::rotate_key`] finishes it.
    pub async fn rotation_pending(&self) -> Result<bool, VaultError> {
        Ok(self.cache.pending_vault_keys().await?.is_some())
    }

    /// Refuses a change that re-wraps the keys while a rotation is
    /// pending: this device might not hold the keys the server has.
    pub(super) async fn no_rotation_pending(&self) -> Result<(), VaultError> {
        if self.rotation_pending().await? {
            return Err(VaultError::RotationPending);
        }
        Ok(())
    }

    /// Rotates the vault key (or finishes a rotation that stopped
    /// half-way, with the same new key). Needs the master password and the
    /// server; ends every other session.
    pub async fn rotate_key(&mut self, password: &SecretString) -> Result<Rotated, VaultError> {
        self.rotate(password, None)
            .await?
            .ok_or_else(|| VaultError::Unexpected("a rotation stopped early".into()))
    }

    /// [`Vault::rotate_key`] stopped at `stop`, for tests that crash it
    /// there.
    #[cfg(feature = "internals")]
    pub async fn rotate_key_until(
        &mut self,
        password: &SecretString,
        stop: RotationStop,
    ) -> Result<(), VaultError> {
        self.rotate(password, Some(stop)).await.map(drop)
    }

    async fn rotate(
        &mut self,
        password: &SecretString,
        stop: Option<RotationStop>,
    ) -> Result<Option<Rotated>, VaultError> {
        let secret = self.master_secret(password).await?;
        let (proof, local) = credentials::prove(
            &self.session,
            &self.profile.username,
            &secret,
            &self.profile.kdf,
            &self.profile.wrapped_vault_key,
        )
        .await?;
        let new = match self.cache.pending_vault_keys().await? {
            Some(pending) => local.unwrap(&pending)?,
            None => {
                let new = self.key.rotated()?;
                self.cache
                    .set_pending_vault_keys(Some(&local.wrap(&new)))
                    .await?;
                new
            }
        };
        if stop == Some(RotationStop::BeforeServer) {
            return Ok(None);
        }
        // The same password and parameters: only the wrapped keys change.
        credentials::set_password(
            &self.session,
            &secret,
            &self.profile.kdf,
            &new,
            &proof,
            false,
        )
        .await?;
        if stop == Some(RotationStop::AfterServer) {
            return Ok(None);
        }
        self.profile.wrapped_vault_key = local.wrap(&new);
        self.cache.save_profile(&self.profile).await?;
        self.cache.set_pending_vault_keys(None).await?;
        self.use_keys(new).await?;
        let sync = self.engine.sync().await?;
        Ok(Some(Rotated {
            epoch: self.key.epoch(),
            sync,
            left: self.records_below_epoch().await?,
        }))
    }

    /// Seals under `keys` from now on: a new sync engine, and this
    /// device's refresh token sealed again under the key derived from the
    /// new vault key. Live updates stop; the caller restarts them.
    async fn use_keys(&mut self, keys: VaultKeys) -> Result<(), VaultError> {
        let keys = Arc::new(keys);
        let local_key = Arc::new(LocalKey::derive(keys.current()));
        if let Some(refresh) = self.session.refresh_token().await {
            let sealed = local_key.seal(REFRESH_TOKEN_PURPOSE, refresh.expose_secret().as_bytes());
            self.tokens.save(&sealed).await?;
        }
        self.session
            .set_token_listener(Some(token_listener(self.tokens.clone(), local_key)));
        self.engine =
            Self::engine_for(&self.cache, &self.session, &keys, self.profile.user_id).await?;
        self.key = keys;
        self.watch = None;
        Ok(())
    }
}

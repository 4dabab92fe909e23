//! Account-level actions of an unlocked vault: sessions, password change,
//! logout, live updates and status.

use secrecy::SecretString;
use tokio::sync::mpsc;

use super::{TamperAlert, Vault, VaultError, check_master_password, credentials};
use crate::crypto::KdfParams;
use crate::session::DeviceSession;
use crate::sync::SyncEvent;

/// Where a vault stands, for a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultStatus {
    pub server: String,
    pub username: String,
    pub user_id: uuid::Uuid,
    /// Whether the last call reached the server.
    pub online: bool,
    /// Whether this device holds a session (it may still turn out revoked).
    pub logged_in: bool,
    pub pending: usize,
    pub conflicts: usize,
    /// Records the sync refused as tampered with (each counted once).
    pub tampered: usize,
    /// Milliseconds since the Unix epoch.
    pub last_sync_ms: Option<i64>,
    /// Whether live updates are running.
    pub watching: bool,
}

impl Vault {
    pub async fn sessions(&self) -> Result<Vec<DeviceSession>, VaultError> {
        Ok(self.session.list_sessions().await?)
    }

    pub async fn revoke_session(&self, session_id: &str) -> Result<(), VaultError> {
        Ok(self.session.revoke_session(session_id).await?)
    }

    /// Registers the new password (OPAQUE, a new salt, parameters no lower)
    /// and re-wraps the same vault key under keys from it; no record is
    /// re-encrypted. The server revokes every other session, so other
    /// devices must log in again with the new password. A Secret Key
    /// stays as it is.
    pub async fn change_password(
        &mut self,
        current: &SecretString,
        new: &SecretString,
    ) -> Result<(), VaultError> {
        // Before anything is derived, written or sent.
        check_master_password(new, &self.profile.username)?;
        self.no_rotation_pending().await?;
        let proof = self.password_proof(current).await?;
        // The Secret Key stays: it is the account's, not the password's.
        let new = self
            .master_secret(current)
            .await?
            .with_password(new.clone());
        let new_kdf = KdfParams::generate_at_least(&self.profile.kdf, &self.profile.username);
        let local =
            credentials::set_password(&self.session, &new, &new_kdf, &self.key, &proof, false)
                .await?;
        self.profile.kdf = new_kdf;
        self.profile.wrapped_vault_key = local.wrap(&self.key);
        self.cache.save_profile(&self.profile).await?;
        Ok(())
    }

    /// Ends this device's session and forgets its refresh token. The cache
    /// stays, so the vault still unlocks offline; syncing needs a login.
    pub async fn logout(self) -> Result<(), VaultError> {
        let result = self.session.logout().await;
        self.tokens.delete().await?;
        self.cache.set_sealed_refresh_token(None).await?;
        match result {
            Ok(()) => Ok(()),
            // Already over on the server: logged out is what was wanted.
            Err(err) if err.needs_login() => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Starts live updates (if not running) and returns their events.
    /// Calling it again replaces the previous receiver.
    pub fn watch(&mut self) -> mpsc::Receiver<SyncEvent> {
        let (sender, receiver) = mpsc::channel(64);
        self.watch = Some(self.engine.watch(sender));
        receiver
    }

    pub fn stop_watching(&mut self) {
        self.watch = None;
    }

    /// Every record the sync refused as tampered with, oldest first.
    pub async fn tamper_alerts(&self) -> Result<Vec<TamperAlert>, VaultError> {
        Ok(self.cache.tamper_alerts().await?)
    }

    pub async fn status(&self) -> Result<VaultStatus, VaultError> {
        let state = self.cache.sync_state().await?;
        Ok(VaultStatus {
            server: self.profile.server_url.clone(),
            username: self.profile.username.clone(),
            user_id: self.profile.user_id,
            online: self.session.is_online(),
            logged_in: self.session.has_tokens().await,
            pending: state.pending,
            conflicts: self.cache.conflicts().await?.len(),
            tampered: self.cache.tampered_records().await?,
            last_sync_ms: state.last_sync_ms,
            watching: self.watch.as_ref().is_some_and(|w| w.is_running()),
        })
    }
}

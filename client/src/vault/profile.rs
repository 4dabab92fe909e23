//! A profile read without the master password: who it belongs to, whether
//! this device still holds a session, what waits to be pushed, and whether
//! the server answers. None of it is secret; `status` shows it and the
//! full-screen vault greets the person with it.

use std::path::Path;
use std::time::Duration;

use crate::cache::{CACHE_FILE, Cache, Profile};
use crate::session::Session;
use crate::tokens::TokenStore;
use crate::transport::{ServerUrl, Transport};

use super::{VaultError, stored_token};

/// What `status` reports.
#[derive(Debug)]
pub struct ProfileStatus {
    pub profile: Profile,
    /// This device holds a refresh token (keyring, token file, or the
    /// sealed copy of older profiles): it can sync without a new login,
    /// unless the session was revoked meanwhile.
    pub logged_in: bool,
    /// The server answered a health check within the timeout.
    pub online: bool,
    /// Changes queued on this device, not yet accepted by the server.
    pub pending: usize,
    pub conflicts: usize,
    /// Records the sync refused as tampered with, each counted once
    /// (`verify` lists them).
    pub tampered: usize,
    /// Milliseconds since the Unix epoch.
    pub last_sync_ms: Option<i64>,
}

/// Whether `dir` holds a profile (without opening it).
pub fn profile_exists(dir: &Path) -> bool {
    dir.join(CACHE_FILE).exists()
}

/// The profile in `dir` as stored; `None` if there is none.
pub async fn stored_profile(dir: &Path) -> Result<Option<Profile>, VaultError> {
    if !profile_exists(dir) {
        return Ok(None);
    }
    let cache = Cache::open(dir).await?;
    let profile = cache.profile().await;
    cache.close().await;
    Ok(profile?)
}

/// The profile in `dir` with its session, queue and reachability; `None`
/// if there is none. Waits at most `ping_timeout` for the server.
pub async fn profile_status(
    dir: &Path,
    ping_timeout: Duration,
) -> Result<Option<ProfileStatus>, VaultError> {
    if !profile_exists(dir) {
        return Ok(None);
    }
    let cache = Cache::open(dir).await?;
    let status = read_status(dir, &cache, ping_timeout).await;
    cache.close().await;
    status
}

async fn read_status(
    dir: &Path,
    cache: &Cache,
    ping_timeout: Duration,
) -> Result<Option<ProfileStatus>, VaultError> {
    let Some(profile) = cache.profile().await? else {
        return Ok(None);
    };
    let state = cache.sync_state().await?;
    let tokens = TokenStore::open(dir, &profile.server_url, &profile.username).await;
    let logged_in = stored_token(&tokens, cache).await?.is_some();
    Ok(Some(ProfileStatus {
        logged_in,
        online: reachable(&profile, ping_timeout).await,
        pending: state.pending,
        conflicts: cache.conflicts().await?.len(),
        tampered: cache.tampered_records().await?,
        last_sync_ms: state.last_sync_ms,
        profile,
    }))
}

async fn reachable(profile: &Profile, timeout: Duration) -> bool {
    let Ok(server) = ServerUrl::parse(&profile.server_url) else {
        return false;
    };
    let Ok(transport) = Transport::open(server, profile.trust.clone()).await else {
        return false;
    };
    let session = Session::new(transport);
    matches!(
        tokio::time::timeout(timeout, session.ping()).await,
        Ok(Ok(()))
    )
}

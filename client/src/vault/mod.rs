//! The one type a user interface needs: a [`Vault`] is an unlocked profile.
//! It reads from the local cache (so it works offline), writes through the
//! local queue and then tries to push (offline is not an error: the change
//! stays queued), and keeps the vault key only while it is alive: dropping
//! it or calling [`Vault::lock`] wipes the keys. Decrypted items are handed
//! out, never kept; they wipe themselves when dropped.

mod account;
mod audit;
mod credentials;
mod device;
mod items;
mod profile;
mod rotation;
mod secret_key;
mod strength;
mod two_factor;
mod verify;

use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

pub use self::account::VaultStatus;
pub use self::audit::{
    AuditItem, AuditReport, OLD_PASSWORD_DAYS, OldLogin, WeakLogin, audit, audit_at,
};
pub use self::device::device_name;
pub use self::items::{ConflictView, Entry, EntryState, Listing, Resolved, Saved, Unreadable};
pub use self::profile::{ProfileStatus, profile_exists, profile_status, stored_profile};
pub use self::rotation::{Rotated, RotationStop};
pub use self::secret_key::SecretKeyInput;
pub use self::strength::{
    MIN_MASTER_PASSWORD_CHARS, MIN_SCORE, WeakPassword, check_master_password,
};
pub use self::two_factor::{SecondFactor, TwoFactorSetup, TwoFactorStatus};
pub use self::verify::{Finding, Place, Problem, VerifyReport};
// The types a user interface names when it uses a vault.
pub use crate::cache::{Profile, TamperAlert, TamperKind, default_profile_dir};
pub use crate::crypto::{CryptoError, SecretKey};
pub use crate::session::{ApiError, DeviceSession, LoginReason};
pub use crate::sync::{Resolution, SyncEvent, SyncReport};
pub use crate::transport::{
    DEFAULT_SERVER_URL, Fingerprint, ServerUrl, TransportError, Trust, TrustRequest,
};

use crate::cache::{Cache, CacheError};
use crate::crypto::{KdfParams, LocalKey, MasterKey, MasterSecret, VaultKey, VaultKeys};
use crate::item::ItemError;
use crate::session::{Session, TokenListener, TokenUpdate};
use crate::sync::{Sealer, SyncEngine, SyncError, WatchHandle};
use crate::tokens::{TokenStore, TokenStoreError};
use crate::transport::{Transport, establish_trust};

/// The purpose label the refresh token is sealed under in the cache.
const REFRESH_TOKEN_PURPOSE: &str = "refresh-token";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("wrong master password")]
    WrongPassword,
    #[error(transparent)]
    WeakPassword(#[from] WeakPassword),
    #[error("this account already has a Secret Key (its emergency kit has it)")]
    SecretKeyAlreadyOn,
    #[error(
        "a vault-key rotation on this device stopped half-way; finish it first \
         (gophkeeper rotate-key)"
    )]
    RotationPending,
    #[error("no profile in {path}; log in or register first")]
    NoProfile { path: String },
    #[error("the profile in {path} belongs to {username}; use another profile directory")]
    ProfileInUse { path: String, username: String },
    #[error("no item {0:?}")]
    NotFound(String),
    #[error("{} items are named {name:?}; use an id instead: {}", ids.len(), list_ids(ids))]
    Ambiguous { name: String, ids: Vec<Uuid> },
    #[error("item {0} has an unresolved conflict; resolve it first")]
    InConflict(Uuid),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Item(#[from] ItemError),
    #[error("{0}; this client may need an update")]
    UnknownKind(#[from] crate::item::UnknownKind),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{0}")]
    Sync(String),
    #[error(transparent)]
    Tokens(#[from] TokenStoreError),
    #[error("internal error: {0}")]
    Unexpected(String),
}

fn list_ids(ids: &[Uuid]) -> String {
    ids.iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl VaultError {
    /// Whether this device's session is over (logged out, revoked from
    /// another device, or the password changed elsewhere): the person must
    /// log in again; retrying will not help.
    pub fn needs_login(&self) -> bool {
        matches!(self, Self::Api(api) if api.needs_login())
    }
}

impl From<SyncError> for VaultError {
    fn from(err: SyncError) -> Self {
        match err {
            SyncError::Api(api) => Self::Api(api),
            SyncError::Cache(cache) => Self::Cache(cache),
            SyncError::Crypto(crypto) => Self::Crypto(crypto),
            SyncError::Resolve(message) => Self::Sync(message),
        }
    }
}

/// Where and how to reach the server when logging in or registering.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub server: ServerUrl,
    /// `Auto` reuses the profile's stored trust for the same server, else
    /// tries the system roots and then asks.
    pub trust: TrustRequest,
    /// Shown in the sessions list.
    pub device_name: String,
    /// For an account with two-factor login on.
    pub second_factor: SecondFactor,
    /// For an account with a Secret Key; at registration, `Given` makes
    /// the account with that key.
    pub secret_key: SecretKeyInput,
}

impl ConnectOptions {
    pub fn new(server: ServerUrl) -> Self {
        Self {
            server,
            trust: TrustRequest::Auto,
            device_name: device_name("gophkeeper client"),
            second_factor: SecondFactor::None,
            secret_key: SecretKeyInput::Stored,
        }
    }
}

/// An unlocked profile.
pub struct Vault {
    cache: Cache,
    session: Arc<Session>,
    engine: Arc<SyncEngine>,
    key: Arc<VaultKeys>,
    profile: Profile,
    tokens: TokenStore,
    watch: Option<WatchHandle>,
    /// What the sync right after logging in refused.
    login_tampered: Vec<TamperAlert>,
    /// Set when the Secret Key first went to a file (no OS keyring).
    secret_key_notice: Option<String>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Drop for Vault {
    fn drop(&mut self) {
        // The listener holds a copy of the token-sealing key; let it go now
        // rather than when the last background task notices.
        self.session.set_token_listener(None);
    }
}

/// Where this device's sealed refresh token is.
enum StoredToken {
    /// The token store (OS keyring or the profile's token file).
    InStore(Vec<u8>),
    /// The cache, in a profile from before the keyring; unlocking moves
    /// it to the store.
    InCache(Vec<u8>),
}

async fn stored_token(
    tokens: &TokenStore,
    cache: &Cache,
) -> Result<Option<StoredToken>, VaultError> {
    if let Some(sealed) = tokens.load().await? {
        return Ok(Some(StoredToken::InStore(sealed)));
    }
    Ok(cache
        .sealed_refresh_token()
        .await?
        .map(StoredToken::InCache))
}

/// Argon2id takes a fraction of a second of CPU and 64 MiB: off the async
/// workers.
async fn derive(secret: &MasterSecret, kdf: &KdfParams) -> Result<MasterKey, VaultError> {
    let secret = secret.clone();
    let kdf = kdf.clone();
    tokio::task::spawn_blocking(move || MasterKey::derive_secret(&secret, &kdf))
        .await
        .map_err(|e| VaultError::Unexpected(format!("key derivation task failed: {e}")))?
        .map_err(VaultError::Crypto)
}

fn path_text(dir: &Path) -> String {
    dir.display().to_string()
}

fn token_listener(tokens: TokenStore, local_key: Arc<LocalKey>) -> TokenListener {
    Arc::new(move |update: TokenUpdate| {
        let tokens = tokens.clone();
        let local_key = local_key.clone();
        Box::pin(async move {
            let sealed = local_key.seal(
                REFRESH_TOKEN_PURPOSE,
                update.refresh_token.expose_secret().as_bytes(),
            );
            if let Err(err) = tokens.save(&sealed).await {
                tracing::warn!(%err, "could not store the rotated refresh token");
            }
        })
    })
}

impl Vault {
    /// Makes a new account and logs this device in. The profile directory
    /// must not hold another account.
    pub async fn register(
        options: &ConnectOptions,
        profile_dir: &Path,
        username: &str,
        password: &SecretString,
        ask: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Self, VaultError> {
        // Before anything is written or sent.
        check_master_password(password, username)?;
        let cache = Cache::open(profile_dir).await?;
        if let Some(existing) = cache.profile().await? {
            return Err(VaultError::ProfileInUse {
                path: path_text(profile_dir),
                username: existing.username,
            });
        }
        let trust = establish_trust(&options.server, &options.trust, ask).await?;
        let transport = Transport::open(options.server.clone(), trust).await?;
        let session = Arc::new(Session::new(transport));
        let secret_key = options.secret_key.given().cloned();
        let kdf = KdfParams {
            secret_key: secret_key.is_some(),
            ..KdfParams::generate_for(username)
        };
        let secret = MasterSecret::new(password.clone(), secret_key);
        let vault_key = VaultKeys::first(VaultKey::generate());
        credentials::register(&session, username, &secret, &kdf, &vault_key).await?;
        let signed_in =
            credentials::log_in(&session, username, &secret, None, Some(&kdf), options).await?;
        Self::finish_login(cache, session, options, username, signed_in).await
    }

    /// Logs this device in. An existing profile of the same account keeps
    /// its cache and queue (e.g. after a password change elsewhere).
    pub async fn login(
        options: &ConnectOptions,
        profile_dir: &Path,
        username: &str,
        password: &SecretString,
        ask: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Self, VaultError> {
        let cache = Cache::open(profile_dir).await?;
        let existing = cache.profile().await?;
        let request = match (&existing, &options.trust) {
            (Some(profile), TrustRequest::Auto)
                if profile.server_url == options.server.as_str() =>
            {
                TrustRequest::Configured(profile.trust.clone())
            }
            _ => options.trust.clone(),
        };
        let trust = establish_trust(&options.server, &request, ask).await?;
        let transport = Transport::open(options.server.clone(), trust).await?;
        let session = Arc::new(Session::new(transport));
        let known = existing
            .as_ref()
            .filter(|p| p.server_url == options.server.as_str() && p.username == username)
            .map(|p| &p.kdf);
        let kept = secret_key::stored(
            &secret_key::key_store(cache.dir(), options.server.as_str(), username).await,
        )
        .await?;
        // A kept key is used from the start only where the profile knows
        // the account has one; otherwise only if the server asks for one.
        let (first, kept) = match (options.secret_key.given(), known) {
            (Some(given), _) => (Some(given.clone()), None),
            (None, Some(known)) if known.secret_key => (kept, None),
            (None, _) => (None, kept),
        };
        let secret = MasterSecret::new(password.clone(), first);
        let signed_in =
            credentials::log_in(&session, username, &secret, kept, known, options).await?;
        if let Some(profile) = &existing
            && profile.user_id != signed_in.login.user_id
        {
            let _ = session.logout().await;
            return Err(VaultError::ProfileInUse {
                path: path_text(profile_dir),
                username: profile.username.clone(),
            });
        }
        Self::finish_login(cache, session, options, username, signed_in).await
    }

    async fn finish_login(
        cache: Cache,
        session: Arc<Session>,
        options: &ConnectOptions,
        username: &str,
        signed_in: credentials::SignedIn,
    ) -> Result<Self, VaultError> {
        let credentials::SignedIn {
            login,
            vault_key: key,
            secret_key,
        } = signed_in;
        let profile = Profile {
            server_url: options.server.as_str().to_owned(),
            username: username.to_owned(),
            user_id: login.user_id,
            device_name: options.device_name.clone(),
            kdf: login.kdf,
            wrapped_vault_key: login.wrapped_vault_key,
            trust: session.transport().trust().clone(),
        };
        let key_store = secret_key::key_store(cache.dir(), &profile.server_url, username).await;
        // Before the profile that needs it.
        secret_key::keep(&key_store, secret_key.as_ref()).await?;
        let secret_key_notice = secret_key
            .is_some()
            .then(|| key_store.notice().map(str::to_owned))
            .flatten();
        cache.save_profile(&profile).await?;
        // The server's keys hold every key anything was sealed under: a
        // rotation this device left half-way is over either way.
        cache.set_pending_vault_keys(None).await?;
        let local_key = Arc::new(LocalKey::derive(key.current()));
        let tokens = TokenStore::open(cache.dir(), &profile.server_url, username).await;
        if let Some(refresh) = session.refresh_token().await {
            let sealed = local_key.seal(REFRESH_TOKEN_PURPOSE, refresh.expose_secret().as_bytes());
            tokens.save(&sealed).await?;
            // Profiles made before the keyring kept it in the cache.
            cache.set_sealed_refresh_token(None).await?;
        }
        let mut vault = Self::assemble(cache, session, key, local_key, profile, tokens).await?;
        vault.secret_key_notice = secret_key_notice;
        // A first sync is a courtesy: offline right after login is possible.
        match vault.engine.sync().await {
            Ok(report) => vault.login_tampered = report.tampered,
            Err(err) => tracing::warn!(%err, "first sync after login failed"),
        }
        Ok(vault)
    }

    async fn assemble(
        cache: Cache,
        session: Arc<Session>,
        key: VaultKeys,
        local_key: Arc<LocalKey>,
        profile: Profile,
        tokens: TokenStore,
    ) -> Result<Self, VaultError> {
        let key = Arc::new(key);
        session.set_token_listener(Some(token_listener(tokens.clone(), local_key)));
        let engine = Self::engine_for(&cache, &session, &key, profile.user_id).await?;
        Ok(Self {
            cache,
            session,
            engine,
            key,
            profile,
            tokens,
            watch: None,
            login_tampered: Vec::new(),
            secret_key_notice: None,
        })
    }

    async fn engine_for(
        cache: &Cache,
        session: &Arc<Session>,
        keys: &Arc<VaultKeys>,
        user_id: Uuid,
    ) -> Result<Arc<SyncEngine>, VaultError> {
        let sealer = Sealer::new(keys.clone(), user_id, cache.device_id().await?);
        Ok(Arc::new(SyncEngine::new(
            cache.clone(),
            session.clone(),
            Arc::new(sealer),
        )))
    }

    /// Opens a profile with the master password alone, without the network:
    /// the KDF parameters and the wrapped vault key come from the cache.
    pub async fn unlock(profile_dir: &Path, password: &SecretString) -> Result<Self, VaultError> {
        if !profile_dir.join(crate::cache::CACHE_FILE).exists() {
            return Err(VaultError::NoProfile {
                path: path_text(profile_dir),
            });
        }
        let cache = Cache::open(profile_dir).await?;
        let profile = cache
            .profile()
            .await?
            .ok_or_else(|| VaultError::NoProfile {
                path: path_text(profile_dir),
            })?;
        let kept = if profile.kdf.secret_key {
            let store =
                secret_key::key_store(profile_dir, &profile.server_url, &profile.username).await;
            Some(
                secret_key::stored(&store)
                    .await?
                    .ok_or(CryptoError::SecretKeyNeeded)?,
            )
        } else {
            None
        };
        let master = derive(&MasterSecret::new(password.clone(), kept), &profile.kdf).await?;
        let key = master
            .key_encryption_key()
            .unwrap(&profile.wrapped_vault_key)
            .map_err(|_| VaultError::WrongPassword)?;
        let server = ServerUrl::parse(&profile.server_url)?;
        let transport = Transport::open(server, profile.trust.clone()).await?;
        let session = Arc::new(Session::new(transport));
        let local_key = Arc::new(LocalKey::derive(key.current()));
        let tokens = TokenStore::open(profile_dir, &profile.server_url, &profile.username).await;
        let sealed = match stored_token(&tokens, &cache).await? {
            Some(StoredToken::InStore(sealed)) => Some(sealed),
            Some(StoredToken::InCache(sealed)) => {
                tokens.save(&sealed).await?;
                cache.set_sealed_refresh_token(None).await?;
                Some(sealed)
            }
            None => None,
        };
        if let Some(sealed) = sealed {
            match local_key.open(REFRESH_TOKEN_PURPOSE, &sealed) {
                Ok(token) => {
                    let token = String::from_utf8(token.to_vec())
                        .map_err(|_| CacheError::Corrupt("the refresh token is not text".into()))?;
                    session.resume(SecretString::from(token)).await;
                }
                Err(_) => tracing::warn!("the stored refresh token does not open; log in again"),
            }
        }
        Self::assemble(cache, session, key, local_key, profile, tokens).await
    }

    /// Wipes the keys and stops live updates. Same as dropping the vault.
    pub fn lock(self) {}

    pub fn user_id(&self) -> Uuid {
        self.profile.user_id
    }

    pub fn username(&self) -> &str {
        &self.profile.username
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Where this device's refresh token is kept.
    #[cfg(feature = "internals")]
    pub fn token_store(&self) -> &TokenStore {
        &self.tokens
    }

    /// What the sync run by [`Vault::login`] or [`Vault::register`]
    /// refused: a new device finds withheld records there.
    pub fn login_tampered(&self) -> &[TamperAlert] {
        &self.login_tampered
    }

    /// Set once, when the token or the Secret Key first went to a file
    /// because there is no OS keyring: the person should hear of it.
    pub fn storage_notices(&self) -> Vec<&str> {
        self.tokens
            .notice()
            .into_iter()
            .chain(self.secret_key_notice.as_deref())
            .collect()
    }

    /// The sync engine, for callers that drive sync themselves.
    #[cfg(feature = "internals")]
    pub fn engine(&self) -> &Arc<SyncEngine> {
        &self.engine
    }
}

//! An API session with the gateway: account calls (register, prelogin,
//! login, sessions, password change, logout) and the vault calls the sync
//! engine makes, with the access token attached and refreshed by itself.
//!
//! Tokens: the short-lived access token lives only in memory; the refresh
//! token rotates on every use, so the session reports each new one to a
//! [`TokenListener`] (the vault seals it into the profile) before using it.
//! Refreshes are single-flight: two calls that find the token expired at
//! once must not both present the same refresh token, or the server would
//! take it for theft and revoke the session.

mod account;
mod error;
mod vault_calls;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use gophkeeper_proto::v1::vault_client::VaultClient;
use secrecy::{ExposeSecret, SecretString};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Request, Status};
use uuid::Uuid;
use zeroize::Zeroizing;

pub use self::error::{ApiError, LoginReason};
use crate::crypto::{AuthKey, KdfParams};
use crate::transport::{MAX_MESSAGE_BYTES, Transport};

/// Refresh this long before the access token expires, so that a call is
/// never sent with a token that dies in flight.
const REFRESH_MARGIN_MS: i64 = 30_000;
/// Deadline of an ordinary call.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A new refresh token, to be stored. `Debug` hides the token.
pub struct TokenUpdate {
    pub refresh_token: SecretString,
    pub refresh_expires_at_ms: i64,
}

impl std::fmt::Debug for TokenUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenUpdate")
            .field("refresh_token", &"<redacted>")
            .field("refresh_expires_at_ms", &self.refresh_expires_at_ms)
            .finish()
    }
}

/// Called with every rotated refresh token, before the session goes on.
pub type TokenListener =
    Arc<dyn Fn(TokenUpdate) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// What a successful login hands back.
/// The server's answer to a login's first round trip.
pub struct LoginStart {
    pub login_id: Vec<u8>,
    pub credential_response: Vec<u8>,
    /// Already validated against this client's floor and ceiling.
    pub kdf: KdfParams,
    /// The account has not moved to OPAQUE: log in with the auth key.
    pub legacy: bool,
}

impl std::fmt::Debug for LoginStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginStart")
            .field("kdf", &self.kdf)
            .field("legacy", &self.legacy)
            .finish_non_exhaustive()
    }
}

/// Proof of the account's password for a sensitive change.
pub enum PasswordProof {
    /// A login of this account started and finished for the change.
    Opaque {
        login_id: Vec<u8>,
        finalization: Vec<u8>,
    },
    /// An account not yet moved to OPAQUE.
    Legacy(AuthKey),
}

impl std::fmt::Debug for PasswordProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Opaque { .. } => "PasswordProof::Opaque(<redacted>)",
            Self::Legacy(_) => "PasswordProof::Legacy(<redacted>)",
        })
    }
}

impl From<&PasswordProof> for v1::PasswordProof {
    fn from(proof: &PasswordProof) -> Self {
        use v1::password_proof::Proof;
        Self {
            proof: Some(match proof {
                PasswordProof::Opaque {
                    login_id,
                    finalization,
                } => Proof::Opaque(v1::OpaqueProof {
                    login_id: login_id.clone(),
                    credential_finalization: finalization.clone(),
                }),
                PasswordProof::Legacy(key) => Proof::LegacyAuthKey(key.as_bytes().to_vec()),
            }),
        }
    }
}

pub struct LoginOutcome {
    pub user_id: Uuid,
    pub session_id: String,
    /// The vault key under this user's key-encryption key.
    pub wrapped_vault_key: Vec<u8>,
    /// Already validated: a login answer cannot downgrade the KDF either.
    pub kdf: KdfParams,
}

impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOutcome")
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("kdf", &self.kdf)
            .finish_non_exhaustive()
    }
}

/// One signed-in device of the user, as `sessions` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSession {
    pub session_id: String,
    pub device_name: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    /// The session this device is using.
    pub current: bool,
}

#[derive(Default)]
struct Tokens {
    access: Option<SecretString>,
    access_expires_at_ms: i64,
    refresh: Option<SecretString>,
    /// Bumped on every change, so a caller that saw an expired token can
    /// tell whether someone else already refreshed it.
    generation: u64,
}

pub struct Session {
    transport: Transport,
    account: AccountClient<Channel>,
    vault: VaultClient<Channel>,
    tokens: tokio::sync::Mutex<Tokens>,
    listener: Mutex<Option<TokenListener>>,
    online: AtomicBool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.transport.server().as_str())
            .field("online", &self.online.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn request<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(CALL_TIMEOUT);
    request
}

impl Session {
    /// A session with no tokens yet: only the account calls that need none
    /// work until [`Session::login`] or [`Session::resume`].
    pub fn new(transport: Transport) -> Self {
        let channel = transport.channel();
        Self {
            account: AccountClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            vault: VaultClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            transport,
            tokens: tokio::sync::Mutex::new(Tokens::default()),
            listener: Mutex::new(None),
            online: AtomicBool::new(false),
        }
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Whether the last call reached the server.
    pub fn is_online(&self) -> bool {
        self.online.load(Ordering::Relaxed)
    }

    pub fn set_token_listener(&self, listener: Option<TokenListener>) {
        *self.listener.lock().unwrap_or_else(PoisonError::into_inner) = listener;
    }

    /// Continues a stored session from its refresh token; the first call
    /// trades it for an access token.
    pub async fn resume(&self, refresh_token: SecretString) {
        let mut tokens = self.tokens.lock().await;
        *tokens = Tokens {
            refresh: Some(refresh_token),
            generation: tokens.generation + 1,
            ..Tokens::default()
        };
    }

    /// The current refresh token, for the caller to store.
    pub async fn refresh_token(&self) -> Option<SecretString> {
        self.tokens.lock().await.refresh.clone()
    }

    pub async fn has_tokens(&self) -> bool {
        self.tokens.lock().await.refresh.is_some()
    }

    /// Forgets the tokens without telling the server.
    pub async fn forget_tokens(&self) {
        let mut tokens = self.tokens.lock().await;
        *tokens = Tokens {
            generation: tokens.generation + 1,
            ..Tokens::default()
        };
    }

    fn error(&self, status: &Status) -> ApiError {
        let err = ApiError::from_status(status, &self.transport);
        self.online.store(
            !matches!(err, ApiError::Unavailable { .. } | ApiError::Transport(_)),
            Ordering::Relaxed,
        );
        err
    }

    /// Makes the next send of a fresh command check reachability first
    /// (e.g. after a stream broke without a status).
    pub(crate) fn mark_offline(&self) {
        self.online.store(false, Ordering::Relaxed);
    }

    fn ok(&self) {
        self.online.store(true, Ordering::Relaxed);
    }

    /// A valid access token, refreshing first if it is missing or about to
    /// expire. Returns the token generation it belongs to.
    async fn bearer(&self) -> Result<(MetadataValue<tonic::metadata::Ascii>, u64), ApiError> {
        let mut tokens = self.tokens.lock().await;
        let fresh =
            tokens.access.is_some() && tokens.access_expires_at_ms - REFRESH_MARGIN_MS > now_ms();
        if !fresh {
            self.refresh_locked(&mut tokens).await?;
        }
        let access = tokens.access.as_ref().ok_or_else(ApiError::not_logged_in)?;
        let header = Zeroizing::new(format!("Bearer {}", access.expose_secret()));
        let mut value = MetadataValue::try_from(header.as_str())
            .map_err(|_| ApiError::Protocol("the access token is not printable ASCII".into()))?;
        value.set_sensitive(true);
        Ok((value, tokens.generation))
    }

    /// Trades the refresh token for a new pair. The caller holds the lock,
    /// which makes refreshing single-flight.
    async fn refresh_locked(&self, tokens: &mut Tokens) -> Result<(), ApiError> {
        let refresh = tokens.refresh.clone().ok_or_else(ApiError::not_logged_in)?;
        let result = self
            .account
            .clone()
            .refresh(request(v1::RefreshRequest {
                refresh_token: refresh.expose_secret().to_owned(),
            }))
            .await;
        let pair = match result {
            Ok(pair) => pair.into_inner(),
            Err(status) => {
                let err = self.error(&status);
                if err.needs_login() {
                    // A dead refresh token must not be presented again.
                    *tokens = Tokens {
                        generation: tokens.generation + 1,
                        ..Tokens::default()
                    };
                }
                return Err(err);
            }
        };
        self.ok();
        let update = TokenUpdate {
            refresh_token: SecretString::from(pair.refresh_token.clone()),
            refresh_expires_at_ms: pair.refresh_expires_at_ms,
        };
        store_pair(tokens, pair);
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(listener) = listener {
            listener(update).await;
        }
        Ok(())
    }

    /// Refreshes now (unless another call already did since `generation`).
    async fn refresh_after(&self, generation: u64) -> Result<(), ApiError> {
        let mut tokens = self.tokens.lock().await;
        if tokens.generation != generation {
            return Ok(());
        }
        self.refresh_locked(&mut tokens).await
    }

    /// Forces a refresh, e.g. to check that the session is still alive.
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let mut tokens = self.tokens.lock().await;
        self.refresh_locked(&mut tokens).await
    }

    /// Runs an authenticated call; on an expired access token refreshes once
    /// and retries.
    async fn authed<R, F, Fut>(&self, mut call: F) -> Result<R, ApiError>
    where
        F: FnMut(MetadataValue<tonic::metadata::Ascii>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, Status>>,
    {
        let mut refreshed = false;
        loop {
            let (bearer, generation) = self.bearer().await?;
            match call(bearer).await {
                Ok(response) => {
                    self.ok();
                    return Ok(response.into_inner());
                }
                Err(status) => {
                    let err = self.error(&status);
                    if err.is_token_expired() && !refreshed {
                        refreshed = true;
                        self.refresh_after(generation).await?;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }
}

fn with_bearer<T>(message: T, bearer: MetadataValue<tonic::metadata::Ascii>) -> Request<T> {
    let mut request = request(message);
    request.metadata_mut().insert("authorization", bearer);
    request
}

fn store_pair(tokens: &mut Tokens, pair: v1::TokenPair) {
    *tokens = Tokens {
        access: Some(SecretString::from(pair.access_token)),
        access_expires_at_ms: pair.access_expires_at_ms,
        refresh: Some(SecretString::from(pair.refresh_token)),
        generation: tokens.generation + 1,
    };
}

fn parse_uuid(field: &str, text: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::Protocol(format!("{field} is not a UUID")))
}

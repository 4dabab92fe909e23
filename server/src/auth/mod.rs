//! The auth service: registration, login, token refresh and revocation,
//! token validation for the gateway, device sessions. It implements the
//! internal `AuthService` gRPC API; the gateway is its only caller.

mod hashing;
pub mod kdf;
mod opaque;
pub mod postgres;
mod rate_limit;
mod rotation;
mod seal;
mod sql;
pub mod sqlite;
pub mod store;
mod tokens;
mod two_factor;
pub mod username;

use std::sync::Arc;
use std::time::Duration;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::auth_service_server::AuthService;
use tonic::{Request, Response, Status};
use zeroize::Zeroizing;

pub use self::hashing::AuthKeyHasher;
use self::opaque::OpaqueKeys;
use self::rate_limit::{Limited, LoginLimiter};
use self::store::{
    AuthStore, AuthStoreError, Credential, NewRefreshToken, Rotation, SessionRow, UserRow,
};
pub use self::tokens::{AccessTokens, TokenError};
use self::two_factor::TwoFactorKeys;
use crate::ids::{SessionId, UserId, now_ms};
use crate::metrics::Metrics;
use crate::secrets::ServerSecret;
use crate::settings::AuthSettings;

/// The client's auth key is an HKDF output of this many bytes.
pub const AUTH_KEY_LEN: usize = 32;
/// A wrapped vault key is 73 bytes, and 36 more for each older key epoch
/// it carries after rotations (at most 100 epochs: 3,682 bytes); anything
/// larger is not one.
const MAX_WRAPPED_KEY_LEN: usize = 4096;
const MAX_DEVICE_NAME_CHARS: usize = 64;

/// Everything that can go wrong in the auth service; mapped to a gRPC status
/// in `crate::status`.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("user name is taken")]
    UsernameTaken,
    #[error("invalid user name or password")]
    BadCredentials,
    #[error("too many attempts for this {}; retry in {} s", .0.scope, .0.retry_after.as_secs().max(1))]
    RateLimited(Limited),
    /// Every server-side hash slot stayed taken for the whole queue time.
    #[error("the server is busy with other sign-ins; retry in {} s", .retry_after.as_secs().max(1))]
    Busy { retry_after: Duration },
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("session has been revoked; log in again")]
    SessionRevoked,
    #[error("refresh token expired; log in again")]
    RefreshExpired,
    #[error("invalid refresh token; log in again")]
    RefreshInvalid,
    #[error("refresh token was already used; the session has been revoked, log in again")]
    RefreshReused,
    #[error("no such session")]
    SessionNotFound,
    /// The login id is unknown: expired, finished already, or never made.
    #[error("this login expired or was finished already; start again")]
    LoginExpired,
    #[error(
        "this account needs a second factor: a code from the authenticator app or a recovery code"
    )]
    SecondFactorRequired,
    #[error("that code is wrong, expired or already used")]
    SecondFactorInvalid,
    #[error("{0}")]
    TwoFactorState(String),
    #[error("internal error")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<AuthStoreError> for AuthError {
    fn from(err: AuthStoreError) -> Self {
        match err {
            AuthStoreError::UsernameTaken => AuthError::UsernameTaken,
            other => AuthError::Unexpected(Box::new(other)),
        }
    }
}

pub struct Auth {
    store: Arc<dyn AuthStore>,
    tokens: AccessTokens,
    hasher: Arc<AuthKeyHasher>,
    limiter: LoginLimiter,
    prelogin_key: Zeroizing<[u8; 32]>,
    opaque: OpaqueKeys,
    two_factor: TwoFactorKeys,
    refresh_ttl_ms: i64,
    session_lifetime_ms: i64,
    /// Turns at a sign-in's expensive work (a legacy login's Argon2id,
    /// OPAQUE's server steps): a flood of logins queues here instead of
    /// taking every core, or gigabytes of memory, at once.
    hash_slots: Arc<tokio::sync::Semaphore>,
    hash_queue: Duration,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

impl Auth {
    pub fn new(
        store: Arc<dyn AuthStore>,
        secret: &ServerSecret,
        settings: &AuthSettings,
        metrics: Arc<Metrics>,
    ) -> Result<Self, AuthError> {
        let hasher = AuthKeyHasher::new(settings.hash_memory_kib, settings.hash_iterations)
            .map_err(|e| AuthError::Unexpected(Box::new(e)))?;
        Ok(Self {
            store,
            tokens: AccessTokens::new(
                secret.derive("access-token").as_ref(),
                settings.access_token_ttl_secs,
            ),
            hasher: Arc::new(hasher),
            limiter: LoginLimiter::new(
                settings.login_attempts_per_minute_per_user,
                settings.login_attempts_per_minute_per_peer,
            ),
            prelogin_key: secret.derive("prelogin"),
            opaque: OpaqueKeys::new(secret),
            two_factor: TwoFactorKeys::new(secret),
            refresh_ttl_ms: millis(settings.refresh_token_ttl_secs),
            session_lifetime_ms: millis(settings.session_lifetime_secs),
            hash_slots: Arc::new(tokio::sync::Semaphore::new(hash_slots(
                settings.max_concurrent_hashes,
            ))),
            hash_queue: Duration::from_millis(settings.hash_queue_ms),
            metrics,
        })
    }

    /// Whether the auth database answers at all: the health check's
    /// question.
    pub async fn reachable(&self) -> Result<(), AuthStoreError> {
        self.store
            .find_user(UserId(uuid::Uuid::nil()))
            .await
            .map(drop)
    }

    /// Forgets rate-limit state of quiet keys; [`housekeeping`] runs it.
    pub fn forget_idle_limits(&self) {
        self.limiter.forget_idle();
    }

    /// A turn at a sign-in's expensive work, waited for at most the queue
    /// time. A legacy hash's blocking task keeps it, so a caller that goes
    /// away mid-hash does not free a slot that is still busy.
    async fn hash_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AuthError> {
        let _waiting = self.metrics.hash_waiting();
        match tokio::time::timeout(self.hash_queue, self.hash_slots.clone().acquire_owned()).await {
            Ok(slot) => slot.map_err(|e| AuthError::Unexpected(Box::new(e))),
            Err(_) => {
                tracing::warn!("every hash slot stayed busy; a sign-in was told to retry");
                Err(AuthError::Busy {
                    retry_after: self.hash_queue,
                })
            }
        }
    }

    /// Argon2 is CPU-bound for tens of milliseconds: off the async workers.
    async fn verify(&self, auth_key: Vec<u8>, stored: Option<String>) -> Result<bool, AuthError> {
        let hasher = self.hasher.clone();
        let auth_key = Zeroizing::new(auth_key);
        let slot = self.hash_slot().await?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            match stored {
                Some(stored) => hasher.verify(&auth_key, &stored),
                None => {
                    hasher.verify_decoy(&auth_key);
                    false
                }
            }
        })
        .await
        .map_err(|e| AuthError::Unexpected(Box::new(e)))
    }

    async fn new_session_tokens(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<(v1::TokenPair, NewRefreshToken, Zeroizing<String>), AuthError> {
        let now = now_ms();
        let (access_token, exp_secs) = self
            .tokens
            .issue(user_id, session_id, now.max(0) as u64 / 1000)
            .map_err(|e| AuthError::Unexpected(Box::new(e)))?;
        let (refresh, token_hash) = tokens::new_refresh_token();
        let expires_at_ms = now.saturating_add(self.refresh_ttl_ms.min(self.session_lifetime_ms));
        let pair = v1::TokenPair {
            access_token,
            access_expires_at_ms: i64::try_from(exp_secs).unwrap_or(i64::MAX / 1000) * 1000,
            refresh_token: refresh.to_string(),
            refresh_expires_at_ms: expires_at_ms,
        };
        let row = NewRefreshToken {
            token_hash,
            session_id,
            expires_at_ms,
        };
        Ok((pair, row, refresh))
    }

    pub async fn prelogin(&self, request: v1::PreloginRequest) -> Result<v1::KdfParams, AuthError> {
        let key = username_key(&request.username)?;
        Ok(match self.store.find_user_by_key(&key).await? {
            Some(user) => kdf::to_proto(&user.kdf),
            None => kdf::fake_for(self.prelogin_key.as_ref(), &key),
        })
    }

    /// The login of an account not yet moved to OPAQUE. An OPAQUE account
    /// is refused here exactly like a wrong password, after the same decoy
    /// hash.
    pub async fn login(
        &self,
        request: v1::LoginRequest,
        peer: &str,
    ) -> Result<v1::LoginResponse, AuthError> {
        let key = username_key(&request.username)?;
        check_auth_key("auth_key", &request.auth_key)?;
        let device_name = device_name(&request.device_name)?;
        self.limiter
            .check(&key, peer)
            .map_err(AuthError::RateLimited)?;
        let user = self.store.find_user_by_key(&key).await?;
        if !self
            .verify(request.auth_key, legacy_hash(user.as_ref()))
            .await?
        {
            tracing::info!(peer, "login refused");
            return Err(AuthError::BadCredentials);
        }
        let user = user.ok_or(AuthError::BadCredentials)?;
        self.check_second_factor(user.user_id, &request.second_factor)
            .await?;
        self.start_session(user, device_name).await
    }

    /// A new session of a user whose login just succeeded.
    async fn start_session(
        &self,
        user: UserRow,
        device_name: String,
    ) -> Result<v1::LoginResponse, AuthError> {
        let session_id = SessionId::new_random();
        let (tokens, refresh_row, _refresh) =
            self.new_session_tokens(user.user_id, session_id).await?;
        let now = now_ms();
        let session = SessionRow {
            session_id,
            user_id: user.user_id,
            device_name,
            created_at_ms: now,
            last_seen_at_ms: now,
            revoked_at_ms: None,
        };
        self.store.create_session(&session, &refresh_row).await?;
        tracing::info!(user_id = %user.user_id, session_id = %session_id, "logged in");
        Ok(v1::LoginResponse {
            user_id: user.user_id.to_string(),
            session_id: session_id.to_string(),
            tokens: Some(tokens),
            wrapped_vault_key: user.wrapped_vault_key,
            kdf: Some(kdf::to_proto(&user.kdf)),
        })
    }

    pub async fn refresh(&self, request: v1::RefreshRequest) -> Result<v1::TokenPair, AuthError> {
        if request.refresh_token.is_empty() || request.refresh_token.len() > 256 {
            return Err(AuthError::RefreshInvalid);
        }
        let presented = tokens::hash_refresh_token(&request.refresh_token);
        let (refresh, next_hash) = tokens::new_refresh_token();
        let now = now_ms();
        let expires_at_ms = now.saturating_add(self.refresh_ttl_ms);
        match self
            .store
            .rotate_refresh_token(
                &presented,
                &next_hash,
                expires_at_ms,
                self.session_lifetime_ms,
                now,
            )
            .await?
        {
            Rotation::Rotated {
                user_id,
                session_id,
                expires_at_ms,
            } => {
                let (access_token, exp_secs) = self
                    .tokens
                    .issue(user_id, session_id, now.max(0) as u64 / 1000)
                    .map_err(|e| AuthError::Unexpected(Box::new(e)))?;
                Ok(v1::TokenPair {
                    access_token,
                    access_expires_at_ms: i64::try_from(exp_secs).unwrap_or(i64::MAX / 1000) * 1000,
                    refresh_token: refresh.to_string(),
                    refresh_expires_at_ms: expires_at_ms,
                })
            }
            Rotation::Reused { session_id } => {
                tracing::warn!(%session_id, "refresh token reused; session revoked");
                Err(AuthError::RefreshReused)
            }
            Rotation::Expired => Err(AuthError::RefreshExpired),
            Rotation::Revoked => Err(AuthError::SessionRevoked),
            Rotation::Unknown => Err(AuthError::RefreshInvalid),
        }
    }

    /// Checks an access token and that its session is still live.
    pub async fn validate(&self, access_token: &str) -> Result<(UserId, SessionId), AuthError> {
        let (user_id, session_id) = self.tokens.verify(access_token)?;
        match self.store.find_session(session_id).await? {
            Some(session) if session.user_id == user_id && session.revoked_at_ms.is_none() => {
                if session
                    .created_at_ms
                    .saturating_add(self.session_lifetime_ms)
                    <= now_ms()
                {
                    // Past its absolute lifetime: the refresh that follows
                    // fails too, and the device logs in again.
                    return Err(AuthError::Token(TokenError::Expired));
                }
                Ok((user_id, session_id))
            }
            Some(session) if session.user_id == user_id => Err(AuthError::SessionRevoked),
            _ => Err(AuthError::Token(TokenError::Invalid)),
        }
    }

    pub async fn logout(&self, user_id: UserId, session_id: SessionId) -> Result<(), AuthError> {
        self.store
            .revoke_session(user_id, session_id, "logged out", now_ms())
            .await?;
        Ok(())
    }

    pub async fn list_sessions(
        &self,
        user_id: UserId,
        current: SessionId,
    ) -> Result<Vec<v1::Session>, AuthError> {
        let sessions = self.store.list_sessions(user_id).await?;
        Ok(sessions
            .into_iter()
            .map(|s| v1::Session {
                session_id: s.session_id.to_string(),
                device_name: s.device_name,
                created_at_ms: s.created_at_ms,
                last_seen_at_ms: s.last_seen_at_ms,
                current: s.session_id == current,
            })
            .collect())
    }

    pub async fn revoke_session(&self, user_id: UserId, target: &str) -> Result<(), AuthError> {
        let target = SessionId::parse("session_id", target)
            .map_err(|e| AuthError::InvalidArgument(e.to_string()))?;
        if self
            .store
            .revoke_session(user_id, target, "revoked by the user", now_ms())
            .await?
        {
            Ok(())
        } else {
            Err(AuthError::SessionNotFound)
        }
    }
}

impl Auth {
    /// Counts an attempt of a signed-in session against its account's
    /// login limit; returns the account.
    async fn limit_session(
        &self,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<UserRow, AuthError> {
        let user = self
            .store
            .find_user(user_id)
            .await?
            .ok_or(AuthError::Token(TokenError::Invalid))?;
        self.limiter
            .check(
                &username_key(&user.username)?,
                &format!("session {session_id}"),
            )
            .map_err(AuthError::RateLimited)?;
        Ok(user)
    }

    /// The password check of a signed-in session's sensitive change,
    /// limited like a login; returns the user name.
    async fn check_password(
        &self,
        user_id: UserId,
        session_id: SessionId,
        proof: Option<v1::PasswordProof>,
    ) -> Result<String, AuthError> {
        use v1::password_proof::Proof;
        let proof = proof
            .and_then(|p| p.proof)
            .ok_or_else(|| AuthError::InvalidArgument("current is required".into()))?;
        match proof {
            Proof::LegacyAuthKey(auth_key) => {
                check_auth_key("legacy_auth_key", &auth_key)?;
                let user = self.limit_session(user_id, session_id).await?;
                if !self.verify(auth_key, legacy_hash(Some(&user))).await? {
                    return Err(AuthError::BadCredentials);
                }
                Ok(user.username)
            }
            // Its LoginStart counted against the limits already.
            Proof::Opaque(proof) => {
                self.prove_opaque(user_id, &proof).await?;
                let user = self.store.find_user(user_id).await?;
                Ok(user.ok_or(AuthError::Token(TokenError::Invalid))?.username)
            }
        }
    }
}

/// The legacy verifier to check an auth key against; `None` (a decoy
/// hash, then refusal) for no account or an OPAQUE one.
fn legacy_hash(user: Option<&UserRow>) -> Option<String> {
    match &user?.credential {
        Credential::Legacy(hash) => Some(hash.clone()),
        Credential::Opaque(_) => None,
    }
}

fn millis(secs: u64) -> i64 {
    i64::try_from(secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
}

/// Hash slots: as configured, or one per CPU core.
fn hash_slots(configured: usize) -> usize {
    if configured > 0 {
        configured
    } else {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }
}

fn username_key(name: &str) -> Result<String, AuthError> {
    username::key(name).map_err(|e| AuthError::InvalidArgument(e.to_string()))
}

fn check_auth_key(field: &str, key: &[u8]) -> Result<(), AuthError> {
    if key.len() == AUTH_KEY_LEN {
        Ok(())
    } else {
        Err(AuthError::InvalidArgument(format!(
            "{field} must be {AUTH_KEY_LEN} bytes"
        )))
    }
}

fn check_wrapped_key(field: &str, key: &[u8]) -> Result<(), AuthError> {
    if (AUTH_KEY_LEN..=MAX_WRAPPED_KEY_LEN).contains(&key.len()) {
        Ok(())
    } else {
        Err(AuthError::InvalidArgument(format!(
            "{field} must be {AUTH_KEY_LEN} to {MAX_WRAPPED_KEY_LEN} bytes"
        )))
    }
}

fn device_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    if name.chars().take(MAX_DEVICE_NAME_CHARS + 1).count() > MAX_DEVICE_NAME_CHARS
        || name.chars().any(username::is_invisible)
    {
        return Err(AuthError::InvalidArgument(format!(
            "device_name must be at most {MAX_DEVICE_NAME_CHARS} printable characters"
        )));
    }
    Ok(if name.is_empty() {
        "unnamed device".into()
    } else {
        name.into()
    })
}

fn principal(p: Option<v1::Principal>) -> Result<(UserId, SessionId), Status> {
    let p = p.ok_or_else(|| Status::invalid_argument("principal is required"))?;
    let user = UserId::parse("user_id", &p.user_id)
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let session = SessionId::parse("session_id", &p.session_id)
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    Ok((user, session))
}

/// How often rate-limit state of quiet keys is dropped.
pub const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(60);

/// Every role that serves auth runs this beside it until `stop` fires, so
/// that the rate limiter's memory follows the keys in use, not every key
/// ever seen.
pub async fn housekeeping(auth: Arc<Auth>, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                auth.forget_idle_limits();
                auth.forget_expired_logins().await;
            }
            () = stop.cancelled() => return,
        }
    }
}

#[tonic::async_trait]
impl AuthService for Auth {
    async fn prelogin(
        &self,
        request: Request<v1::PreloginRequest>,
    ) -> Result<Response<v1::PreloginResponse>, Status> {
        let kdf = Auth::prelogin(self, request.into_inner()).await?;
        Ok(Response::new(v1::PreloginResponse { kdf: Some(kdf) }))
    }

    async fn register(
        &self,
        request: Request<v1::InternalRegisterRequest>,
    ) -> Result<Response<v1::RegisterResponse>, Status> {
        let request = request.into_inner();
        let inner = request
            .request
            .ok_or_else(|| Status::invalid_argument("request is required"))?;
        let user_id = Auth::register(self, inner, &request.peer).await?;
        Ok(Response::new(v1::RegisterResponse {
            user_id: user_id.to_string(),
        }))
    }

    async fn register_start(
        &self,
        request: Request<v1::InternalRegisterStartRequest>,
    ) -> Result<Response<v1::RegisterStartResponse>, Status> {
        let request = request.into_inner();
        let answer = Auth::register_start(self, inner(request.request)?, &request.peer).await?;
        Ok(Response::new(answer))
    }

    async fn login_start(
        &self,
        request: Request<v1::InternalLoginStartRequest>,
    ) -> Result<Response<v1::LoginStartResponse>, Status> {
        let request = request.into_inner();
        let answer = Auth::login_start(self, inner(request.request)?, &request.peer).await?;
        Ok(Response::new(answer))
    }

    async fn login_finish(
        &self,
        request: Request<v1::InternalLoginFinishRequest>,
    ) -> Result<Response<v1::LoginResponse>, Status> {
        let request = request.into_inner();
        let answer = Auth::login_finish(self, inner(request.request)?, &request.peer).await?;
        Ok(Response::new(answer))
    }

    async fn change_password_start(
        &self,
        request: Request<v1::InternalChangePasswordStartRequest>,
    ) -> Result<Response<v1::ChangePasswordStartResponse>, Status> {
        let request = request.into_inner();
        let (user, _) = principal(request.principal)?;
        let answer = Auth::change_password_start(self, user, inner(request.request)?).await?;
        Ok(Response::new(answer))
    }

    async fn login(
        &self,
        request: Request<v1::InternalLoginRequest>,
    ) -> Result<Response<v1::LoginResponse>, Status> {
        let request = request.into_inner();
        let inner = request
            .request
            .ok_or_else(|| Status::invalid_argument("request is required"))?;
        Ok(Response::new(
            Auth::login(self, inner, &request.peer).await?,
        ))
    }

    async fn refresh(
        &self,
        request: Request<v1::RefreshRequest>,
    ) -> Result<Response<v1::TokenPair>, Status> {
        Ok(Response::new(
            Auth::refresh(self, request.into_inner()).await?,
        ))
    }

    async fn validate_token(
        &self,
        request: Request<v1::ValidateTokenRequest>,
    ) -> Result<Response<v1::Principal>, Status> {
        let (user_id, session_id) = self.validate(&request.into_inner().access_token).await?;
        Ok(Response::new(v1::Principal {
            user_id: user_id.to_string(),
            session_id: session_id.to_string(),
        }))
    }

    async fn logout(
        &self,
        request: Request<v1::Principal>,
    ) -> Result<Response<v1::LogoutResponse>, Status> {
        let (user, session) = principal(Some(request.into_inner()))?;
        Auth::logout(self, user, session).await?;
        Ok(Response::new(v1::LogoutResponse {}))
    }

    async fn list_sessions(
        &self,
        request: Request<v1::Principal>,
    ) -> Result<Response<v1::ListSessionsResponse>, Status> {
        let (user, session) = principal(Some(request.into_inner()))?;
        let sessions = Auth::list_sessions(self, user, session).await?;
        Ok(Response::new(v1::ListSessionsResponse { sessions }))
    }

    async fn revoke_session(
        &self,
        request: Request<v1::InternalRevokeSessionRequest>,
    ) -> Result<Response<v1::RevokeSessionResponse>, Status> {
        let request = request.into_inner();
        let (user, _) = principal(request.principal)?;
        Auth::revoke_session(self, user, &request.session_id).await?;
        Ok(Response::new(v1::RevokeSessionResponse {}))
    }

    async fn change_password(
        &self,
        request: Request<v1::InternalChangePasswordRequest>,
    ) -> Result<Response<v1::ChangePasswordResponse>, Status> {
        let request = request.into_inner();
        let (user, session) = principal(request.principal)?;
        let inner = request
            .request
            .ok_or_else(|| Status::invalid_argument("request is required"))?;
        Auth::change_password(self, user, session, inner).await?;
        Ok(Response::new(v1::ChangePasswordResponse {}))
    }

    async fn two_factor_status(
        &self,
        request: Request<v1::Principal>,
    ) -> Result<Response<v1::TwoFactorStatusResponse>, Status> {
        let (user, _) = principal(Some(request.into_inner()))?;
        Ok(Response::new(Auth::two_factor_status(self, user).await?))
    }

    async fn begin_two_factor(
        &self,
        request: Request<v1::InternalBeginTwoFactorRequest>,
    ) -> Result<Response<v1::BeginTwoFactorResponse>, Status> {
        let request = request.into_inner();
        let (user, session) = principal(request.principal)?;
        let inner = inner(request.request)?;
        Ok(Response::new(
            Auth::begin_two_factor(self, user, session, inner).await?,
        ))
    }

    async fn enable_two_factor(
        &self,
        request: Request<v1::InternalEnableTwoFactorRequest>,
    ) -> Result<Response<v1::EnableTwoFactorResponse>, Status> {
        let request = request.into_inner();
        let (user, session) = principal(request.principal)?;
        let inner = inner(request.request)?;
        let codes = Auth::enable_two_factor(self, user, session, inner).await?;
        Ok(Response::new(v1::EnableTwoFactorResponse {
            recovery_codes: codes.iter().map(|code| code.to_string()).collect(),
        }))
    }

    async fn disable_two_factor(
        &self,
        request: Request<v1::InternalDisableTwoFactorRequest>,
    ) -> Result<Response<v1::DisableTwoFactorResponse>, Status> {
        let request = request.into_inner();
        let (user, session) = principal(request.principal)?;
        let inner = inner(request.request)?;
        Auth::disable_two_factor(self, user, session, inner).await?;
        Ok(Response::new(v1::DisableTwoFactorResponse {}))
    }
}

/// The inner request of an internal call, or INVALID_ARGUMENT.
fn inner<T>(request: Option<T>) -> Result<T, Status> {
    request.ok_or_else(|| Status::invalid_argument("request is required"))
}

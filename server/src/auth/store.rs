//! The auth store trait and its rows. The auth database is separate from the
//! vault (docs/design.md): a leak of one tells nothing about the other.

use async_trait::async_trait;

use crate::ids::{SessionId, UserId};

/// Client-side KDF parameters as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKdf {
    pub algorithm: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub salt: Vec<u8>,
}

/// How an account's password is checked.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// OPAQUE's registration record: nothing in it tests a guess without
    /// the server secret's OPRF key.
    Opaque(Vec<u8>),
    /// The PHC string of the server-side Argon2id over a legacy client's
    /// auth key; an account keeps it until its next login moves it.
    Legacy(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Opaque(_) => "Opaque(<record>)",
            Self::Legacy(_) => "Legacy(<hash>)",
        })
    }
}

#[derive(Clone)]
pub struct UserRow {
    pub user_id: UserId,
    pub username: String,
    pub credential: Credential,
    pub kdf: StoredKdf,
    pub wrapped_vault_key: Vec<u8>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub user_id: UserId,
    pub username: String,
    pub username_key: String,
    pub credential: Credential,
    pub kdf: StoredKdf,
    pub wrapped_vault_key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub device_name: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// A refresh token as stored: only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub token_hash: [u8; 32],
    pub session_id: SessionId,
    pub expires_at_ms: i64,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now used and the next one replaces it,
    /// expiring at `expires_at_ms` (no later than the session's end).
    Rotated {
        user_id: UserId,
        session_id: SessionId,
        expires_at_ms: i64,
    },
    /// The token had been used before: someone replays a stolen token, so the
    /// whole session was revoked.
    Reused {
        session_id: SessionId,
    },
    Expired,
    Revoked,
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthStoreError {
    #[error("user name is taken")]
    UsernameTaken,
    #[error("auth storage unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("auth storage holds a value it cannot read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for AuthStoreError {
    fn from(err: sqlx::Error) -> Self {
        AuthStoreError::Unavailable(err)
    }
}

/// An account's two-factor state as stored.
#[derive(Clone)]
pub struct TwoFactorRow {
    pub sealed_secret: Vec<u8>,
    /// `None` while the secret has been shown but not confirmed.
    pub enabled_at_ms: Option<i64>,
    /// The newest TOTP step accepted.
    pub last_step: i64,
}

impl std::fmt::Debug for TwoFactorRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactorRow")
            .field("enabled_at_ms", &self.enabled_at_ms)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// Two-factor login's statements (`auth/two_factor/sql.rs`).
#[async_trait]
pub trait TwoFactorStore {
    async fn two_factor(&self, user_id: UserId) -> Result<Option<TwoFactorRow>, AuthStoreError>;

    /// Keeps a secret shown but not confirmed, replacing an earlier one;
    /// false if two-factor login is on already.
    async fn stage_two_factor(
        &self,
        user_id: UserId,
        sealed_secret: &[u8],
        now_ms: i64,
    ) -> Result<bool, AuthStoreError>;

    /// Turns two-factor login on with the step its confirming code matched
    /// and the recovery codes' hashes, in one transaction; false if it is
    /// on already or no secret was staged.
    async fn enable_two_factor(
        &self,
        user_id: UserId,
        step: i64,
        recovery_hashes: &[[u8; 32]],
        now_ms: i64,
    ) -> Result<bool, AuthStoreError>;

    /// Marks a TOTP step used; false if it or a later step was used before.
    async fn use_totp_step(&self, user_id: UserId, step: i64) -> Result<bool, AuthStoreError>;

    /// Marks a recovery code used; false if it is unknown or was used.
    async fn use_recovery_code(
        &self,
        user_id: UserId,
        hash: &[u8; 32],
        now_ms: i64,
    ) -> Result<bool, AuthStoreError>;

    async fn recovery_codes_left(&self, user_id: UserId) -> Result<u32, AuthStoreError>;

    /// Turns two-factor login off and forgets its secret and codes.
    async fn disable_two_factor(&self, user_id: UserId) -> Result<(), AuthStoreError>;
}

/// The server's side of an OPAQUE login between its two round trips.
#[derive(Clone)]
pub struct PendingLogin {
    pub login_id: [u8; 16],
    /// `None` for a name with no account: its login runs the same steps
    /// and fails at the finish.
    pub user_id: Option<UserId>,
    /// `ServerLogin`, sealed under a key from the server secret.
    pub sealed_state: Vec<u8>,
    /// Set on a login whose password was proven but which waits for its
    /// second factor.
    pub password_verified_at_ms: Option<i64>,
    pub expires_at_ms: i64,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("user_id", &self.user_id)
            .field("password_verified_at_ms", &self.password_verified_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// OPAQUE logins in flight (`auth/sql.rs`). In the auth database, so that
/// any auth process can finish a login another one started.
#[async_trait]
pub trait PendingLoginStore {
    async fn put_login(&self, login: &PendingLogin) -> Result<(), AuthStoreError>;

    /// Removes and returns the login if it has not expired: each is
    /// finished once, whichever process gets there first.
    async fn take_login(
        &self,
        login_id: &[u8; 16],
        now_ms: i64,
    ) -> Result<Option<PendingLogin>, AuthStoreError>;

    /// Drops logins nobody finished.
    async fn forget_expired_logins(&self, now_ms: i64) -> Result<u64, AuthStoreError>;
}

/// What a credential change does to the user's other sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherSessions {
    /// A new password: every session but this one ends.
    RevokeAllBut(SessionId),
    /// The same password under new parameters: nothing to end.
    Keep,
}

#[async_trait]
pub trait AuthStore: TwoFactorStore + PendingLoginStore + Send + Sync + 'static {
    async fn create_user(&self, user: &NewUser, now_ms: i64) -> Result<(), AuthStoreError>;

    async fn find_user_by_key(&self, username_key: &str)
    -> Result<Option<UserRow>, AuthStoreError>;

    async fn find_user(&self, user_id: UserId) -> Result<Option<UserRow>, AuthStoreError>;

    /// Creates a session with its first refresh token.
    async fn create_session(
        &self,
        session: &SessionRow,
        token: &NewRefreshToken,
    ) -> Result<(), AuthStoreError>;

    async fn find_session(
        &self,
        session_id: SessionId,
    ) -> Result<Option<SessionRow>, AuthStoreError>;

    /// Uses the token whose hash is `presented` and, if it was live, stores
    /// the token hashed as `next_hash` for the same session, in one
    /// transaction.
    async fn rotate_refresh_token(
        &self,
        presented: &[u8; 32],
        next_hash: &[u8; 32],
        next_expires_at_ms: i64,
        session_lifetime_ms: i64,
        now_ms: i64,
    ) -> Result<Rotation, AuthStoreError>;

    /// The user's sessions that are not revoked, oldest first.
    async fn list_sessions(&self, user_id: UserId) -> Result<Vec<SessionRow>, AuthStoreError>;

    /// Revokes one of the user's sessions; false if the user has no such live
    /// session.
    async fn revoke_session(
        &self,
        user_id: UserId,
        session_id: SessionId,
        reason: &str,
        now_ms: i64,
    ) -> Result<bool, AuthStoreError>;

    /// Stores a new OPAQUE record (dropping any legacy hash), parameters
    /// and wrapped key, and does to the user's other sessions what `others`
    /// says, in one transaction.
    async fn change_credentials(
        &self,
        user_id: UserId,
        opaque_record: &[u8],
        kdf: &StoredKdf,
        wrapped_vault_key: &[u8],
        others: OtherSessions,
        now_ms: i64,
    ) -> Result<(), AuthStoreError>;
}

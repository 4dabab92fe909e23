//! OPAQUE (RFC 9807) registration, login and password proof
//! (docs/design.md, "OPAQUE"). The client never sends its password or
//! anything a guess could be tested against; the server keeps a record
//! that only its secret's OPRF key makes useful. A login is two round
//! trips whose state between them lives, sealed, in the auth database, so
//! any auth process can finish it, once.

mod keys;
mod sql;

pub(crate) use self::keys::{OpaqueError, OpaqueKeys};
pub(crate) use self::sql::pending_login_store_sql;

use gophkeeper_proto::opaque::LOGIN_ID_LEN;
use gophkeeper_proto::v1;
use rand::RngCore;

use super::store::{Credential, NewUser, OtherSessions, PendingLogin, UserRow};
use super::{Auth, AuthError, check_wrapped_key, device_name, kdf, username_key};
use crate::ids::{SessionId, UserId, now_ms};

/// How long a started login may be finished: two messages and one
/// Argon2id on the client.
const LOGIN_TTL_MS: i64 = 2 * 60 * 1000;
/// How long a login whose password was proven waits for its second factor
/// (someone finding the phone).
const SECOND_FACTOR_TTL_MS: i64 = 5 * 60 * 1000;
/// OPAQUE messages of this suite are at most a few hundred bytes.
const MAX_MESSAGE_LEN: usize = 1024;

impl From<OpaqueError> for AuthError {
    fn from(err: OpaqueError) -> Self {
        match err {
            OpaqueError::Malformed(field) => {
                AuthError::InvalidArgument(format!("{field} is not a valid OPAQUE message"))
            }
            OpaqueError::DoesNotVerify => AuthError::BadCredentials,
            OpaqueError::Corrupt => AuthError::Unexpected(Box::new(err)),
        }
    }
}

fn check_message(field: &'static str, bytes: &[u8]) -> Result<(), AuthError> {
    if bytes.is_empty() || bytes.len() > MAX_MESSAGE_LEN {
        return Err(OpaqueError::Malformed(field).into());
    }
    Ok(())
}

fn login_id(bytes: &[u8]) -> Result<[u8; LOGIN_ID_LEN], AuthError> {
    <[u8; LOGIN_ID_LEN]>::try_from(bytes)
        .map_err(|_| AuthError::InvalidArgument(format!("login_id must be {LOGIN_ID_LEN} bytes")))
}

impl Auth {
    /// Registration's first step, for a name not taken yet.
    pub async fn register_start(
        &self,
        request: v1::RegisterStartRequest,
        peer: &str,
    ) -> Result<v1::RegisterStartResponse, AuthError> {
        let key = username_key(&request.username)?;
        check_message("registration_request", &request.registration_request)?;
        self.limiter
            .check_peer(peer)
            .map_err(AuthError::RateLimited)?;
        if self.store.find_user_by_key(&key).await?.is_some() {
            return Err(AuthError::UsernameTaken);
        }
        let _turn = self.hash_slot().await?;
        Ok(v1::RegisterStartResponse {
            registration_response: self
                .opaque
                .registration_response(&key, &request.registration_request)?,
        })
    }

    pub async fn register(
        &self,
        request: v1::RegisterRequest,
        peer: &str,
    ) -> Result<UserId, AuthError> {
        let key = username_key(&request.username)?;
        let kdf = kdf::validate(request.kdf.as_ref())
            .map_err(|e| AuthError::InvalidArgument(e.to_string()))?;
        check_message("registration_upload", &request.registration_upload)?;
        let record = OpaqueKeys::record_from_upload(&request.registration_upload)?;
        check_wrapped_key("wrapped_vault_key", &request.wrapped_vault_key)?;
        self.limiter
            .check_peer(peer)
            .map_err(AuthError::RateLimited)?;
        let user = NewUser {
            user_id: UserId::new_random(),
            username: request.username,
            username_key: key,
            credential: Credential::Opaque(record),
            kdf,
            wrapped_vault_key: request.wrapped_vault_key,
        };
        self.store.create_user(&user, now_ms()).await?;
        tracing::info!(user_id = %user.user_id, "registered");
        Ok(user.user_id)
    }

    /// A login's first round trip. Every start counts against the limits:
    /// the OPRF answer is what an online guess needs.
    pub async fn login_start(
        &self,
        request: v1::LoginStartRequest,
        peer: &str,
    ) -> Result<v1::LoginStartResponse, AuthError> {
        let key = username_key(&request.username)?;
        check_message("credential_request", &request.credential_request)?;
        self.limiter
            .check(&key, peer)
            .map_err(AuthError::RateLimited)?;
        let user = self.store.find_user_by_key(&key).await?;
        let (user_id, record, kdf) = match &user {
            Some(user) => match &user.credential {
                Credential::Legacy(_) => {
                    return Ok(v1::LoginStartResponse {
                        kdf: Some(kdf::to_proto(&user.kdf)),
                        legacy: true,
                        ..Default::default()
                    });
                }
                Credential::Opaque(record) => (
                    Some(user.user_id),
                    Some(record.as_slice()),
                    kdf::to_proto(&user.kdf),
                ),
            },
            None => (None, None, kdf::fake_for(self.prelogin_key.as_ref(), &key)),
        };
        let mut login_id = [0u8; LOGIN_ID_LEN];
        rand::rngs::OsRng.fill_bytes(&mut login_id);
        let turn = self.hash_slot().await?;
        let (credential_response, sealed_state) =
            self.opaque
                .login_start(&key, record, &request.credential_request, &login_id)?;
        drop(turn);
        self.store
            .put_login(&PendingLogin {
                login_id,
                user_id,
                sealed_state,
                password_verified_at_ms: None,
                expires_at_ms: now_ms().saturating_add(LOGIN_TTL_MS),
            })
            .await?;
        Ok(v1::LoginStartResponse {
            login_id: login_id.to_vec(),
            credential_response,
            kdf: Some(kdf),
            legacy: false,
        })
    }

    /// A login's second round trip: the password proven, the second factor
    /// checked, a session started.
    pub async fn login_finish(
        &self,
        request: v1::LoginFinishRequest,
        peer: &str,
    ) -> Result<v1::LoginResponse, AuthError> {
        let id = login_id(&request.login_id)?;
        let _turn = self.hash_slot().await?;
        // Taken first: any finish, right or refused, spends the login.
        let pending = self.take_login(&id).await?;
        let device_name = device_name(&request.device_name)?;
        let verified = pending.password_verified_at_ms;
        if verified.is_none() {
            check_message("credential_finalization", &request.credential_finalization)?;
            if let Err(err) = self.opaque.login_finish(
                &id,
                &pending.sealed_state,
                &request.credential_finalization,
            ) {
                tracing::info!(peer, "login refused");
                return Err(err.into());
            }
        }
        let user = self.pending_user(&pending).await?;
        match self
            .check_second_factor(user.user_id, &request.second_factor)
            .await
        {
            Err(AuthError::SecondFactorRequired) => {
                // Kept once more, proven, so that the code can follow
                // without the client stretching the password again.
                let now = now_ms();
                self.store
                    .put_login(&PendingLogin {
                        password_verified_at_ms: Some(verified.unwrap_or(now)),
                        expires_at_ms: now.saturating_add(SECOND_FACTOR_TTL_MS),
                        ..pending
                    })
                    .await?;
                return Err(AuthError::SecondFactorRequired);
            }
            other => other?,
        }
        self.start_session(user, device_name).await
    }

    /// The pending login `id`; a login that expired, was finished or never
    /// was cannot be told apart.
    async fn take_login(&self, id: &[u8; LOGIN_ID_LEN]) -> Result<PendingLogin, AuthError> {
        self.store
            .take_login(id, now_ms())
            .await?
            .ok_or(AuthError::LoginExpired)
    }

    async fn pending_user(&self, pending: &PendingLogin) -> Result<UserRow, AuthError> {
        let user_id = pending.user_id.ok_or(AuthError::BadCredentials)?;
        self.store
            .find_user(user_id)
            .await?
            .ok_or(AuthError::BadCredentials)
    }

    /// A signed-in session's proof of its account's password: a login of
    /// the same account started for it, finished here instead of making a
    /// session.
    pub(super) async fn prove_opaque(
        &self,
        user_id: UserId,
        proof: &v1::OpaqueProof,
    ) -> Result<(), AuthError> {
        let id = login_id(&proof.login_id)?;
        check_message("credential_finalization", &proof.credential_finalization)?;
        let _turn = self.hash_slot().await?;
        let pending = self.take_login(&id).await?;
        if pending.user_id != Some(user_id) || pending.password_verified_at_ms.is_some() {
            return Err(AuthError::BadCredentials);
        }
        self.opaque
            .login_finish(&id, &pending.sealed_state, &proof.credential_finalization)?;
        Ok(())
    }

    /// Registration's first step for a new password of a signed-in account.
    pub async fn change_password_start(
        &self,
        user_id: UserId,
        request: v1::ChangePasswordStartRequest,
    ) -> Result<v1::ChangePasswordStartResponse, AuthError> {
        check_message("registration_request", &request.registration_request)?;
        let user = self
            .store
            .find_user(user_id)
            .await?
            .ok_or(AuthError::Token(super::TokenError::Invalid))?;
        Ok(v1::ChangePasswordStartResponse {
            registration_response: self.opaque.registration_response(
                &username_key(&user.username)?,
                &request.registration_request,
            )?,
        })
    }

    /// A new OPAQUE record, parameters and wrapped key, after a proof of the
    /// current password. A legacy account moves to OPAQUE this way.
    pub async fn change_password(
        &self,
        user_id: UserId,
        session_id: SessionId,
        request: v1::ChangePasswordRequest,
    ) -> Result<(), AuthError> {
        let kdf = kdf::validate(request.new_kdf.as_ref())
            .map_err(|e| AuthError::InvalidArgument(e.to_string()))?;
        check_message("registration_upload", &request.registration_upload)?;
        let record = OpaqueKeys::record_from_upload(&request.registration_upload)?;
        check_wrapped_key("new_wrapped_vault_key", &request.new_wrapped_vault_key)?;
        self.check_password(user_id, session_id, request.current)
            .await?;
        self.store
            .change_credentials(
                user_id,
                &record,
                &kdf,
                &request.new_wrapped_vault_key,
                if request.keep_other_sessions {
                    OtherSessions::Keep
                } else {
                    OtherSessions::RevokeAllBut(session_id)
                },
                now_ms(),
            )
            .await?;
        if request.keep_other_sessions {
            tracing::info!(%user_id, %session_id, "credentials moved to OPAQUE; sessions kept");
        } else {
            tracing::info!(%user_id, %session_id, "password changed; other sessions revoked");
        }
        Ok(())
    }

    /// Drops logins nobody finished; [`super::housekeeping`] runs it.
    pub async fn forget_expired_logins(&self) {
        match self.store.forget_expired_logins(now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(n, "expired logins dropped"),
            Err(err) => tracing::warn!(%err, "could not drop expired logins"),
        }
    }
}

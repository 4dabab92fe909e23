//! The `Account` calls: registration, prelogin, login, device sessions,
//! password change, logout.

use gophkeeper_proto::v1;
use uuid::Uuid;

use super::{
    ApiError, DeviceSession, LoginOutcome, Session, parse_uuid, request, store_pair, with_bearer,
};
use crate::crypto::{AuthKey, KdfParams};

impl Session {
    /// The user's KDF parameters, refused if they are weaker than this
    /// client's floor (a malicious server must not make the password cheap).
    pub async fn prelogin(&self, username: &str) -> Result<KdfParams, ApiError> {
        let answer = self
            .account
            .clone()
            .prelogin(request(v1::PreloginRequest {
                username: username.to_owned(),
            }))
            .await
            .map_err(|s| self.error(&s))?
            .into_inner();
        self.ok();
        let kdf = answer
            .kdf
            .ok_or_else(|| ApiError::Protocol("prelogin answer has no KDF parameters".into()))?;
        KdfParams::from_wire(&kdf, username).map_err(ApiError::Kdf)
    }

    pub async fn register(
        &self,
        username: &str,
        kdf: &KdfParams,
        auth_key: &AuthKey,
        wrapped_vault_key: Vec<u8>,
    ) -> Result<Uuid, ApiError> {
        let answer = self
            .account
            .clone()
            .register(request(v1::RegisterRequest {
                username: username.to_owned(),
                kdf: Some(kdf.into()),
                auth_key: auth_key.as_bytes().to_vec(),
                wrapped_vault_key,
            }))
            .await
            .map_err(|s| self.error(&s))?
            .into_inner();
        self.ok();
        parse_uuid("user_id", &answer.user_id)
    }

    /// Signs in; the session keeps the tokens (read the refresh token with
    /// [`Session::refresh_token`] to store it).
    pub async fn login(
        &self,
        username: &str,
        auth_key: &AuthKey,
        device_name: &str,
    ) -> Result<LoginOutcome, ApiError> {
        self.login_with_second_factor(username, auth_key, device_name, None)
            .await
    }

    /// [`Session::login`] with a TOTP or recovery code, for an account with
    /// two-factor login on (without one the server answers
    /// [`ApiError::SecondFactorRequired`]).
    pub async fn login_with_second_factor(
        &self,
        username: &str,
        auth_key: &AuthKey,
        device_name: &str,
        second_factor: Option<&str>,
    ) -> Result<LoginOutcome, ApiError> {
        let answer = self
            .account
            .clone()
            .login(request(v1::LoginRequest {
                username: username.to_owned(),
                auth_key: auth_key.as_bytes().to_vec(),
                device_name: device_name.to_owned(),
                second_factor: second_factor.unwrap_or_default().to_owned(),
            }))
            .await
            .map_err(|s| self.error(&s))?
            .into_inner();
        self.ok();
        let kdf = answer
            .kdf
            .as_ref()
            .ok_or_else(|| ApiError::Protocol("login answer has no KDF parameters".into()))?;
        let kdf = KdfParams::from_wire(kdf, username).map_err(ApiError::Kdf)?;
        let pair = answer
            .tokens
            .ok_or_else(|| ApiError::Protocol("login answer has no tokens".into()))?;
        let outcome = LoginOutcome {
            user_id: parse_uuid("user_id", &answer.user_id)?,
            session_id: answer.session_id,
            wrapped_vault_key: answer.wrapped_vault_key,
            kdf,
        };
        let mut tokens = self.tokens.lock().await;
        store_pair(&mut tokens, pair);
        Ok(outcome)
    }

    pub async fn list_sessions(&self) -> Result<Vec<DeviceSession>, ApiError> {
        let answer = self
            .authed(|bearer| {
                let mut client = self.account.clone();
                async move {
                    client
                        .list_sessions(with_bearer(v1::ListSessionsRequest {}, bearer))
                        .await
                }
            })
            .await?;
        Ok(answer
            .sessions
            .into_iter()
            .map(|s| DeviceSession {
                session_id: s.session_id,
                device_name: s.device_name,
                created_at_ms: s.created_at_ms,
                last_seen_at_ms: s.last_seen_at_ms,
                current: s.current,
            })
            .collect())
    }

    pub async fn revoke_session(&self, session_id: &str) -> Result<(), ApiError> {
        self.authed(|bearer| {
            let mut client = self.account.clone();
            let message = v1::RevokeSessionRequest {
                session_id: session_id.to_owned(),
            };
            async move { client.revoke_session(with_bearer(message, bearer)).await }
        })
        .await?;
        Ok(())
    }

    /// Replaces the credentials on the server. The server revokes every
    /// other session of the user; this one continues.
    pub async fn change_password(
        &self,
        current: &AuthKey,
        new: &AuthKey,
        new_kdf: &KdfParams,
        new_wrapped_vault_key: &[u8],
        keep_other_sessions: bool,
    ) -> Result<(), ApiError> {
        self.authed(|bearer| {
            let mut client = self.account.clone();
            let message = v1::ChangePasswordRequest {
                current_auth_key: current.as_bytes().to_vec(),
                new_auth_key: new.as_bytes().to_vec(),
                new_kdf: Some(new_kdf.into()),
                new_wrapped_vault_key: new_wrapped_vault_key.to_vec(),
                keep_other_sessions,
            };
            async move { client.change_password(with_bearer(message, bearer)).await }
        })
        .await?;
        Ok(())
    }

    /// Ends this session on the server and forgets the tokens, even if the
    /// server could not be told (the tokens are useless to us either way).
    pub async fn logout(&self) -> Result<(), ApiError> {
        let result = self
            .authed(|bearer| {
                let mut client = self.account.clone();
                async move {
                    client
                        .logout(with_bearer(v1::LogoutRequest {}, bearer))
                        .await
                }
            })
            .await;
        self.forget_tokens().await;
        result.map(|_| ())
    }

    pub async fn two_factor_status(&self) -> Result<v1::TwoFactorStatusResponse, ApiError> {
        self.authed(|bearer| {
            let mut client = self.account.clone();
            async move {
                client
                    .two_factor_status(with_bearer(v1::TwoFactorStatusRequest {}, bearer))
                    .await
            }
        })
        .await
    }

    /// A new TOTP secret, not in force until [`Session::enable_two_factor`].
    pub async fn begin_two_factor(
        &self,
        current: &AuthKey,
    ) -> Result<v1::BeginTwoFactorResponse, ApiError> {
        self.authed(|bearer| {
            let mut client = self.account.clone();
            let message = v1::BeginTwoFactorRequest {
                current_auth_key: current.as_bytes().to_vec(),
            };
            async move { client.begin_two_factor(with_bearer(message, bearer)).await }
        })
        .await
    }

    /// Turns two-factor login on; returns the recovery codes.
    pub async fn enable_two_factor(&self, code: &str) -> Result<Vec<String>, ApiError> {
        let answer = self
            .authed(|bearer| {
                let mut client = self.account.clone();
                let message = v1::EnableTwoFactorRequest {
                    code: code.to_owned(),
                };
                async move { client.enable_two_factor(with_bearer(message, bearer)).await }
            })
            .await?;
        Ok(answer.recovery_codes)
    }

    pub async fn disable_two_factor(
        &self,
        current: &AuthKey,
        second_factor: &str,
    ) -> Result<(), ApiError> {
        self.authed(|bearer| {
            let mut client = self.account.clone();
            let message = v1::DisableTwoFactorRequest {
                current_auth_key: current.as_bytes().to_vec(),
                second_factor: second_factor.to_owned(),
            };
            async move {
                client
                    .disable_two_factor(with_bearer(message, bearer))
                    .await
            }
        })
        .await?;
        Ok(())
    }
}

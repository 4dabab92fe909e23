//! The `Account` calls: registration, prelogin, login (OPAQUE, and the
//! legacy one), device sessions, password change, logout, two-factor login.

use gophkeeper_proto::v1;
use uuid::Uuid;

use super::{
    ApiError, DeviceSession, LoginOutcome, LoginStart, PasswordProof, Session, parse_uuid, request,
    store_pair, with_bearer,
};
use crate::crypto::{AuthKey, KdfParams};

impl Session {
    /// Registration's first round trip: the server's OPRF answer to
    /// `request`, for a name not taken yet.
    pub async fn register_start(
        &self,
        username: &str,
        request: Vec<u8>,
    ) -> Result<Vec<u8>, ApiError> {
        let answer = self
            .account
            .clone()
            .register_start(super::request(v1::RegisterStartRequest {
                username: username.to_owned(),
                registration_request: request,
            }))
            .await
            .map_err(|s| self.error(&s))?
            .into_inner();
        self.ok();
        Ok(answer.registration_response)
    }

    pub async fn register(
        &self,
        username: &str,
        kdf: &KdfParams,
        registration_upload: Vec<u8>,
        wrapped_vault_key: Vec<u8>,
    ) -> Result<Uuid, ApiError> {
        let answer = self
            .account
            .clone()
            .register(request(v1::RegisterRequest {
                username: username.to_owned(),
                kdf: Some(kdf.into()),
                registration_upload,
                wrapped_vault_key,
            }))
            .await
            .map_err(|s| self.error(&s))?
            .into_inner();
        self.ok();
        parse_uuid("user_id", &answer.user_id)
    }

    /// A login's first round trip. The KDF parameters are checked against
    /// this client's floor and ceiling before anything is stretched.
    pub async fn login_start(
        &self,
        username: &str,
        credential_request: Vec<u8>,
    ) -> Result<LoginStart, ApiError> {
        let answer = self
            .account
            .clone()
            .login_start(request(v1::LoginStartRequest {
                username: username.to_owned(),
                credential_request,
            }))
            .await
            .map_err(|s| self.error(&s))?
            .into_inner();
        self.ok();
        let kdf = answer
            .kdf
            .ok_or_else(|| ApiError::Protocol("login answer has no KDF parameters".into()))?;
        Ok(LoginStart {
            login_id: answer.login_id,
            credential_response: answer.credential_response,
            kdf: KdfParams::from_wire(&kdf, username).map_err(ApiError::Kdf)?,
            legacy: answer.legacy,
        })
    }

    /// A login's second round trip; the session keeps the tokens. After
    /// [`ApiError::SecondFactorRequired`] the same login may be finished
    /// once more with a code.
    pub async fn login_finish(
        &self,
        username: &str,
        login_id: &[u8],
        finalization: &[u8],
        device_name: &str,
        second_factor: Option<&str>,
    ) -> Result<LoginOutcome, ApiError> {
        let answer = self
            .account
            .clone()
            .login_finish(request(v1::LoginFinishRequest {
                login_id: login_id.to_vec(),
                credential_finalization: finalization.to_vec(),
                device_name: device_name.to_owned(),
                second_factor: second_factor.unwrap_or_default().to_owned(),
            }))
            .await
            .map_err(|s| self.error(&s))?
            .into_inner();
        self.ok();
        self.signed_in(username, answer).await
    }

    /// The login of an account not yet moved to OPAQUE, with a TOTP or
    /// recovery code if it has two-factor login on.
    pub async fn legacy_login(
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
        self.signed_in(username, answer).await
    }

    /// Keeps a login answer's tokens; its outcome.
    async fn signed_in(
        &self,
        username: &str,
        answer: v1::LoginResponse,
    ) -> Result<LoginOutcome, ApiError> {
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

    /// Registration's first round trip for a new password of this account.
    pub async fn change_password_start(&self, request: Vec<u8>) -> Result<Vec<u8>, ApiError> {
        let answer = self
            .authed(|bearer| {
                let mut client = self.account.clone();
                let message = v1::ChangePasswordStartRequest {
                    registration_request: request.clone(),
                };
                async move {
                    client
                        .change_password_start(with_bearer(message, bearer))
                        .await
                }
            })
            .await?;
        Ok(answer.registration_response)
    }

    /// Replaces the credentials on the server. Unless `keep_other_sessions`,
    /// the server revokes every other session of the user; this one
    /// continues.
    pub async fn change_password(
        &self,
        current: &PasswordProof,
        registration_upload: &[u8],
        new_kdf: &KdfParams,
        new_wrapped_vault_key: &[u8],
        keep_other_sessions: bool,
    ) -> Result<(), ApiError> {
        self.authed(|bearer| {
            let mut client = self.account.clone();
            let message = v1::ChangePasswordRequest {
                current: Some(current.into()),
                registration_upload: registration_upload.to_vec(),
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
        current: &PasswordProof,
    ) -> Result<v1::BeginTwoFactorResponse, ApiError> {
        self.authed(|bearer| {
            let mut client = self.account.clone();
            let message = v1::BeginTwoFactorRequest {
                current: Some(current.into()),
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
        current: &PasswordProof,
        second_factor: &str,
    ) -> Result<(), ApiError> {
        self.authed(|bearer| {
            let mut client = self.account.clone();
            let message = v1::DisableTwoFactorRequest {
                current: Some(current.into()),
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

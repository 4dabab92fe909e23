//! The public `Account` API: passes each call to the auth service, adding
//! the caller's address (for login limits) or principal.

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_server::Account;
use tonic::{Request, Response, Status};

use super::{Backends, authenticate, forward};

#[derive(Debug, Clone)]
pub struct AccountApi {
    backends: Backends,
}

impl AccountApi {
    pub fn new(backends: Backends) -> Self {
        Self { backends }
    }
}

/// The client's IP address (not port: one machine is one limit bucket).
fn peer<T>(request: &Request<T>) -> String {
    request
        .remote_addr()
        .map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string())
}

#[tonic::async_trait]
impl Account for AccountApi {
    async fn prelogin(
        &self,
        request: Request<v1::PreloginRequest>,
    ) -> Result<Response<v1::PreloginResponse>, Status> {
        self.backends
            .auth
            .clone()
            .prelogin(request.into_inner())
            .await
            .map_err(forward)
    }

    async fn register(
        &self,
        request: Request<v1::RegisterRequest>,
    ) -> Result<Response<v1::RegisterResponse>, Status> {
        let peer = peer(&request);
        self.backends
            .auth
            .clone()
            .register(v1::InternalRegisterRequest {
                request: Some(request.into_inner()),
                peer,
            })
            .await
            .map_err(forward)
    }

    async fn register_start(
        &self,
        request: Request<v1::RegisterStartRequest>,
    ) -> Result<Response<v1::RegisterStartResponse>, Status> {
        let peer = peer(&request);
        self.backends
            .auth
            .clone()
            .register_start(v1::InternalRegisterStartRequest {
                request: Some(request.into_inner()),
                peer,
            })
            .await
            .map_err(forward)
    }

    async fn login_start(
        &self,
        request: Request<v1::LoginStartRequest>,
    ) -> Result<Response<v1::LoginStartResponse>, Status> {
        let peer = peer(&request);
        self.backends
            .auth
            .clone()
            .login_start(v1::InternalLoginStartRequest {
                request: Some(request.into_inner()),
                peer,
            })
            .await
            .map_err(forward)
    }

    async fn login_finish(
        &self,
        request: Request<v1::LoginFinishRequest>,
    ) -> Result<Response<v1::LoginResponse>, Status> {
        let peer = peer(&request);
        self.backends
            .auth
            .clone()
            .login_finish(v1::InternalLoginFinishRequest {
                request: Some(request.into_inner()),
                peer,
            })
            .await
            .map_err(forward)
    }

    async fn change_password_start(
        &self,
        request: Request<v1::ChangePasswordStartRequest>,
    ) -> Result<Response<v1::ChangePasswordStartResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .change_password_start(v1::InternalChangePasswordStartRequest {
                principal: Some(principal),
                request: Some(request.into_inner()),
            })
            .await
            .map_err(forward)
    }

    async fn login(
        &self,
        request: Request<v1::LoginRequest>,
    ) -> Result<Response<v1::LoginResponse>, Status> {
        let peer = peer(&request);
        self.backends
            .auth
            .clone()
            .login(v1::InternalLoginRequest {
                request: Some(request.into_inner()),
                peer,
            })
            .await
            .map_err(forward)
    }

    async fn refresh(
        &self,
        request: Request<v1::RefreshRequest>,
    ) -> Result<Response<v1::TokenPair>, Status> {
        self.backends
            .auth
            .clone()
            .refresh(request.into_inner())
            .await
            .map_err(forward)
    }

    async fn logout(
        &self,
        request: Request<v1::LogoutRequest>,
    ) -> Result<Response<v1::LogoutResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .logout(principal)
            .await
            .map_err(forward)
    }

    async fn list_sessions(
        &self,
        request: Request<v1::ListSessionsRequest>,
    ) -> Result<Response<v1::ListSessionsResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .list_sessions(principal)
            .await
            .map_err(forward)
    }

    async fn revoke_session(
        &self,
        request: Request<v1::RevokeSessionRequest>,
    ) -> Result<Response<v1::RevokeSessionResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .revoke_session(v1::InternalRevokeSessionRequest {
                principal: Some(principal),
                session_id: request.into_inner().session_id,
            })
            .await
            .map_err(forward)
    }

    async fn change_password(
        &self,
        request: Request<v1::ChangePasswordRequest>,
    ) -> Result<Response<v1::ChangePasswordResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .change_password(v1::InternalChangePasswordRequest {
                principal: Some(principal),
                request: Some(request.into_inner()),
            })
            .await
            .map_err(forward)
    }

    async fn two_factor_status(
        &self,
        request: Request<v1::TwoFactorStatusRequest>,
    ) -> Result<Response<v1::TwoFactorStatusResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .two_factor_status(principal)
            .await
            .map_err(forward)
    }

    async fn begin_two_factor(
        &self,
        request: Request<v1::BeginTwoFactorRequest>,
    ) -> Result<Response<v1::BeginTwoFactorResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .begin_two_factor(v1::InternalBeginTwoFactorRequest {
                principal: Some(principal),
                request: Some(request.into_inner()),
            })
            .await
            .map_err(forward)
    }

    async fn enable_two_factor(
        &self,
        request: Request<v1::EnableTwoFactorRequest>,
    ) -> Result<Response<v1::EnableTwoFactorResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .enable_two_factor(v1::InternalEnableTwoFactorRequest {
                principal: Some(principal),
                request: Some(request.into_inner()),
            })
            .await
            .map_err(forward)
    }

    async fn disable_two_factor(
        &self,
        request: Request<v1::DisableTwoFactorRequest>,
    ) -> Result<Response<v1::DisableTwoFactorResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .auth
            .clone()
            .disable_two_factor(v1::InternalDisableTwoFactorRequest {
                principal: Some(principal),
                request: Some(request.into_inner()),
            })
            .await
            .map_err(forward)
    }
}

//! Every service error becomes a gRPC status here, in one place. Each status
//! carries a stable machine-readable reason in the `gk-reason` metadata
//! entry, so clients can act on it without parsing messages.

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use crate::auth::{AuthError, TokenError};
use crate::command::CommandError;
use crate::query::QueryError;

/// The metadata key holding the reason.
pub const REASON_KEY: &str = "gk-reason";
/// How long to wait before retrying, in milliseconds, where that is known.
pub const RETRY_AFTER_KEY: &str = "retry-after-ms";

pub fn with_reason(code: Code, message: impl Into<String>, reason: &'static str) -> Status {
    let mut status = Status::new(code, message);
    status
        .metadata_mut()
        .insert(REASON_KEY, MetadataValue::from_static(reason));
    status
}

impl From<AuthError> for Status {
    fn from(err: AuthError) -> Self {
        let message = err.to_string();
        let (code, reason) = match &err {
            AuthError::InvalidArgument(_) => (Code::InvalidArgument, "INVALID_ARGUMENT"),
            AuthError::UsernameTaken => (Code::AlreadyExists, "USERNAME_TAKEN"),
            AuthError::BadCredentials => (Code::Unauthenticated, "BAD_CREDENTIALS"),
            AuthError::RateLimited(limited) => {
                let mut status = with_reason(Code::ResourceExhausted, message, "RATE_LIMITED");
                let millis = limited.retry_after.as_millis().max(1).to_string();
                if let Ok(value) = millis.parse() {
                    status.metadata_mut().insert(RETRY_AFTER_KEY, value);
                }
                return status;
            }
            AuthError::Token(TokenError::Expired) => (Code::Unauthenticated, "TOKEN_EXPIRED"),
            AuthError::Token(TokenError::Invalid) => (Code::Unauthenticated, "TOKEN_INVALID"),
            AuthError::SessionRevoked => (Code::Unauthenticated, "SESSION_REVOKED"),
            AuthError::RefreshExpired => (Code::Unauthenticated, "REFRESH_TOKEN_EXPIRED"),
            AuthError::RefreshInvalid => (Code::Unauthenticated, "REFRESH_TOKEN_INVALID"),
            AuthError::RefreshReused => (Code::Unauthenticated, "REFRESH_TOKEN_REUSED"),
            AuthError::SessionNotFound => (Code::NotFound, "SESSION_NOT_FOUND"),
            AuthError::Unexpected(cause) => {
                tracing::error!(error = %cause, "auth service failed");
                (Code::Unavailable, "UNAVAILABLE")
            }
        };
        with_reason(code, message, reason)
    }
}

impl From<CommandError> for Status {
    fn from(err: CommandError) -> Self {
        let (code, reason) = match &err {
            CommandError::InvalidArgument(_) => (Code::InvalidArgument, "INVALID_ARGUMENT"),
            CommandError::TooLarge { .. } => (Code::InvalidArgument, "RECORD_TOO_LARGE"),
            CommandError::Unavailable(_) => (Code::Unavailable, "UNAVAILABLE"),
        };
        with_reason(code, err.to_string(), reason)
    }
}

impl From<QueryError> for Status {
    fn from(err: QueryError) -> Self {
        let (code, reason) = match &err {
            QueryError::InvalidArgument(_) => (Code::InvalidArgument, "INVALID_ARGUMENT"),
            QueryError::NotCaughtUp { .. } => (Code::Unavailable, "REPLICA_BEHIND"),
            QueryError::Unavailable(cause) => {
                tracing::error!(error = %cause, "vault read failed");
                (Code::Unavailable, "UNAVAILABLE")
            }
        };
        with_reason(code, err.to_string(), reason)
    }
}

/// Reads the reason a status carries, if any.
pub fn reason(status: &Status) -> Option<&str> {
    status.metadata().get(REASON_KEY)?.to_str().ok()
}

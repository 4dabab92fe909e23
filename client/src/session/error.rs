//! gRPC statuses turned into what a caller can act on: retry later, log in
//! again, or fix the input. The server names the cause in the `gk-reason`
//! metadata entry; messages are for people and never parsed.

use std::time::Duration;

use tonic::{Code, Status};

use crate::crypto::CryptoError;
use crate::transport::{Transport, TransportError};

/// Metadata keys the server sets on every error (see the server's
/// `status.rs`).
const REASON_KEY: &str = "gk-reason";
const RETRY_AFTER_KEY: &str = "retry-after-ms";

/// Why the server wants the person to log in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginReason {
    /// This device has no session (never logged in, or logged out).
    NotLoggedIn,
    /// The access token expired and could not be refreshed.
    TokenExpired,
    TokenInvalid,
    /// Revoked from another device, or by a password change.
    SessionRevoked,
    /// A refresh token was used twice, so the server ended the session:
    /// either a stale copy of this profile, or a stolen token.
    RefreshTokenReused,
    RefreshTokenExpired,
    RefreshTokenInvalid,
}

/// The three things a caller can do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Offline or overloaded: keep the work queued and try again later.
    Retry,
    /// The session is over: ask for the master password and log in.
    LoginAgain,
    /// The request itself was refused; retrying it will not help.
    BadInput,
    /// The server is not who it should be, or misbehaves. Stop.
    Security,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("server unavailable ({message}); working offline, retry later")]
    Unavailable { message: String },
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("log in again: {message}")]
    LoginRequired {
        reason: LoginReason,
        message: String,
    },
    #[error("wrong user name or master password")]
    BadCredentials,
    #[error("too many attempts; {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// The server's sign-in work was all taken for its whole queue time.
    #[error("{message}")]
    Busy {
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("that user name is taken")]
    UsernameTaken,
    #[error(
        "this account needs a second factor: a code from the authenticator app or a recovery code"
    )]
    SecondFactorRequired,
    #[error("that code is wrong, expired or already used")]
    SecondFactorInvalid,
    /// The login was finished already or took too long; start it again.
    #[error("this sign-in expired or was finished already; sign in again")]
    LoginExpired,
    #[error("{message}")]
    TwoFactorState { message: String },
    #[error("{message}")]
    RecordTooLarge { message: String },
    #[error("the server refused the request: {message}")]
    InvalidArgument { message: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    #[error("too many live connections for this account; close another device's session")]
    TooManyStreams,
    /// A prelogin or login answer asked for KDF parameters this client will
    /// not use: a downgrade attempt, or a server from the future.
    #[error("the server's key-derivation parameters are unacceptable: {0}")]
    Kdf(#[source] CryptoError),
    #[error("the server's answer is malformed: {0}")]
    Protocol(String),
    #[error("unexpected server error ({code:?}): {message}")]
    Unexpected { code: Code, message: String },
}

impl ApiError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Unavailable { .. }
            | Self::RateLimited { .. }
            | Self::Busy { .. }
            | Self::TooManyStreams => ErrorClass::Retry,
            Self::Transport(TransportError::Unreachable { .. }) => ErrorClass::Retry,
            Self::Transport(
                TransportError::CertificateChanged { .. } | TransportError::Untrusted { .. },
            )
            | Self::Kdf(_)
            | Self::Protocol(_) => ErrorClass::Security,
            Self::LoginRequired { .. } => ErrorClass::LoginAgain,
            Self::Transport(_)
            | Self::BadCredentials
            | Self::UsernameTaken
            | Self::SecondFactorRequired
            | Self::SecondFactorInvalid
            | Self::LoginExpired
            | Self::TwoFactorState { .. }
            | Self::RecordTooLarge { .. }
            | Self::InvalidArgument { .. }
            | Self::NotFound { .. }
            | Self::Unexpected { .. } => ErrorClass::BadInput,
        }
    }

    /// Offline or busy: the operation may succeed later unchanged.
    pub fn is_retryable(&self) -> bool {
        self.class() == ErrorClass::Retry
    }

    pub fn needs_login(&self) -> bool {
        self.class() == ErrorClass::LoginAgain
    }

    pub(crate) fn is_token_expired(&self) -> bool {
        matches!(
            self,
            Self::LoginRequired {
                reason: LoginReason::TokenExpired,
                ..
            }
        )
    }

    pub(crate) fn not_logged_in() -> Self {
        Self::LoginRequired {
            reason: LoginReason::NotLoggedIn,
            message: "this device is not logged in".into(),
        }
    }

    /// Maps a status, consulting the transport for the one failure that a
    /// status cannot carry: a refused pinned certificate.
    pub(crate) fn from_status(status: &Status, transport: &Transport) -> Self {
        let message = status.message().chars().take(500).collect::<String>();
        let reason = status
            .metadata()
            .get(REASON_KEY)
            .and_then(|v| v.to_str().ok());
        let login = |reason| Self::LoginRequired {
            reason,
            message: message.clone(),
        };
        match reason {
            Some("TOKEN_EXPIRED") => login(LoginReason::TokenExpired),
            Some("TOKEN_INVALID" | "TOKEN_MISSING") => login(LoginReason::TokenInvalid),
            Some("SESSION_REVOKED") => login(LoginReason::SessionRevoked),
            Some("REFRESH_TOKEN_REUSED") => login(LoginReason::RefreshTokenReused),
            Some("REFRESH_TOKEN_EXPIRED") => login(LoginReason::RefreshTokenExpired),
            Some("REFRESH_TOKEN_INVALID") => login(LoginReason::RefreshTokenInvalid),
            Some("BAD_CREDENTIALS") => Self::BadCredentials,
            Some("USERNAME_TAKEN") => Self::UsernameTaken,
            Some("SECOND_FACTOR_REQUIRED") => Self::SecondFactorRequired,
            Some("SECOND_FACTOR_INVALID") => Self::SecondFactorInvalid,
            Some("LOGIN_EXPIRED") => Self::LoginExpired,
            Some("TWO_FACTOR_STATE") => Self::TwoFactorState { message },
            Some("RATE_LIMITED") => Self::RateLimited {
                retry_after: retry_after(status),
                message,
            },
            Some("SERVER_BUSY") => Self::Busy {
                retry_after: retry_after(status),
                message,
            },
            Some("RECORD_TOO_LARGE" | "REQUEST_TOO_LARGE") => Self::RecordTooLarge { message },
            Some("INVALID_ARGUMENT" | "MALFORMED_REQUEST") => Self::InvalidArgument { message },
            Some("SESSION_NOT_FOUND") => Self::NotFound { message },
            Some("TOO_MANY_STREAMS") => Self::TooManyStreams,
            Some("UNAVAILABLE" | "REPLICA_BEHIND") => Self::Unavailable { message },
            _ => Self::from_code(status.code(), message, transport, from_our_side(status)),
        }
    }

    fn from_code(code: Code, message: String, transport: &Transport, ours: bool) -> Self {
        match code {
            Code::Unavailable | Code::Unknown | Code::DeadlineExceeded | Code::Cancelled => {
                if let Some(changed) = transport.certificate_changed() {
                    return Self::Transport(changed);
                }
                // UNKNOWN sent by a server is a fault of the server; made on
                // our side it is a connection that broke under the call
                // (cut, reset, closed before the answer): offline, retry.
                if code == Code::Unknown && !ours {
                    return Self::Unexpected { code, message };
                }
                Self::Unavailable { message }
            }
            Code::Unauthenticated => Self::LoginRequired {
                reason: LoginReason::TokenInvalid,
                message,
            },
            Code::InvalidArgument => Self::InvalidArgument { message },
            Code::NotFound => Self::NotFound { message },
            code => Self::Unexpected { code, message },
        }
    }
}

/// The `retry-after-ms` a status carries, if any.
fn retry_after(status: &Status) -> Option<Duration> {
    status
        .metadata()
        .get(RETRY_AFTER_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

/// Whether our own gRPC stack made `status` from a transport failure rather
/// than receiving it from a server: tonic keeps the underlying error as the
/// source of the statuses it makes, and a status read off the wire has none.
fn from_our_side(status: &Status) -> bool {
    std::error::Error::source(status).is_some()
}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataValue;

    use super::*;
    use crate::transport::{ServerUrl, Trust};

    fn status(code: Code, reason: Option<&'static str>) -> Status {
        let mut status = Status::new(code, "from the server");
        if let Some(reason) = reason {
            status
                .metadata_mut()
                .insert(REASON_KEY, MetadataValue::from_static(reason));
        }
        status
    }

    #[tokio::test]
    async fn reasons_sort_into_retry_login_again_and_bad_input() {
        let transport = Transport::open(ServerUrl::default(), Trust::SystemRoots)
            .await
            .unwrap();
        let class = |code, reason| ApiError::from_status(&status(code, reason), &transport).class();
        use Code::*;
        for (code, reason) in [
            (Unavailable, Some("UNAVAILABLE")),
            (Unavailable, Some("REPLICA_BEHIND")),
            (ResourceExhausted, Some("RATE_LIMITED")),
            (ResourceExhausted, Some("SERVER_BUSY")),
            (Unavailable, None),
            (DeadlineExceeded, None),
        ] {
            assert_eq!(
                class(code, reason),
                ErrorClass::Retry,
                "{code:?} {reason:?}"
            );
        }
        for reason in [
            "TOKEN_EXPIRED",
            "TOKEN_INVALID",
            "SESSION_REVOKED",
            "REFRESH_TOKEN_REUSED",
            "REFRESH_TOKEN_EXPIRED",
        ] {
            assert_eq!(class(Unauthenticated, Some(reason)), ErrorClass::LoginAgain);
        }
        for (code, reason) in [
            (Unauthenticated, Some("BAD_CREDENTIALS")),
            (InvalidArgument, Some("RECORD_TOO_LARGE")),
            (InvalidArgument, Some("INVALID_ARGUMENT")),
            (InvalidArgument, Some("MALFORMED_REQUEST")),
            (ResourceExhausted, Some("REQUEST_TOO_LARGE")),
            (AlreadyExists, Some("USERNAME_TAKEN")),
            (Unauthenticated, Some("SECOND_FACTOR_REQUIRED")),
            (Unauthenticated, Some("SECOND_FACTOR_INVALID")),
            (Unauthenticated, Some("LOGIN_EXPIRED")),
            (FailedPrecondition, Some("TWO_FACTOR_STATE")),
        ] {
            assert_eq!(class(code, reason), ErrorClass::BadInput, "{reason:?}");
        }
        let mut limited = status(ResourceExhausted, Some("RATE_LIMITED"));
        limited
            .metadata_mut()
            .insert(RETRY_AFTER_KEY, MetadataValue::from_static("1500"));
        assert!(matches!(
            ApiError::from_status(&limited, &transport),
            ApiError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_millis(1500)
        ));
        let mut busy = status(ResourceExhausted, Some("SERVER_BUSY"));
        busy.metadata_mut()
            .insert(RETRY_AFTER_KEY, MetadataValue::from_static("2000"));
        assert!(matches!(
            ApiError::from_status(&busy, &transport),
            ApiError::Busy { retry_after: Some(d), .. } if d == Duration::from_secs(2)
        ));
        assert!(
            ApiError::from_status(&status(Unauthenticated, Some("TOKEN_EXPIRED")), &transport)
                .is_token_expired()
        );
    }

    /// A connection that breaks under a call (the network model test hit
    /// one: `Unknown: transport error` from a sync) is offline, not a bad
    /// request; an UNKNOWN the server sends stays unexpected.
    #[tokio::test]
    async fn a_broken_connection_is_retryable_but_a_servers_unknown_is_not() {
        let transport = Transport::open(ServerUrl::default(), Trust::SystemRoots)
            .await
            .unwrap();
        let broken = Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )));
        assert_eq!(broken.code(), Code::Unknown);
        let error = ApiError::from_status(&broken, &transport);
        assert!(error.is_retryable(), "{error:?}");

        let sent = status(Code::Unknown, None);
        let error = ApiError::from_status(&sent, &transport);
        assert!(
            matches!(
                error,
                ApiError::Unexpected {
                    code: Code::Unknown,
                    ..
                }
            ),
            "{error:?}"
        );
    }
}

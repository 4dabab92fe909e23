//! Every service error becomes a gRPC status here, in one place. Each status
//! carries a stable machine-readable reason in the `gk-reason` metadata
//! entry, so clients can act on it without parsing messages.

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use crate::auth::{AuthError, TokenError};
use crate::command::CommandError;
use crate::logging::ErrorChain;
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
                return retry_later(message, "RATE_LIMITED", limited.retry_after);
            }
            AuthError::Busy { retry_after } => {
                return retry_later(message, "SERVER_BUSY", *retry_after);
            }
            AuthError::Token(TokenError::Expired) => (Code::Unauthenticated, "TOKEN_EXPIRED"),
            AuthError::Token(TokenError::Invalid) => (Code::Unauthenticated, "TOKEN_INVALID"),
            AuthError::SessionRevoked => (Code::Unauthenticated, "SESSION_REVOKED"),
            AuthError::RefreshExpired => (Code::Unauthenticated, "REFRESH_TOKEN_EXPIRED"),
            AuthError::RefreshInvalid => (Code::Unauthenticated, "REFRESH_TOKEN_INVALID"),
            AuthError::RefreshReused => (Code::Unauthenticated, "REFRESH_TOKEN_REUSED"),
            AuthError::SessionNotFound => (Code::NotFound, "SESSION_NOT_FOUND"),
            AuthError::LoginExpired => (Code::Unauthenticated, "LOGIN_EXPIRED"),
            AuthError::SecondFactorRequired => (Code::Unauthenticated, "SECOND_FACTOR_REQUIRED"),
            AuthError::SecondFactorInvalid => (Code::Unauthenticated, "SECOND_FACTOR_INVALID"),
            AuthError::TwoFactorState(_) => (Code::FailedPrecondition, "TWO_FACTOR_STATE"),
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
            CommandError::Unavailable(cause) => {
                // The one place a broker failure is logged, with its cause;
                // the client learns only that it may retry.
                tracing::warn!(error = %ErrorChain(cause), "command not published");
                (Code::Unavailable, "BROKER_UNAVAILABLE")
            }
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

/// RESOURCE_EXHAUSTED with the reason and the time to wait in
/// `retry-after-ms`.
fn retry_later(message: String, reason: &'static str, retry_after: std::time::Duration) -> Status {
    let mut status = with_reason(Code::ResourceExhausted, message, reason);
    let millis = retry_after.as_millis().max(1).to_string();
    if let Ok(value) = millis.parse() {
        status.metadata_mut().insert(RETRY_AFTER_KEY, value);
    }
    status
}

/// Reads the reason a status carries, if any.
pub fn reason(status: &Status) -> Option<&str> {
    status.metadata().get(REASON_KEY)?.to_str().ok()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use rdkafka::error::{KafkaError, RDKafkaErrorCode};

    use super::*;
    use crate::broker::BrokerError;

    /// Log lines written while `f` runs.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_broker_failure_is_logged_once_with_its_cause_and_told_briefly() {
        let cause = KafkaError::MessageProduction(RDKafkaErrorCode::BrokerTransportFailure);
        let cause_text = cause.to_string();
        let mut status = None;
        let log = logged(|| {
            status = Some(Status::from(CommandError::Unavailable(BrokerError::Kafka(
                cause,
            ))));
        });
        let status = status.unwrap();
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(reason(&status), Some("BROKER_UNAVAILABLE"));
        assert_eq!(status.message(), "command broker unavailable, retry");
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(log.contains(&cause_text), "{log}");
    }

    #[test]
    fn a_broker_timeout_names_the_wait_in_the_log_only() {
        let mut status = None;
        let log = logged(|| {
            status = Some(Status::from(CommandError::Unavailable(
                BrokerError::Timeout { millis: 1500 },
            )));
        });
        let status = status.unwrap();
        assert!(!status.message().contains("1500"), "{}", status.message());
        assert!(log.contains("within 1500 ms"), "{log}");
    }
}

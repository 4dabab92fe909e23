//! The command broker between producer and consumer. A trait pair so that
//! the consumer code is the same for the in-process channel (single node)
//! and Kafka (cluster); configuration picks one.
//!
//! Messages are keyed by a hash of the user id: a keyed broker sends one
//! user's commands to one partition, which keeps them in order.

pub mod in_process;
pub mod kafka;
pub mod kafka_security;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::ids::UserId;

/// Why the broker could not take or hand over a message. Every kind means
/// "retry later or elsewhere" to a client; the kinds are for the server's
/// log, which records the cause once, where the error becomes a status
/// (`crate::status`). The client gets a short message and a reason.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The server is stopping and takes no more commands.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The in-process consumer is gone.
    #[error("the command consumer stopped")]
    ConsumerStopped,
    /// The broker did not confirm a message in time.
    #[error("the broker did not confirm the message within {millis} ms")]
    Timeout { millis: u128 },
    /// The broker's client library failed (connection, protocol, broker
    /// error code).
    #[error("Kafka client")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The broker refused this process's credentials (`[kafka.security]`).
    #[error("the Kafka broker refused our login: {reason}")]
    Refused { reason: String },
    /// No answer while logging in with SASL: most likely the credentials.
    #[error(
        "the Kafka brokers did not let us in as {user:?} in time; check \
         kafka.security's sasl_username, sasl_password and sasl_mechanism"
    )]
    NotLetIn {
        user: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// `[kafka.security]` cannot be used as written.
    #[error(transparent)]
    Security(#[from] kafka_security::SecurityError),
    /// The broker refused to create a topic, or it has no partitions.
    #[error("topic {topic}: {problem}")]
    Topic { topic: String, problem: String },
}

/// The partition key for a user's commands: the first 16 bytes of SHA-256 of
/// the user id. Stable across processes and releases, spreads users evenly.
pub fn partition_key(user: UserId) -> [u8; 16] {
    let digest = Sha256::digest(user.0.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The producer side.
#[async_trait]
pub trait CommandPublisher: Send + Sync + 'static {
    /// Returns once the broker holds the message (for Kafka: acks=all).
    async fn publish(&self, key: [u8; 16], payload: Vec<u8>) -> Result<(), BrokerError>;
}

/// One message handed to the consumer; commit it after its effect is stored.
#[derive(Debug)]
pub struct Delivery {
    pub key: [u8; 16],
    pub payload: Vec<u8>,
    /// Broker position, opaque to the consumer (partition and offset for Kafka).
    pub position: (i32, i64),
}

/// The consumer side.
#[async_trait]
pub trait CommandSubscriber: Send + 'static {
    /// The next message, or `None` once the broker is closed and drained.
    async fn next(&mut self) -> Result<Option<Delivery>, BrokerError>;

    /// A message that has already arrived, without waiting: `None` when
    /// there is none right now. The consumer takes what queued up while it
    /// was applying the last batch as its next batch.
    fn try_next(&mut self) -> Option<Delivery>;

    /// Marks the message as done; after a restart delivery resumes after it.
    async fn commit(&mut self, delivery: &Delivery) -> Result<(), BrokerError>;

    /// Marks a batch of messages, received in this order, as done.
    async fn commit_all(&mut self, deliveries: &[Delivery]) -> Result<(), BrokerError> {
        for delivery in deliveries {
            self.commit(delivery).await?;
        }
        Ok(())
    }

    /// Hands this reader's share of the work to the others before a
    /// graceful stop, so they take it over at once. Nothing to do for a
    /// reader that shares with nobody.
    async fn leave(&mut self) {}
}

/// A boxed subscriber is one too, so that a role can hold whichever kind the
/// settings chose.
#[async_trait]
impl<T: CommandSubscriber + ?Sized> CommandSubscriber for Box<T> {
    async fn next(&mut self) -> Result<Option<Delivery>, BrokerError> {
        (**self).next().await
    }

    fn try_next(&mut self) -> Option<Delivery> {
        (**self).try_next()
    }

    async fn commit(&mut self, delivery: &Delivery) -> Result<(), BrokerError> {
        (**self).commit(delivery).await
    }

    async fn commit_all(&mut self, deliveries: &[Delivery]) -> Result<(), BrokerError> {
        (**self).commit_all(deliveries).await
    }

    async fn leave(&mut self) {
        (**self).leave().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_key_is_stable_and_differs_between_users() {
        let a = UserId::new_random();
        let b = UserId::new_random();
        assert_eq!(partition_key(a), partition_key(a));
        assert_ne!(partition_key(a), partition_key(b));
        let fixed = UserId(uuid::Uuid::nil());
        // SHA-256 of sixteen zero bytes, first half.
        assert_eq!(
            hex::encode(partition_key(fixed)),
            "374708fff7719dd5979ec875d56cd228"
        );
    }
}

//! The in-process broker: a bounded tokio channel. Publishing waits when the
//! consumer is behind (back-pressure instead of unbounded memory).
//!
//! It keeps nothing on disk: a command accepted but not yet applied is lost
//! if the process dies. That is safe because a client keeps every command
//! queued until it learns the outcome, and resending a command id is
//! harmless (the consumer applies each id once). Graceful shutdown drains it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{BrokerError, CommandPublisher, CommandSubscriber, Delivery};
use crate::metrics::Metrics;

/// The channel's one "partition", for the lag metric.
const PARTITION: i32 = 0;

#[derive(Debug)]
pub struct InProcessPublisher {
    /// `None` once closed, so that no command is accepted during shutdown.
    sender: Mutex<Option<mpsc::Sender<Delivery>>>,
    metrics: Arc<Metrics>,
}

#[derive(Debug)]
pub struct InProcessSubscriber {
    receiver: mpsc::Receiver<Delivery>,
    next_offset: i64,
    metrics: Arc<Metrics>,
}

/// A channel holding up to `capacity` commands; its queue length is the
/// consumer lag in `metrics`.
pub fn channel(
    capacity: usize,
    metrics: Arc<Metrics>,
) -> (InProcessPublisher, InProcessSubscriber) {
    let (sender, receiver) = mpsc::channel(capacity.max(1));
    (
        InProcessPublisher {
            sender: Mutex::new(Some(sender)),
            metrics: metrics.clone(),
        },
        InProcessSubscriber {
            receiver,
            next_offset: 0,
            metrics,
        },
    )
}

impl InProcessPublisher {
    /// Stops accepting commands; the subscriber drains what is queued and
    /// then sees the end.
    pub fn close(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
    }
}

#[async_trait]
impl CommandPublisher for InProcessPublisher {
    async fn publish(&self, key: [u8; 16], payload: Vec<u8>) -> Result<(), BrokerError> {
        let sender = self
            .sender
            .lock()
            .map_err(|_| BrokerError::ConsumerStopped)?
            .clone()
            .ok_or(BrokerError::ShuttingDown)?;
        sender
            .send(Delivery {
                key,
                payload,
                position: (0, 0),
            })
            .await
            .map_err(|_| BrokerError::ConsumerStopped)?;
        let queued = sender.max_capacity() - sender.capacity();
        self.metrics
            .consumer_lag(PARTITION, i64::try_from(queued).unwrap_or(i64::MAX));
        Ok(())
    }
}

impl InProcessSubscriber {
    /// Gives a received message the next position (for logs only).
    fn numbered(&mut self, mut delivery: Delivery) -> Delivery {
        let queued = i64::try_from(self.receiver.len()).unwrap_or(i64::MAX);
        self.metrics.consumer_lag(PARTITION, queued);
        delivery.position = (0, self.next_offset);
        self.next_offset += 1;
        delivery
    }
}

#[async_trait]
impl CommandSubscriber for InProcessSubscriber {
    async fn next(&mut self) -> Result<Option<Delivery>, BrokerError> {
        let received = self.receiver.recv().await;
        Ok(received.map(|delivery| self.numbered(delivery)))
    }

    fn try_next(&mut self) -> Option<Delivery> {
        let received = self.receiver.try_recv().ok();
        received.map(|delivery| self.numbered(delivery))
    }

    async fn commit(&mut self, _delivery: &Delivery) -> Result<(), BrokerError> {
        // Nothing to remember: the channel forgets a message once received.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_in_order_then_ends_after_close() {
        let metrics = Metrics::new("test");
        let lag = |metrics: &Metrics| {
            let text = metrics.render();
            text.lines()
                .find_map(|l| l.strip_prefix("gophkeeper_consumer_lag{partition=\"0\"} "))
                .map(str::to_owned)
        };
        let (publisher, mut subscriber) = channel(8, metrics.clone());
        for i in 0..3u8 {
            publisher.publish([i; 16], vec![i]).await.unwrap();
        }
        assert_eq!(lag(&metrics).as_deref(), Some("3"));
        publisher.close();
        assert!(publisher.publish([9; 16], vec![9]).await.is_err());
        for i in 0..3u8 {
            let delivery = subscriber.next().await.unwrap().unwrap();
            assert_eq!(delivery.payload, vec![i]);
            assert_eq!(delivery.position, (0, i64::from(i)));
            subscriber.commit(&delivery).await.unwrap();
        }
        assert_eq!(lag(&metrics).as_deref(), Some("0"));
        assert!(subscriber.next().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn try_next_takes_only_what_has_arrived() {
        let (publisher, mut subscriber) = channel(8, Metrics::new("test"));
        assert!(subscriber.try_next().is_none());
        for i in 0..2u8 {
            publisher.publish([i; 16], vec![i]).await.unwrap();
        }
        let first = subscriber.next().await.unwrap().unwrap();
        let second = subscriber.try_next().unwrap();
        assert_eq!((first.payload, second.payload), (vec![0], vec![1]));
        assert_eq!((first.position, second.position), ((0, 0), (0, 1)));
        assert!(subscriber.try_next().is_none());
    }
}

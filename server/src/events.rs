//! Fan-out of vault events to the gateway's `Watch` streams and to requests
//! waiting for a command's outcome. The consumer publishes through
//! [`EventSink`]; in a single process the hub itself is the sink, in a
//! cluster an events topic carries them to every gateway's hub.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gophkeeper_proto::v1;
use tokio::sync::{broadcast, oneshot};

use crate::ids::UserId;

/// How many events a slow `Watch` reader may fall behind before it is told
/// to resync instead (it then pulls `Changes`, as after any reconnect).
/// The channel's slots are allocated in full when a user's first device
/// subscribes, 32 bytes each: 256 slots cost 8 KiB per signed-in user,
/// 41 MB at 5,000 users (heaptrack, BENCHMARKS.md "Server memory"). Events
/// are one per applied command, so 64 covers any burst short of an import,
/// and an import is better served by one `Changes` pull anyway.
pub(crate) const WATCH_BUFFER: usize = 64;

#[derive(Debug, thiserror::Error)]
#[error("event delivery failed: {0}")]
pub struct EventError(pub String);

/// Where the consumer sends the events of applied commands.
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    async fn publish(&self, event: v1::VaultEvent) -> Result<(), EventError>;
}

type WaiterKey = (UserId, String);

#[derive(Debug, Default)]
pub struct EventHub {
    watchers: Mutex<HashMap<UserId, broadcast::Sender<Arc<v1::VaultEvent>>>>,
    waiters: Mutex<HashMap<WaiterKey, Vec<oneshot::Sender<v1::CommandOutcome>>>>,
}

/// A live subscription to one user's events; dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    pub receiver: broadcast::Receiver<Arc<v1::VaultEvent>>,
    hub: Arc<EventHub>,
    user: UserId,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.forget_idle_user(self.user);
    }
}

/// Waits for one command's outcome; dropping it stops waiting.
#[derive(Debug)]
pub struct OutcomeWaiter {
    receiver: Option<oneshot::Receiver<v1::CommandOutcome>>,
    hub: Arc<EventHub>,
    key: WaiterKey,
}

impl OutcomeWaiter {
    pub async fn outcome(mut self) -> Option<v1::CommandOutcome> {
        self.receiver.take()?.await.ok()
    }
}

impl Drop for OutcomeWaiter {
    fn drop(&mut self) {
        // Close our end first, so the sender below reads as closed.
        drop(self.receiver.take());
        if let Ok(mut waiters) = self.hub.waiters.lock()
            && let Some(list) = waiters.get_mut(&self.key)
        {
            list.retain(|sender| !sender.is_closed());
            if list.is_empty() {
                waiters.remove(&self.key);
            }
        }
    }
}

impl EventHub {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Subscribes to `user`'s events; returns how many subscriptions the user
    /// had before this one, so the caller can enforce a limit.
    pub fn subscribe(self: &Arc<Self>, user: UserId) -> (Subscription, usize) {
        let mut watchers = self
            .watchers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let sender = watchers
            .entry(user)
            .or_insert_with(|| broadcast::channel(WATCH_BUFFER).0);
        let before = sender.receiver_count();
        let subscription = Subscription {
            receiver: sender.subscribe(),
            hub: self.clone(),
            user,
        };
        (subscription, before)
    }

    /// How many `Watch` streams a user holds.
    pub fn watcher_count(&self, user: UserId) -> usize {
        self.watchers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&user)
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// Registers interest in a command's outcome. Call before submitting the
    /// command so the outcome cannot slip past.
    pub fn wait_for(self: &Arc<Self>, user: UserId, command_id: &str) -> OutcomeWaiter {
        let (sender, receiver) = oneshot::channel();
        let key = (user, command_id.to_owned());
        self.waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .push(sender);
        OutcomeWaiter {
            receiver: Some(receiver),
            hub: self.clone(),
            key,
        }
    }

    /// Delivers one event to the user's watchers and outcome waiters.
    pub fn deliver(&self, event: v1::VaultEvent) {
        let Ok(user) = UserId::parse("user_id", &event.user_id) else {
            tracing::warn!("dropping a vault event without a valid user id");
            return;
        };
        if let Some(outcome) = &event.outcome {
            let key = (user, outcome.command_id.clone());
            let waiting = self
                .waiters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&key);
            for sender in waiting.into_iter().flatten() {
                let _ = sender.send(outcome.clone());
            }
        }
        if event.change.is_some() {
            let watchers = self
                .watchers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(sender) = watchers.get(&user) {
                // No receivers is fine: nobody is watching right now.
                let _ = sender.send(Arc::new(event));
            }
        }
    }

    fn forget_idle_user(&self, user: UserId) {
        let mut watchers = self
            .watchers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The dropping receiver still counts while `drop` runs, hence <= 1.
        if watchers
            .get(&user)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            watchers.remove(&user);
        }
    }
}

#[async_trait]
impl EventSink for EventHub {
    async fn publish(&self, event: v1::VaultEvent) -> Result<(), EventError> {
        self.deliver(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user: UserId, command: &str, changed: bool) -> v1::VaultEvent {
        v1::VaultEvent {
            user_id: user.to_string(),
            origin_session_id: String::new(),
            outcome: Some(v1::CommandOutcome {
                command_id: command.into(),
                record_id: String::new(),
                result: Some(v1::command_outcome::Result::Applied(v1::Applied {
                    revision: 1,
                })),
            }),
            change: changed.then(|| v1::RecordChange {
                record_id: "r".into(),
                kind: 1,
                revision: 1,
                deleted: false,
            }),
        }
    }

    #[tokio::test]
    async fn watchers_see_only_their_users_changes() {
        let hub = EventHub::new();
        let alice = UserId::new_random();
        let bob = UserId::new_random();
        let (mut a, before) = hub.subscribe(alice);
        assert_eq!(before, 0);
        let (mut b, _) = hub.subscribe(bob);
        hub.deliver(event(alice, "c1", true));
        hub.deliver(event(alice, "c2", false)); // outcome only, no change
        assert_eq!(
            a.receiver
                .recv()
                .await
                .unwrap()
                .outcome
                .as_ref()
                .unwrap()
                .command_id,
            "c1"
        );
        assert!(a.receiver.try_recv().is_err());
        assert!(b.receiver.try_recv().is_err());
        drop(a);
        assert_eq!(hub.watcher_count(alice), 0);
        assert!(hub.watchers.lock().unwrap().get(&alice).is_none());
    }

    #[tokio::test]
    async fn waiter_gets_the_outcome_of_its_command_and_cleans_up() {
        let hub = EventHub::new();
        let user = UserId::new_random();
        let waiter = hub.wait_for(user, "c1");
        let other = hub.wait_for(user, "c2");
        hub.deliver(event(user, "c1", true));
        assert_eq!(waiter.outcome().await.unwrap().command_id, "c1");
        drop(other);
        assert!(hub.waiters.lock().unwrap().is_empty());
    }
}

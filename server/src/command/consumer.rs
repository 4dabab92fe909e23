//! The command consumer: reads the broker, applies commands to the vault
//! primary in one transaction per batch, commits the broker position, and
//! hands the outcomes to a task that publishes them as events. A crash
//! between apply and commit means redelivery, which the vault's command-id
//! log turns into a no-op with the first outcome.
//!
//! Batches: the consumer waits for one message, then takes whatever else has
//! already arrived (up to [`MAX_BATCH`] commands or [`MAX_BATCH_BYTES`]), and
//! applies them in arrival order in one transaction. An idle system gets
//! batches of one and no added wait; a busy one pays one commit and one
//! round of event publishing for many commands. Order within a user is the
//! broker's order, and exactly-once still rests on the command-id log,
//! written in the same transaction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use gophkeeper_proto::v1;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::signing::CommandKeys;
use super::validate::validate;
use crate::broker::{CommandSubscriber, Delivery};
use crate::events::EventSink;
use crate::ids::{SessionId, now_ms};
use crate::metrics::Metrics;
use crate::vault::{ApplyCommand, ApplyResult, VaultWriter};

const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Commands per transaction at most: bounds how long one transaction holds
/// its users' locks, and how many outcomes wait for the slowest of them.
pub const MAX_BATCH: usize = 64;
/// Payload bytes per batch at most (records go up to 512 KiB each).
pub const MAX_BATCH_BYTES: usize = 8 << 20;

/// Batches whose events wait for the broker at most; past this the
/// consumer waits too (back-pressure instead of unbounded memory).
const EVENT_QUEUE: usize = 64;

/// Runs until the broker is closed and drained, or until `stop` fires while
/// the store is failing (then the current batch stays uncommitted and is
/// redelivered on the next start). Before it returns, every event of an
/// applied batch has been handed to `events`.
///
/// The events of a batch go out from a task of their own while the next
/// batch applies: in a cluster each is a broker round trip, about as long as
/// the vault transaction, and waiting for it would halve the rate. The
/// offsets are committed once the transaction is, as before; events were
/// already best effort (a device that misses one catches up with `Changes`,
/// a client waiting for an outcome resends and gets the stored one).
pub async fn run(
    mut source: impl CommandSubscriber,
    keys: Arc<CommandKeys>,
    store: Arc<dyn VaultWriter>,
    events: Arc<dyn EventSink>,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let (outbox, inbox) = mpsc::channel(EVENT_QUEUE);
    let forwarder = tokio::spawn(forward_events(events, inbox));
    let parts = Parts {
        keys: &keys,
        store: store.as_ref(),
        metrics: &metrics,
    };
    let consumed = consume(&mut source, parts, &outbox, &stop).await;
    source.leave().await;
    drop(outbox);
    forwarder.await?;
    consumed
}

/// What the loop works with.
#[derive(Clone, Copy)]
struct Parts<'a> {
    keys: &'a CommandKeys,
    store: &'a dyn VaultWriter,
    metrics: &'a Metrics,
}

async fn consume(
    source: &mut impl CommandSubscriber,
    parts: Parts<'_>,
    outbox: &mpsc::Sender<Vec<v1::VaultEvent>>,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let delivery = tokio::select! {
            next = source.next() => next?,
            () = stop.cancelled() => None,
        };
        let Some(first) = delivery else {
            tracing::info!("command consumer drained; stopping");
            return Ok(());
        };
        let deliveries = take_batch(source, first);
        let commands: Vec<ApplyCommand> = deliveries
            .iter()
            .filter_map(|delivery| decode(parts, delivery))
            .collect();
        if !commands.is_empty() {
            let started = Instant::now();
            let Some(results) = apply_with_retry(parts.store, &commands, stop).await else {
                return Ok(());
            };
            parts.metrics.batch(commands.len(), started.elapsed());
            let batch = commands.iter().zip(results).map(event_of).collect();
            if outbox.send(batch).await.is_err() {
                anyhow::bail!("the event forwarder stopped");
            }
        }
        source.commit_all(deliveries.as_slice()).await?;
    }
}

/// `first` plus what has already arrived behind it, within the batch limits.
fn take_batch(source: &mut impl CommandSubscriber, first: Delivery) -> Vec<Delivery> {
    let mut bytes = first.payload.len();
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
        let Some(next) = source.try_next() else { break };
        bytes += next.payload.len();
        batch.push(next);
    }
    batch
}

/// A message that is not signed by a producer (`signing.rs`), or that
/// cannot be validated, can never apply; it is logged and skipped rather
/// than blocking the user's partition forever.
fn decode(parts: Parts<'_>, delivery: &Delivery) -> Option<ApplyCommand> {
    let (user, envelope) = match parts.keys.open(delivery) {
        Ok(opened) => opened,
        Err(reason) => {
            parts.metrics.rejected(reason.label());
            tracing::error!(
                position = ?delivery.position,
                %reason,
                "rejected a command on the topic; nothing applied"
            );
            return None;
        }
    };
    let session = match SessionId::parse("session_id", &envelope.session_id) {
        Ok(session) => session,
        Err(err) => {
            parts.metrics.rejected("invalid");
            tracing::error!(position = ?delivery.position, %err, "skipping command without session");
            return None;
        }
    };
    match validate(user, session, envelope.command) {
        Ok(command) => Some(command),
        Err(err) => {
            parts.metrics.rejected("invalid");
            tracing::error!(position = ?delivery.position, %err, "skipping invalid command");
            None
        }
    }
}

/// Retries while the store is unavailable: the commands must not be
/// skipped, or the users' later commands would apply before them.
async fn apply_with_retry(
    store: &dyn VaultWriter,
    commands: &[ApplyCommand],
    stop: &CancellationToken,
) -> Option<Vec<ApplyResult>> {
    let mut backoff = Duration::from_millis(50);
    loop {
        let started = Instant::now();
        match store.apply_batch(commands, now_ms()).await {
            Ok(results) => {
                tracing::debug!(
                    commands = commands.len(),
                    apply_ms = started.elapsed().as_secs_f64() * 1e3,
                    "batch applied"
                );
                for (command, result) in commands.iter().zip(&results) {
                    tracing::info!(
                        user_id = %command.user_id,
                        command_id = %command.command_id,
                        op = command.op.name(),
                        duplicate = result.duplicate,
                        revision = result.change.as_ref().map(|c| c.revision),
                        "command handled"
                    );
                }
                return Some(results);
            }
            Err(err) => {
                tracing::warn!(
                    commands = commands.len(),
                    first_command_id = %commands[0].command_id,
                    error = %err,
                    ?backoff,
                    "apply failed; retrying"
                );
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = stop.cancelled() => return None,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn event_of((command, result): (&ApplyCommand, ApplyResult)) -> v1::VaultEvent {
    v1::VaultEvent {
        user_id: command.user_id.to_string(),
        origin_session_id: command.session_id.to_string(),
        outcome: Some(result.outcome),
        change: result.change,
    }
}

/// Publishes each batch's events, batch after batch. Within a batch they go
/// out together (with Kafka, one round trip for all, not one each), started
/// in batch order, so one user's events reach a partition in revision order.
async fn forward_events(
    events: Arc<dyn EventSink>,
    mut inbox: mpsc::Receiver<Vec<v1::VaultEvent>>,
) {
    while let Some(batch) = inbox.recv().await {
        let started = Instant::now();
        let count = batch.len();
        join_all(
            batch
                .into_iter()
                .map(|event| publish(events.as_ref(), event)),
        )
        .await;
        tracing::debug!(
            events = count,
            publish_ms = started.elapsed().as_secs_f64() * 1e3,
            "events published"
        );
    }
}

async fn publish(events: &dyn EventSink, event: v1::VaultEvent) {
    let command_id = event
        .outcome
        .as_ref()
        .map(|o| o.command_id.clone())
        .unwrap_or_default();
    // The outcome is already stored; a lost event only delays other devices
    // until their next sync, so log and go on.
    if let Err(err) = events.publish(event).await {
        tracing::warn!(%command_id, %err, "could not publish event");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use prost::Message;

    use super::*;
    use crate::broker::{CommandPublisher, in_process};
    use crate::command::producer::Producer;
    use crate::events::EventError;
    use crate::ids::{CommandId, RecordId, UserId};
    use crate::vault::sqlite::{SqliteVaultReader, SqliteVaultWriter};
    use crate::vault::{Op, StoreError, VaultReader};

    /// The real SQLite writer, with a record of the batch sizes it was given
    /// and, on request, failures for the first calls.
    struct Recording {
        inner: SqliteVaultWriter,
        batches: Mutex<Vec<usize>>,
        failures_left: AtomicUsize,
    }

    #[async_trait]
    impl VaultWriter for Recording {
        async fn apply_batch(
            &self,
            commands: &[ApplyCommand],
            now_ms: i64,
        ) -> Result<Vec<ApplyResult>, StoreError> {
            self.batches.lock().unwrap().push(commands.len());
            let fail = self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if fail {
                return Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut));
            }
            self.inner.apply_batch(commands, now_ms).await
        }
    }

    #[derive(Default)]
    struct Events(Mutex<Vec<v1::VaultEvent>>);

    #[async_trait]
    impl EventSink for Events {
        async fn publish(&self, event: v1::VaultEvent) -> Result<(), EventError> {
            self.0.lock().unwrap().push(event);
            Ok(())
        }
    }

    struct Setup {
        _dir: tempfile::TempDir,
        store: Arc<Recording>,
        reader: SqliteVaultReader,
        events: Arc<Events>,
    }

    async fn setup(failures: usize) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = crate::vault::sqlite::open(&dir.path().join("vault.db"))
            .await
            .unwrap();
        Setup {
            _dir: dir,
            store: Arc::new(Recording {
                inner: writer,
                batches: Mutex::new(Vec::new()),
                failures_left: AtomicUsize::new(failures),
            }),
            reader,
            events: Arc::new(Events::default()),
        }
    }

    fn command(id: CommandId, record: RecordId, op: Op) -> ApplyCommand {
        ApplyCommand {
            user_id: UserId::new_random(),
            session_id: SessionId::new_random(),
            command_id: id,
            record_id: record,
            op,
        }
    }

    fn create(record: RecordId) -> ApplyCommand {
        let op = Op::Create {
            kind: v1::RecordKind::Text,
            ciphertext: vec![1],
        };
        command(CommandId::new_random(), record, op)
    }

    fn keys(byte: u8) -> Arc<CommandKeys> {
        let key = secrecy::SecretString::from(hex::encode([byte; 32]));
        Arc::new(CommandKeys::from_settings(&key, &[], None).unwrap())
    }

    /// What goes on the topic: a command through the real producer, or a
    /// message written straight to the topic.
    enum Queued {
        Command(UserId, ApplyCommand),
        Raw([u8; 16], Vec<u8>),
    }

    /// Queues the commands (each under its own owner and session) through
    /// the real producer, closes the broker, and runs the consumer until it
    /// has drained everything.
    async fn consume(setup: &Setup, commands: &[(UserId, ApplyCommand)]) {
        let queued: Vec<Queued> = commands
            .iter()
            .map(|(user, command)| Queued::Command(*user, command.clone()))
            .collect();
        consume_queued(setup, queued).await;
    }

    async fn consume_queued(setup: &Setup, queued: Vec<Queued>) -> Arc<Metrics> {
        let (publisher, subscriber) = in_process::channel(256, Metrics::new("test"));
        let publisher = Arc::new(publisher);
        let producer = Producer::new(publisher.clone(), keys(1));
        for queued in queued {
            match queued {
                Queued::Command(user, command) => {
                    let session = command.session_id;
                    let wire = super::super::validate::to_wire(command);
                    producer.submit(user, session, Some(wire)).await.unwrap();
                }
                Queued::Raw(key, payload) => publisher.publish(key, payload).await.unwrap(),
            }
        }
        publisher.close();
        let store: Arc<dyn VaultWriter> = setup.store.clone();
        let events: Arc<dyn EventSink> = setup.events.clone();
        let metrics = Metrics::new("test");
        run(
            subscriber,
            keys(1),
            store,
            events,
            metrics.clone(),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        metrics
    }

    /// Messages written straight to the topic without the command key (an
    /// unsigned envelope, one signed with another key, another user's
    /// signed command rewritten for Bob or moved to his partition) apply
    /// nothing, and do not hold up the producer's commands behind them.
    #[tokio::test]
    async fn commands_the_producer_did_not_sign_apply_nothing() {
        let setup = setup(0).await;
        let (alice, bob) = (UserId::new_random(), UserId::new_random());
        let record = RecordId::new_random();
        let bobs = create(record);
        let delete = |user: UserId| {
            let mut command = command(
                CommandId::new_random(),
                record,
                Op::Delete {
                    base_revision: 1,
                    tombstone: Vec::new(),
                },
            );
            command.user_id = user;
            v1::CommandEnvelope {
                user_id: user.to_string(),
                session_id: command.session_id.to_string(),
                command: Some(super::super::validate::to_wire(command)),
                accepted_at_ms: 1,
            }
        };
        let to_bob = crate::broker::partition_key(bob);
        let unsigned = delete(bob).encode_to_vec();
        let forged = keys(2).sign(&to_bob, &delete(bob));
        let alices = keys(1).sign(&crate::broker::partition_key(alice), &delete(alice));
        let mut rewritten = v1::SignedCommand::decode(alices.as_slice()).unwrap();
        rewritten.envelope = delete(bob).encode_to_vec();
        let later = create(RecordId::new_random());
        let metrics = consume_queued(
            &setup,
            vec![
                Queued::Command(bob, bobs.clone()),
                Queued::Raw(to_bob, unsigned),
                Queued::Raw(to_bob, forged),
                Queued::Raw(to_bob, rewritten.encode_to_vec()),
                Queued::Raw(to_bob, alices),
                Queued::Command(bob, later.clone()),
            ],
        )
        .await;

        let id = |c: &ApplyCommand| c.command_id.to_string();
        assert_eq!(
            revisions(&setup.events),
            vec![(id(&bobs), Some(1)), (id(&later), Some(2))],
            "only the producer's commands applied"
        );
        assert_eq!(setup.reader.head_revision(bob).await.unwrap(), 2);
        assert_eq!(setup.reader.head_revision(alice).await.unwrap(), 0);
        let text = metrics.render();
        // A bare envelope parses as a signed command naming its user id as
        // the key, so it and the forged one name unknown keys; the other
        // two carry the real key's id and fail the MAC.
        for (reason, count) in [("unknown_key", 2), ("bad_mac", 2), ("unsigned", 0)] {
            let line = format!(
                "gophkeeper_consumer_commands_rejected_total{{reason=\"{reason}\"}} {count}"
            );
            assert!(text.contains(&line), "{line}\n{text}");
        }
        assert!(
            text.contains("gophkeeper_consumer_commands_total 2"),
            "{text}"
        );
    }

    fn revisions(events: &Events) -> Vec<(String, Option<u64>)> {
        events
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|e| {
                let outcome = e.outcome.as_ref().unwrap();
                let revision = match &outcome.result {
                    Some(v1::command_outcome::Result::Applied(a)) => Some(a.revision),
                    _ => None,
                };
                (outcome.command_id.clone(), revision)
            })
            .collect()
    }

    #[tokio::test]
    async fn queued_commands_apply_as_one_batch_in_order_and_once() {
        let setup = setup(0).await;
        let (alice, bob) = (UserId::new_random(), UserId::new_random());
        let record = RecordId::new_random();
        let first = create(record);
        let mut second = create(record);
        second.op = Op::Update {
            base_revision: 1,
            ciphertext: vec![7],
        };
        let bobs = create(RecordId::new_random());
        let queued = [
            (alice, first.clone()),
            (bob, bobs.clone()),
            (alice, second.clone()),
            // A resend of the first command, in the same batch.
            (alice, first.clone()),
        ];
        consume(&setup, &queued).await;

        assert_eq!(*setup.store.batches.lock().unwrap(), vec![4]);
        let id = |c: &ApplyCommand| c.command_id.to_string();
        assert_eq!(
            revisions(&setup.events),
            vec![
                (id(&first), Some(1)),
                (id(&bobs), Some(1)),
                (id(&second), Some(2)),
                (id(&first), Some(1)),
            ]
        );
        let changes: Vec<bool> = setup
            .events
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.change.is_some())
            .collect();
        assert_eq!(
            changes,
            vec![true, true, true, false],
            "the resend changes nothing"
        );
        assert_eq!(setup.reader.head_revision(alice).await.unwrap(), 2);
        assert_eq!(setup.reader.head_revision(bob).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_failed_batch_is_retried_whole_and_applies_once() {
        let setup = setup(2).await;
        let user = UserId::new_random();
        let queued: Vec<_> = (0..3)
            .map(|_| (user, create(RecordId::new_random())))
            .collect();
        consume(&setup, &queued).await;

        assert_eq!(*setup.store.batches.lock().unwrap(), vec![3, 3, 3]);
        let applied: Vec<Option<u64>> = revisions(&setup.events)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(applied, vec![Some(1), Some(2), Some(3)]);
        assert_eq!(setup.reader.head_revision(user).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn batches_stop_at_the_command_limit() {
        let setup = setup(0).await;
        let user = UserId::new_random();
        let queued: Vec<_> = (0..MAX_BATCH + 6)
            .map(|_| (user, create(RecordId::new_random())))
            .collect();
        consume(&setup, &queued).await;

        assert_eq!(*setup.store.batches.lock().unwrap(), vec![MAX_BATCH, 6]);
        let applied: Vec<Option<u64>> = revisions(&setup.events)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let expected: Vec<Option<u64>> = (1..=(MAX_BATCH as u64 + 6)).map(Some).collect();
        assert_eq!(applied, expected);
    }
}

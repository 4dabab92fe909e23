//! The Kafka broker (rdkafka; any Kafka-API broker: Apache Kafka, Redpanda,
//! tansu). Commands go to one topic keyed by the hash of the user id, so one
//! user's commands share a partition and keep their order; the consumers of
//! that topic form one consumer group. Vault events go to a second topic that
//! every gateway reads in full.
//!
//! Delivery guarantees: the producer uses `acks=all` and a command is
//! acknowledged only after the broker confirmed it. A consumer commits a
//! position only after the vault transaction for that message committed; a
//! crash in between means redelivery, which the vault's command-id log turns
//! into a no-op. Exactly-once rests on that log, not on the producer: the
//! producer is idempotent by default, but may be configured not to be (see
//! [`KafkaSettings::idempotent_producer`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::FutureExt as _;
use gophkeeper_proto::v1;
use prost::Message as _;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{BorrowedMessage, Message as _};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::kafka_security::KafkaSecurity;
use super::{BrokerError, CommandPublisher, CommandSubscriber, Delivery, partition_key};
use crate::events::{EventError, EventHub, EventSink};
use crate::ids::UserId;
use crate::metrics::Metrics;

#[derive(Debug, Clone, Deserialize)]
pub struct KafkaSettings {
    /// Comma-separated `host:port` list.
    pub brokers: String,
    pub commands_topic: String,
    pub events_topic: String,
    /// Partitions of each topic when this process has to create it.
    pub partitions: i32,
    pub replication_factor: i32,
    /// The command consumers' group.
    pub consumer_group: String,
    /// This consumer's name in its group, the same across its restarts and
    /// different from every other consumer's (librdkafka
    /// `group.instance.id`, static membership). A consumer restarted under
    /// the same name takes its old place and partitions back at once,
    /// instead of joining beside its dead predecessor and waiting for the
    /// broker to time that one out. Empty: a new member on every start.
    pub group_instance_id: String,
    /// How long a produce may take before the client gets UNAVAILABLE.
    ///
    /// Enforced by a timer around the delivery report, not only by
    /// librdkafka's `message.timeout.ms`, which it checks about once a
    /// second: a client must hear within 2 s that the broker is away
    /// (issue 7), so the shipped default is 1.5 s. A command whose answer
    /// timed out may still reach the broker a moment later; the client
    /// resends it under the same command id and the consumer applies it
    /// once.
    pub produce_timeout_ms: u64,
    /// Whether the producer is idempotent (`enable.idempotence`). On by
    /// default; `scripts/cluster` turns it off when it runs tansu.
    ///
    /// Why it may be off: tansu 0.6 knows only the producer epochs it handed
    /// out itself. When a message times out in the producer's queue (the
    /// broker down or stalled for longer than `produce_timeout_ms`, as in a
    /// broker restart), librdkafka's idempotent producer bumps its epoch on
    /// its own (KIP-360); tansu then finds no row for the new epoch and its
    /// storage panics (`more or less than one row`, tansu-storage 0.6.0
    /// `src/lite.rs:503`, from `idempotent_message_check`), and every later
    /// produce from that producer fails. Apache Kafka and Redpanda handle
    /// the bump.
    ///
    /// What still holds without it: exactly-once and per-user order do not
    /// rest on the producer. Without idempotence librdkafka's own retries
    /// (a request whose answer was lost) can write a command twice; the
    /// consumer's vault transaction records each command id and applies a
    /// repeated one as a no-op with its first outcome, as it does for a
    /// client's resend. Retries with several requests in flight could also
    /// reorder messages of one partition, so with idempotence off the
    /// producer keeps one request in flight per broker connection
    /// (`max.in.flight.requests.per.connection=1`): messages of one
    /// partition reach the log in the order they were sent. One user's
    /// commands share a partition (the key is the hash of the user id), one
    /// consumer of the group reads a partition in order, and a device sends
    /// its next command only after the broker acknowledged the one before
    /// (a command whose send failed is resent under the same id first, so a
    /// late copy of it is a duplicate). Every command also carries the base
    /// revision it was made on, so one applied out of turn would be a
    /// conflict, never a lost update.
    pub idempotent_producer: bool,
    /// librdkafka's `fetch.wait.max.ms` for the command consumers and the
    /// gateways' event readers: how long the broker may hold a fetch that
    /// finds nothing new.
    ///
    /// Apache Kafka and Redpanda answer a waiting fetch as soon as a message
    /// arrives, so there a longer wait costs no latency and saves idle
    /// polling. tansu 0.6 instead sleeps out the rest of the wait after
    /// every pass, data or not (tansu-storage 0.6.0
    /// `src/service/fetch.rs`), so there the wait is added to every hop,
    /// and a short wait makes it re-run its per-partition SQL queries many
    /// times a second. BENCHMARKS.md has the measurements behind the value.
    pub fetch_wait_max_ms: u64,
    /// TLS and SASL to the brokers.
    pub security: KafkaSecurity,
}

fn base_config(settings: &KafkaSettings) -> Result<ClientConfig, BrokerError> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.brokers)
        .set("socket.nagle.disable", "true")
        // Give up on a broker that is down quickly and say so, instead of
        // hanging a client for minutes.
        .set("socket.timeout.ms", "10000")
        .set("reconnect.backoff.max.ms", "2000");
    settings.security.apply(&mut config)?;
    Ok(config)
}

/// Keeps the last authentication failure librdkafka reports, which it
/// only logs: the request that met it just times out.
#[derive(Debug, Default)]
struct AuthFailure(std::sync::Mutex<Option<String>>);

impl ClientContext for AuthFailure {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        tracing::error!(%error, reason, "Kafka client");
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication)
            && let Ok(mut last) = self.0.lock()
        {
            *last = Some(reason.to_owned());
        }
    }
}

/// Creates both topics if they do not exist yet.
pub async fn ensure_topics(settings: &KafkaSettings) -> Result<(), BrokerError> {
    let admin: AdminClient<AuthFailure> =
        base_config(settings)?.create_with_context(AuthFailure::default())?;
    let topic = |name| {
        NewTopic::new(
            name,
            settings.partitions,
            TopicReplication::Fixed(settings.replication_factor),
        )
    };
    let topics = [
        topic(&settings.commands_topic),
        topic(&settings.events_topic),
    ];
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = match admin.create_topics(topics.iter(), &options).await {
        Ok(results) => results,
        Err(err) => {
            let refused = admin
                .inner()
                .context()
                .0
                .lock()
                .ok()
                .and_then(|l| l.clone());
            return Err(match (refused, settings.security.sasl_user()) {
                (Some(reason), _) => BrokerError::Refused { reason },
                // Some brokers (tansu 0.6) drop a failed login without a
                // word: the request just times out.
                (None, Some(user)) => BrokerError::NotLetIn {
                    user: user.to_owned(),
                    source: err,
                },
                (None, None) => err.into(),
            });
        }
    };
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(BrokerError::Topic {
                    topic,
                    problem: format!("cannot create it: {code}"),
                });
            }
        }
    }
    Ok(())
}

/// The producer's settings: `acks=all`, and idempotent unless turned off
/// (then one request in flight per connection, so retries keep the order).
fn producer_config(settings: &KafkaSettings) -> Result<ClientConfig, BrokerError> {
    let timeout = settings.produce_timeout_ms.to_string();
    let mut config = base_config(settings)?;
    config
        .set("acks", "all")
        // Latency over batching: a person is waiting on each command.
        .set("linger.ms", "1")
        .set("message.timeout.ms", &timeout)
        .set("request.timeout.ms", &timeout);
    if settings.idempotent_producer {
        config.set("enable.idempotence", "true");
    } else {
        config
            .set("enable.idempotence", "false")
            .set("max.in.flight.requests.per.connection", "1");
    }
    Ok(config)
}

/// An `acks=all` producer shared by the command and event paths.
#[derive(Clone)]
pub struct KafkaProducer {
    producer: FutureProducer,
    timeout: Duration,
}

impl std::fmt::Debug for KafkaProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer").finish_non_exhaustive()
    }
}

impl KafkaProducer {
    pub fn new(settings: &KafkaSettings) -> Result<Self, BrokerError> {
        if !settings.idempotent_producer {
            tracing::info!(
                "Kafka producer not idempotent (kafka.idempotent_producer = false): \
                 one request in flight per connection; duplicates are removed by command id"
            );
        }
        let producer = producer_config(settings)?.create()?;
        Ok(Self {
            producer,
            timeout: Duration::from_millis(settings.produce_timeout_ms),
        })
    }

    async fn send(&self, topic: &str, key: &[u8], payload: &[u8]) -> Result<(), BrokerError> {
        let delivery = self.producer.send(
            FutureRecord::to(topic).key(key).payload(payload),
            self.timeout,
        );
        match tokio::time::timeout(self.timeout, delivery).await {
            Ok(result) => result
                .map(|_| ())
                .map_err(|(err, _)| BrokerError::Kafka(err)),
            Err(_) => Err(BrokerError::Timeout {
                millis: self.timeout.as_millis(),
            }),
        }
    }
}

/// Publishes commands to the commands topic.
#[derive(Debug, Clone)]
pub struct KafkaPublisher {
    producer: KafkaProducer,
    topic: String,
}

impl KafkaPublisher {
    pub fn new(producer: KafkaProducer, settings: &KafkaSettings) -> Self {
        Self {
            producer,
            topic: settings.commands_topic.clone(),
        }
    }
}

#[async_trait]
impl CommandPublisher for KafkaPublisher {
    async fn publish(&self, key: [u8; 16], payload: Vec<u8>) -> Result<(), BrokerError> {
        self.producer.send(&self.topic, &key, &payload).await
    }
}

/// Logs every partition assignment and revocation, so that which consumer
/// holds which users is visible in the logs, and keeps the lag of the
/// partitions it holds in the metrics.
#[derive(Debug)]
pub struct ConsumerEvents {
    metrics: Arc<Metrics>,
    topic: String,
    /// Set when partitions are taken away; [`KafkaSubscriber::leave`]
    /// waits for it.
    revoked: AtomicBool,
}

/// How often librdkafka reports the statistics the lag comes from.
const STATISTICS_INTERVAL_MS: &str = "5000";

impl ClientContext for ConsumerEvents {
    /// The lag librdkafka computes per partition (the partition's high
    /// watermark minus this consumer's position; -1 while unknown, and
    /// partition -1 is librdkafka's own "unassigned" entry).
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else {
            return;
        };
        for (&partition, stats) in &topic.partitions {
            if partition >= 0 && stats.consumer_lag >= 0 {
                self.metrics.consumer_lag(partition, stats.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for ConsumerEvents {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let partitions = |list: &TopicPartitionList| {
            list.elements()
                .iter()
                .map(|e| e.partition())
                .collect::<Vec<_>>()
        };
        match rebalance {
            Rebalance::Assign(list) => {
                tracing::info!(partitions = ?partitions(list), "partitions assigned");
            }
            Rebalance::Revoke(list) => {
                tracing::info!(partitions = ?partitions(list), "partitions revoked");
                for partition in partitions(list) {
                    self.metrics.forget_partition(partition);
                }
                self.revoked.store(true, Ordering::Release);
            }
            Rebalance::Error(err) => tracing::warn!(error = %err, "rebalance failed"),
        }
    }
}

/// One member of the command consumers' group.
pub struct KafkaSubscriber {
    consumer: StreamConsumer<ConsumerEvents>,
    topic: String,
    /// When this member rejoins its group once (see [`SETTLE_REJOIN`]).
    rejoin_at: Option<Instant>,
}

/// A consumer without a `group_instance_id` rejoins its group once, this
/// long after it started.
///
/// A new member that starts while a dead predecessor (killed, so it never
/// said goodbye) is still in the group gets its share of a rebalance that
/// includes the dead member. Kafka rebalances again when the dead member's
/// session times out; tansu 0.6, the broker these machines run, evicts it
/// without rebalancing, so its partitions stay with nobody (seen in the
/// fault drills of `server/tests/cluster_chaos`). Rejoining once after the
/// session timeout (10 s) starts a rebalance among the live members only.
/// A consumer with a `group_instance_id` needs none of this: restarted,
/// it takes the dead member's place.
const SETTLE_REJOIN: Duration = Duration::from_secs(15);
/// How long a graceful stop waits for the group to take its partitions.
const LEAVE_WITHIN: Duration = Duration::from_secs(3);
/// How long `next` waits for a message before it checks the time.
const IDLE_CHECK: Duration = Duration::from_secs(5);

impl std::fmt::Debug for KafkaSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSubscriber")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl KafkaSubscriber {
    pub fn new(settings: &KafkaSettings, metrics: Arc<Metrics>) -> Result<Self, BrokerError> {
        let events = ConsumerEvents {
            metrics,
            topic: settings.commands_topic.clone(),
            revoked: AtomicBool::new(false),
        };
        let mut config = base_config(settings)?;
        let named = !settings.group_instance_id.is_empty();
        if named {
            config.set("group.instance.id", &settings.group_instance_id);
        }
        let consumer: StreamConsumer<ConsumerEvents> = config
            .set("group.id", &settings.consumer_group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", settings.fetch_wait_max_ms.to_string())
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            // Also the rebalance timeout: a member that dies in the middle of
            // a rebalance holds the group up this long, not Kafka's default
            // five minutes. A consumer stuck longer on one command (store
            // down) leaves the group and rejoins when it gets going again.
            .set("max.poll.interval.ms", "30000")
            .set("statistics.interval.ms", STATISTICS_INTERVAL_MS)
            .create_with_context(events)?;
        consumer.subscribe(&[&settings.commands_topic])?;
        Ok(Self {
            consumer,
            topic: settings.commands_topic.clone(),
            rejoin_at: (!named).then(|| Instant::now() + SETTLE_REJOIN),
        })
    }
}

impl KafkaSubscriber {
    /// Rejoins the group once, [`SETTLE_REJOIN`] after the start.
    fn settle(&mut self) -> Result<(), BrokerError> {
        if self.rejoin_at.is_some_and(|at| Instant::now() >= at) {
            self.rejoin_at = None;
            tracing::info!("rejoining the consumer group once, now that any dead member is gone");
            self.consumer.unsubscribe();
            self.consumer.subscribe(&[&self.topic])?;
        }
        Ok(())
    }
}

#[async_trait]
impl CommandSubscriber for KafkaSubscriber {
    async fn next(&mut self) -> Result<Option<Delivery>, BrokerError> {
        loop {
            self.settle()?;
            let Ok(received) = tokio::time::timeout(IDLE_CHECK, self.consumer.recv()).await else {
                continue;
            };
            match received {
                Ok(message) => return Ok(Some(delivery_of(&message))),
                // Transient: the broker restarts, a rebalance runs. librdkafka
                // reconnects by itself; say so and keep going.
                Err(err) => {
                    tracing::warn!(error = %err, "command topic read failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    fn try_next(&mut self) -> Option<Delivery> {
        // `recv` is cancellation safe: a message is either returned now or
        // left in the queue for the next call.
        match self.consumer.recv().now_or_never()? {
            Ok(message) => Some(delivery_of(&message)),
            // `next` reports and retries read errors; here there is just
            // nothing to add to the batch.
            Err(_) => None,
        }
    }

    async fn commit(&mut self, delivery: &Delivery) -> Result<(), BrokerError> {
        self.commit_all(std::slice::from_ref(delivery)).await
    }

    /// Unsubscribes and waits until the partitions are given up. On drop
    /// librdkafka leaves the group only for a member without a
    /// `group.instance.id` (KIP-345: a static member stays, to come back);
    /// after an unsubscribe it leaves either way, so a graceful stop hands
    /// the partitions to the others now, not after the session timeout.
    /// Messages read meanwhile are not committed and come again.
    async fn leave(&mut self) {
        let events = self.consumer.context();
        events.revoked.store(false, Ordering::Release);
        self.consumer.unsubscribe();
        let deadline = tokio::time::Instant::now() + LEAVE_WITHIN;
        while !self.consumer.context().revoked.load(Ordering::Acquire) {
            // The rebalance callback runs inside `recv`.
            let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
            if wait.is_zero() {
                tracing::warn!("left the consumer group without confirmation");
                return;
            }
            let _ =
                tokio::time::timeout(wait.min(Duration::from_millis(100)), self.consumer.recv())
                    .await;
        }
        tracing::info!("left the consumer group");
    }

    /// One offset commit for the batch: the position after its last message
    /// in each partition it touched.
    async fn commit_all(&mut self, deliveries: &[Delivery]) -> Result<(), BrokerError> {
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        for delivery in deliveries {
            let (partition, offset) = delivery.position;
            let after = next.entry(partition).or_insert(offset + 1);
            *after = (*after).max(offset + 1);
        }
        if next.is_empty() {
            return Ok(());
        }
        let mut positions = TopicPartitionList::new();
        for (&partition, &offset) in &next {
            positions.add_partition_offset(&self.topic, partition, Offset::Offset(offset))?;
        }
        // Asynchronous: the order "transaction, then commit" is what matters;
        // a commit lost in a crash only means a redelivery, which is a no-op.
        match self.consumer.commit(&positions, CommitMode::Async) {
            Ok(()) => Ok(()),
            // The partition moved to another consumer in a rebalance; that
            // consumer will see the message again and find it applied.
            Err(err) => {
                tracing::warn!(error = %err, positions = ?next, "offset commit failed");
                Ok(())
            }
        }
    }
}

/// Copies a received message out of the consumer's buffer.
fn delivery_of(message: &BorrowedMessage<'_>) -> Delivery {
    let mut key = [0u8; 16];
    if let Some(k) = message.key().filter(|k| k.len() == 16) {
        key.copy_from_slice(k);
    }
    Delivery {
        key,
        payload: message.payload().unwrap_or_default().to_vec(),
        position: (message.partition(), message.offset()),
    }
}

/// Sends vault events to the events topic (the consumer's [`EventSink`] in
/// a cluster).
#[derive(Debug, Clone)]
pub struct KafkaEventSink {
    producer: KafkaProducer,
    topic: String,
}

impl KafkaEventSink {
    pub fn new(producer: KafkaProducer, settings: &KafkaSettings) -> Self {
        Self {
            producer,
            topic: settings.events_topic.clone(),
        }
    }
}

#[async_trait]
impl EventSink for KafkaEventSink {
    async fn publish(&self, event: v1::VaultEvent) -> Result<(), EventError> {
        let user =
            UserId::parse("user_id", &event.user_id).map_err(|e| EventError(e.to_string()))?;
        self.producer
            .send(&self.topic, &partition_key(user), &event.encode_to_vec())
            .await
            .map_err(|e| EventError(e.to_string()))
    }
}

/// Feeds a gateway's hub from the events topic until `stop` fires. Every
/// gateway reads every partition (no shared group), starting at the end:
/// events are notifications, and a device that missed one catches up with
/// `Changes`.
pub async fn feed_hub(
    settings: KafkaSettings,
    hub: Arc<EventHub>,
    stop: CancellationToken,
) -> Result<(), BrokerError> {
    let consumer: StreamConsumer = base_config(&settings)?
        .set(
            "group.id",
            format!("gophkeeper-gateway-{}", uuid::Uuid::new_v4()),
        )
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", settings.fetch_wait_max_ms.to_string())
        .create()?;
    // Assign every partition directly: no group rebalance, so no start-up
    // window in which events would be missed.
    let metadata =
        consumer.fetch_metadata(Some(&settings.events_topic), Duration::from_secs(10))?;
    let mut assignment = TopicPartitionList::new();
    for topic in metadata.topics() {
        for partition in topic.partitions() {
            assignment.add_partition_offset(topic.name(), partition.id(), Offset::End)?;
        }
    }
    if assignment.count() == 0 {
        return Err(BrokerError::Topic {
            topic: settings.events_topic.clone(),
            problem: "it has no partitions".into(),
        });
    }
    consumer.assign(&assignment)?;
    tracing::info!(partitions = assignment.count(), "reading vault events");
    loop {
        let received = tokio::select! {
            received = consumer.recv() => received,
            () = stop.cancelled() => return Ok(()),
        };
        match received {
            Ok(message) => match v1::VaultEvent::decode(message.payload().unwrap_or_default()) {
                Ok(event) => hub.deliver(event),
                Err(err) => tracing::warn!(%err, "skipping an undecodable vault event"),
            },
            Err(err) => {
                tracing::warn!(error = %err, "events topic read failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(idempotent_producer: bool) -> KafkaSettings {
        KafkaSettings {
            brokers: "127.0.0.1:9092".into(),
            commands_topic: "c".into(),
            events_topic: "e".into(),
            partitions: 1,
            replication_factor: 1,
            consumer_group: "g".into(),
            group_instance_id: String::new(),
            produce_timeout_ms: 5000,
            idempotent_producer,
            fetch_wait_max_ms: 10,
            security: crate::settings::Settings::load_without_env(None)
                .unwrap()
                .kafka
                .security,
        }
    }

    #[test]
    fn producer_is_idempotent_unless_configured_otherwise() {
        let config = producer_config(&settings(true)).unwrap();
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("acks"), Some("all"));
        // librdkafka's idempotent default (5) keeps the order itself.
        assert_eq!(config.get("max.in.flight.requests.per.connection"), None);
    }

    #[test]
    fn a_producer_without_idempotence_keeps_one_request_in_flight() {
        let config = producer_config(&settings(false)).unwrap();
        assert_eq!(config.get("enable.idempotence"), Some("false"));
        assert_eq!(config.get("acks"), Some("all"));
        assert_eq!(
            config.get("max.in.flight.requests.per.connection"),
            Some("1")
        );
    }
}

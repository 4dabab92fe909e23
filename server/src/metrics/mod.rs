//! Prometheus metrics (docs/metrics.md): one registry per server value,
//! passed to the parts that record into it, and an HTTP listener that
//! serves it (`metrics.listen`). Recording costs an atomic add; with no
//! listener nothing reads it.

mod grpc;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use self::grpc::GrpcMetricsLayer;

/// Every metric name starts with this.
pub const PREFIX: &str = "gophkeeper";

/// Why the consumer rejects a message (`command/signing.rs`'s reasons, and
/// `invalid` for a signed command that does not validate). Each series
/// exists from the start, at zero, so that a rate over it is defined.
pub const REJECTION_REASONS: [&str; 7] = [
    "undecodable",
    "unsigned",
    "unknown_key",
    "bad_mac",
    "no_owner",
    "wrong_partition",
    "invalid",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    service: String,
    method: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    service: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    service: String,
    method: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabels {
    partition: i32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// How a query's wait for the replica ended.
const REPLICA_WAIT_OUTCOMES: [&str; 2] = ["caught_up", "timed_out"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    role: String,
    version: String,
    commit: String,
    target: String,
}

/// 0.5 ms to about 16 s, doubling.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// 1 to 64 and more, doubling.
fn batch_sizes() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 8))
}

/// What this process records. Every part gets the same `Arc`.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    call_seconds: Family<MethodLabels, Histogram, fn() -> Histogram>,
    refusals: Family<RefusalLabels, Counter>,
    round_trip_seconds: Histogram,
    batch_commands: Histogram,
    batch_apply_seconds: Histogram,
    commands_applied: Counter,
    commands_rejected: Family<ReasonLabels, Counter>,
    watch_streams: Gauge,
    consumer_lag: Family<PartitionLabels, Gauge>,
    replica_waits: Family<OutcomeLabels, Counter>,
    replica_wait_seconds: Histogram,
    hash_queue: Gauge,
    serving: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics of a process running `role`.
    pub fn new(role: &str) -> Arc<Self> {
        let mut registry = Registry::with_prefix(PREFIX);
        let build = Info::new(BuildLabels {
            role: role.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: env!("GOPHKEEPER_COMMIT").to_owned(),
            target: env!("GOPHKEEPER_TARGET").to_owned(),
        });
        registry.register("build", "The build this process runs", build);
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "grpc_requests",
            "gRPC calls served, by service, method and status code",
            calls.clone(),
        );
        let call_seconds =
            Family::<MethodLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        registry.register(
            "grpc_request_duration_seconds",
            "Time to a gRPC call's response headers (a stream's start), by service and method",
            call_seconds.clone(),
        );
        let refusals = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "grpc_refusals",
            "gRPC calls refused with a gk-reason (BAD_CREDENTIALS, RATE_LIMITED, SERVER_BUSY, ...), \
             by service, method and reason",
            refusals.clone(),
        );
        let round_trip_seconds = latency();
        registry.register(
            "command_round_trip_duration_seconds",
            "From a Submit that waits for its outcome to that outcome, at the gateway",
            round_trip_seconds.clone(),
        );
        let batch_commands = batch_sizes();
        registry.register(
            "consumer_batch_commands",
            "Commands per batch the command consumer applied in one transaction",
            batch_commands.clone(),
        );
        let batch_apply_seconds = latency();
        registry.register(
            "consumer_batch_apply_duration_seconds",
            "Time to apply one batch of commands to the vault, retries included",
            batch_apply_seconds.clone(),
        );
        let commands_applied = Counter::default();
        registry.register(
            "consumer_commands",
            "Commands the consumer handled (applied, or a resend answered with its first outcome)",
            commands_applied.clone(),
        );
        let commands_rejected = Family::<ReasonLabels, Counter>::default();
        for reason in REJECTION_REASONS {
            drop(commands_rejected.get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            }));
        }
        registry.register(
            "consumer_commands_rejected",
            "Messages on the commands topic the consumer rejected (unsigned, forged, invalid), \
             by reason",
            commands_rejected.clone(),
        );
        let watch_streams = Gauge::default();
        registry.register(
            "watch_streams",
            "Watch streams open on this gateway",
            watch_streams.clone(),
        );
        let consumer_lag = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "consumer_lag",
            "Commands published and not yet consumed, by partition this consumer holds (Kafka: \
             from librdkafka's statistics, every 5 s; the in-process channel: its queue, \
             partition 0)",
            consumer_lag.clone(),
        );
        let replica_waits = Family::<OutcomeLabels, Counter>::default();
        for outcome in REPLICA_WAIT_OUTCOMES {
            drop(replica_waits.get_or_create(&OutcomeLabels { outcome }));
        }
        registry.register(
            "query_replica_waits",
            "Queries that asked for a revision the replica did not have yet and waited for it, \
             by outcome (caught_up, or timed_out and answered UNAVAILABLE)",
            replica_waits.clone(),
        );
        let replica_wait_seconds = latency();
        registry.register(
            "query_replica_wait_duration_seconds",
            "How long those queries waited for the replica",
            replica_wait_seconds.clone(),
        );
        let hash_queue = Gauge::default();
        registry.register(
            "auth_hash_queue",
            "Sign-ins waiting for a turn at the expensive work (OPAQUE's steps, a legacy \
             Argon2id)",
            hash_queue.clone(),
        );
        let serving = Gauge::default();
        serving.set(1);
        registry.register(
            "serving",
            "1 while this process reports SERVING to health checks, 0 while a dependency it \
             needs (a query role's replica, ...) does not answer",
            serving.clone(),
        );
        Arc::new(Self {
            registry,
            calls,
            call_seconds,
            refusals,
            round_trip_seconds,
            batch_commands,
            batch_apply_seconds,
            commands_applied,
            commands_rejected,
            watch_streams,
            consumer_lag,
            replica_waits,
            replica_wait_seconds,
            hash_queue,
            serving,
        })
    }

    /// The registry in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    fn call(&self, service: &str, method: &str, code: &str, took: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                service: service.to_owned(),
                method: method.to_owned(),
                code: code.to_owned(),
            })
            .inc();
        self.call_seconds
            .get_or_create(&MethodLabels {
                service: service.to_owned(),
                method: method.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    fn refusal(&self, service: &str, method: &str, reason: &str) {
        self.refusals
            .get_or_create(&RefusalLabels {
                service: service.to_owned(),
                method: method.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// A command's round trip as the client waiting for it sees it.
    pub fn command_round_trip(&self, took: Duration) {
        self.round_trip_seconds.observe(took.as_secs_f64());
    }

    /// One batch the consumer applied.
    pub fn batch(&self, commands: usize, took: Duration) {
        self.batch_commands.observe(commands as f64);
        self.batch_apply_seconds.observe(took.as_secs_f64());
        self.commands_applied.inc_by(commands as u64);
    }

    /// A message the consumer rejected; `reason` is one of
    /// [`REJECTION_REASONS`].
    pub fn rejected(&self, reason: &'static str) {
        debug_assert!(REJECTION_REASONS.contains(&reason), "{reason}");
        self.commands_rejected
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// What the commands topic holds beyond this consumer's position in
    /// `partition`.
    pub fn consumer_lag(&self, partition: i32, lag: i64) {
        self.consumer_lag
            .get_or_create(&PartitionLabels { partition })
            .set(lag);
    }

    /// A partition this consumer no longer holds: its lag is another's.
    pub fn forget_partition(&self, partition: i32) {
        self.consumer_lag.remove(&PartitionLabels { partition });
    }

    /// A query that waited `took` for the replica to catch up.
    pub fn replica_wait(&self, took: Duration, caught_up: bool) {
        let outcome = REPLICA_WAIT_OUTCOMES[usize::from(!caught_up)];
        self.replica_waits
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        self.replica_wait_seconds.observe(took.as_secs_f64());
    }

    /// Counts a sign-in waiting for a hash turn while the guard lives.
    pub fn hash_waiting(self: &Arc<Self>) -> HashQueueGuard {
        self.hash_queue.inc();
        HashQueueGuard(self.clone())
    }

    /// Whether this process reports SERVING.
    pub fn serving(&self, serving: bool) {
        self.serving.set(i64::from(serving));
    }

    /// Counts a Watch stream while the guard lives.
    pub fn watch_stream(self: &Arc<Self>) -> WatchStreamGuard {
        self.watch_streams.inc();
        WatchStreamGuard(self.clone())
    }
}

/// Counted in `gophkeeper_watch_streams` until dropped.
#[derive(Debug)]
pub struct WatchStreamGuard(Arc<Metrics>);

impl Drop for WatchStreamGuard {
    fn drop(&mut self) {
        self.0.watch_streams.dec();
    }
}

/// Counted in `gophkeeper_auth_hash_queue` until dropped.
#[derive(Debug)]
pub struct HashQueueGuard(Arc<Metrics>);

impl Drop for HashQueueGuard {
    fn drop(&mut self) {
        self.0.hash_queue.dec();
    }
}

/// Serves the metrics at `/metrics` on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// Binds `listen` and serves the metrics there in the background; logs
/// where and returns the bound address.
pub async fn spawn(
    listen: SocketAddr,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|err| anyhow::anyhow!("listening on {listen} for metrics: {err}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(address = %addr, "metrics at /metrics");
    tokio::spawn(async move {
        if let Err(err) = serve(listener, metrics, shutdown).await {
            tracing::error!(%err, "the metrics listener stopped");
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_labels_and_counts_render() {
        let metrics = Metrics::new("all");
        metrics.call(
            "gophkeeper.v1.Vault",
            "Submit",
            "Ok",
            Duration::from_millis(3),
        );
        metrics.call(
            "gophkeeper.v1.Vault",
            "Submit",
            "Ok",
            Duration::from_millis(5),
        );
        metrics.batch(4, Duration::from_millis(2));
        metrics.rejected("unsigned");
        metrics.consumer_lag(3, 17);
        metrics.consumer_lag(5, 2);
        metrics.forget_partition(5);
        metrics.replica_wait(Duration::from_millis(40), true);
        metrics.serving(false);
        let waiting = metrics.hash_waiting();
        let guard = metrics.watch_stream();
        let text = metrics.render();
        for line in [
            "gophkeeper_grpc_requests_total{service=\"gophkeeper.v1.Vault\",method=\"Submit\",code=\"Ok\"} 2",
            "gophkeeper_grpc_request_duration_seconds_count{service=\"gophkeeper.v1.Vault\",method=\"Submit\"} 2",
            "gophkeeper_consumer_batch_commands_count 1",
            "gophkeeper_consumer_commands_total 4",
            "gophkeeper_consumer_commands_rejected_total{reason=\"unsigned\"} 1",
            "gophkeeper_watch_streams 1",
            "gophkeeper_consumer_lag{partition=\"3\"} 17",
            "gophkeeper_query_replica_waits_total{outcome=\"caught_up\"} 1",
            "gophkeeper_query_replica_waits_total{outcome=\"timed_out\"} 0",
            "gophkeeper_query_replica_wait_duration_seconds_count 1",
            "gophkeeper_auth_hash_queue 1",
            "gophkeeper_serving 0",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        assert!(
            text.contains("gophkeeper_build_info{role=\"all\""),
            "{text}"
        );
        assert!(!text.contains("partition=\"5\""), "{text}");
        drop((guard, waiting));
        let text = metrics.render();
        assert!(text.contains("gophkeeper_watch_streams 0"), "{text}");
        assert!(text.contains("gophkeeper_auth_hash_queue 0"), "{text}");
    }
}

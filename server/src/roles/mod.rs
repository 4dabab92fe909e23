//! The composition root: what each role of the server builds and runs, one
//! file per role, all started by [`run`]. Every role opens its databases
//! through [`parts::open_stores`] and its broker through
//! [`parts::open_broker`], so the engines are chosen by the settings
//! (`storage.engine`, `broker.kind`) in one place for all of them.
//!
//! Role `all` runs every service in one process and works on either engine
//! with either broker. The other roles are one process each: they need
//! PostgreSQL (the query role reads a replica that the consumer's primary
//! streams to) and Kafka (producer and consumer are different processes),
//! and refuse anything else at start ([`check_engines`]).

pub mod all;
mod auth;
mod backends;
mod consumer;
mod gateway;
mod health;
mod parts;
mod producer;
mod query;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::internal_tls::{CallersOnly, InternalTls};
use crate::metrics::{GrpcMetricsLayer, Metrics};
use crate::settings::{BrokerKind, Role, Settings, StorageEngine};

/// Runs the configured role until `shutdown` fires.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    check_engines(&settings)?;
    tracing::info!(
        role = settings.role.name(),
        storage = settings.storage.engine.name(),
        broker = settings.broker.kind.name(),
        "starting"
    );
    if settings.role == Role::All {
        return all::run(settings, shutdown).await;
    }
    let metrics = Metrics::new(settings.role.name());
    if let Some(listen) = settings.metrics.address()? {
        crate::metrics::spawn(listen, metrics.clone(), shutdown.clone()).await?;
    }
    match settings.role {
        Role::All => unreachable!("handled above"),
        Role::Gateway => gateway::run(settings, metrics, shutdown).await,
        Role::Auth => auth::run(settings, metrics, shutdown).await,
        Role::Query => query::run(settings, metrics, shutdown).await,
        Role::CommandProducer => producer::run(settings, metrics, shutdown).await,
        Role::CommandConsumer => consumer::run(settings, metrics, shutdown).await,
    }
}

/// A role the settings cannot run, with the one-line reason.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "role {role} runs as one process of a cluster and needs storage.engine = \"postgres\" and \
     broker.kind = \"kafka\", not {storage:?} and {broker:?}; for one process use role all"
)]
pub struct EnginesRefused {
    role: &'static str,
    storage: &'static str,
    broker: &'static str,
}

/// Whether `settings.role` can run on the configured engines: role `all` on
/// any, a split role only on PostgreSQL and Kafka.
pub fn check_engines(settings: &Settings) -> Result<(), EnginesRefused> {
    let (storage, broker) = (settings.storage.engine, settings.broker.kind);
    let split_ready = storage == StorageEngine::Postgres && broker == BrokerKind::Kafka;
    if settings.role == Role::All || split_ready {
        return Ok(());
    }
    Err(EnginesRefused {
        role: settings.role.name(),
        storage: storage.name(),
        broker: broker.name(),
    })
}

/// Who calls the auth, query and command services: the gateway alone. No
/// other role calls another (auth processes share their database, the
/// consumer reads Kafka and writes PostgreSQL).
pub(crate) const GATEWAY_ONLY: &[Role] = &[Role::Gateway];

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Calls `attempt` until it succeeds, logging each failure with what is
/// awaited; `None` if `shutdown` fires first. Roles start in any order this
/// way: each waits for the databases and broker it needs.
pub(crate) async fn wait_for<T, E, F, Fut>(
    what: &str,
    shutdown: &CancellationToken,
    mut attempt: F,
) -> Option<T>
where
    E: std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut backoff = FIRST_BACKOFF;
    loop {
        match attempt().await {
            Ok(value) => {
                tracing::info!("{what}: ready");
                return Some(value);
            }
            Err(err) => {
                let error = crate::logging::ErrorChain(&err);
                tracing::warn!(%error, retry_in = ?backoff, "waiting for {what}");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shutdown.cancelled() => return None,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Serves gRPC health and, if given, one internal service on this role's
/// mutual-TLS listener until `shutdown` fires. The service answers only
/// peers whose certificate names one of `callers`; health answers any
/// certificate of the cluster CA (the probe's has no role), and follows
/// `dependency`, if given.
pub(crate) async fn serve_internal<S>(
    settings: &Settings,
    metrics: &Arc<Metrics>,
    service: Option<S>,
    callers: &'static [Role],
    dependency: Option<health::Dependency>,
    shutdown: CancellationToken,
) -> anyhow::Result<()>
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let tls = InternalTls::load(&settings.internal)?;
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    if service.is_some() {
        health_reporter.set_serving::<S>().await;
    }
    if let Some(dependency) = dependency {
        tokio::spawn(dependency.watch(
            health_reporter.clone(),
            S::NAME,
            metrics.clone(),
            shutdown.clone(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(settings.internal.listen)
        .await
        .with_context(|| format!("listening on {}", settings.internal.listen))?;
    tracing::info!(listen = %settings.internal.listen, service = S::NAME, "serving");
    Server::builder()
        .layer(GrpcMetricsLayer(metrics.clone()))
        .tls_config(tls.server())?
        .add_service(health)
        .add_optional_service(service.map(|service| CallersOnly::new(service, callers)))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown.cancelled_owned())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(role: Role, storage: StorageEngine, broker: BrokerKind) -> Settings {
        let mut settings = Settings::load_without_env(None).unwrap();
        settings.role = role;
        settings.storage.engine = storage;
        settings.broker.kind = broker;
        settings
    }

    const ENGINES: [(StorageEngine, BrokerKind); 4] = [
        (StorageEngine::Sqlite, BrokerKind::InProcess),
        (StorageEngine::Sqlite, BrokerKind::Kafka),
        (StorageEngine::Postgres, BrokerKind::InProcess),
        (StorageEngine::Postgres, BrokerKind::Kafka),
    ];

    #[test]
    fn role_all_runs_on_every_engine_and_broker() {
        for (storage, broker) in ENGINES {
            assert_eq!(
                check_engines(&settings(Role::All, storage, broker)),
                Ok(()),
                "{storage:?} {broker:?}"
            );
        }
    }

    #[test]
    fn split_roles_run_only_on_postgres_and_kafka_and_say_why_not() {
        let split = [
            Role::Gateway,
            Role::Auth,
            Role::Query,
            Role::CommandProducer,
            Role::CommandConsumer,
        ];
        for role in split {
            for (storage, broker) in ENGINES {
                let checked = check_engines(&settings(role, storage, broker));
                if (storage, broker) == (StorageEngine::Postgres, BrokerKind::Kafka) {
                    assert_eq!(checked, Ok(()), "{role:?}");
                    continue;
                }
                let reason = checked.unwrap_err().to_string();
                assert!(!reason.contains('\n'), "{reason}");
                assert!(
                    reason.starts_with(&format!("role {} ", role.name())),
                    "{reason}"
                );
                assert!(reason.contains(storage.name()), "{reason}");
                assert!(reason.contains(broker.name()), "{reason}");
                assert!(reason.contains("role all"), "{reason}");
            }
        }
    }
}

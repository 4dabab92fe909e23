//! Role `all`: every service in one process, wired through the same gRPC
//! service interfaces a cluster uses. On its defaults (SQLite files in the
//! data directory, the in-process broker) this is what `gophkeeper-server`
//! with no arguments runs, and what the integration tests start on port 0;
//! PostgreSQL and Kafka are settings away (see `config/single-node.toml`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use gophkeeper_proto::v1::auth_service_server::AuthServiceServer;
use gophkeeper_proto::v1::command_service_server::CommandServiceServer;
use gophkeeper_proto::v1::query_service_server::QueryServiceServer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::parts::{BrokerNeeds, StoreNeeds, command_keys, open_broker, open_stores, opened};
use crate::auth::Auth;
use crate::command::{consumer, producer::Producer};
use crate::events::EventHub;
use crate::gateway::{self, Backends, internal::in_process};
use crate::metrics::Metrics;
use crate::query::Query;
use crate::secrets::ServerSecret;
use crate::settings::Settings;

/// How long shutdown waits for the consumer to drain queued commands before
/// it stops retrying a failing store.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// A running single-node server.
#[derive(Debug)]
pub struct ServerHandle {
    pub local_addr: std::net::SocketAddr,
    /// SHA-256 fingerprint of the gateway's certificate.
    pub fingerprint: String,
    /// The generated CA certificate, if the server made its own.
    pub ca_path: Option<PathBuf>,
    /// Where the metrics are served (`metrics.listen`), if anywhere.
    pub metrics_addr: Option<std::net::SocketAddr>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl ServerHandle {
    /// A token that stops the server when cancelled (e.g. on a signal).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets in-flight calls and queued commands finish, and
    /// closes storage.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the server stops (after its shutdown token fires).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task panicked")?
    }
}

/// Binds the configured address and serves until `shutdown` fires.
pub(super) async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.gateway.listen)
        .await
        .with_context(|| format!("listening on {}", settings.gateway.listen))?;
    let server = start(settings, listener).await?;
    let token = server.shutdown_token();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        token.cancel();
    });
    server.wait().await
}

/// Opens storage and broker, starts every service and serves on `listener`.
pub async fn start(settings: Settings, listener: TcpListener) -> anyhow::Result<ServerHandle> {
    super::check_engines(&settings)?;
    let data_dir = settings.data_dir()?;
    create_private_dir(&data_dir)?;
    let local_addr = listener.local_addr()?;

    let secret = ServerSecret::load_or_create(&settings.auth.secret, &data_dir)?;
    let shutdown = CancellationToken::new();
    let metrics = Metrics::new(settings.role.name());
    let metrics_addr = match settings.metrics.address()? {
        Some(listen) => {
            Some(crate::metrics::spawn(listen, metrics.clone(), shutdown.clone()).await?)
        }
        None => None,
    };
    let every_store = StoreNeeds {
        auth: true,
        vault_writer: true,
        vault_reader: true,
    };
    let mut stores = open_stores(&settings, every_store, &shutdown)
        .await?
        .context("stopped while opening storage")?;
    let both_ends = BrokerNeeds {
        publish: true,
        subscribe: true,
    };
    let mut broker = open_broker(&settings, both_ends, &metrics, &shutdown)
        .await?
        .context("stopped while opening the broker")?;
    let publisher = opened(broker.publisher.take(), "command publisher")?;
    let subscriber = opened(broker.subscriber.take(), "command subscriber")?;
    let vault_writer = opened(stores.vault_writer.take(), "vault writer")?;

    let hub = EventHub::new();
    let auth = Arc::new(Auth::new(
        opened(stores.auth.take(), "auth store")?,
        &secret,
        &settings.auth,
        metrics.clone(),
    )?);
    let query = Arc::new(Query::new(
        opened(stores.vault_reader.take(), "vault reader")?,
        settings.query.clone(),
        metrics.clone(),
    ));
    let keys = command_keys(&settings, Some(&secret))?;
    let producer = Producer::new(publisher, keys.clone());
    let backends = Backends::new(
        in_process(AuthServiceServer::from_arc(auth.clone())),
        in_process(QueryServiceServer::from_arc(query)),
        in_process(CommandServiceServer::new(producer)),
    );

    let tls = crate::tls::load_or_create(&settings.gateway, &data_dir)?;
    tracing::info!(
        certificate = %tls.cert_path.display(),
        ca = %tls.ca_path.as_ref().map_or_else(|| "configured".into(), |p| p.display().to_string()),
        sha256 = %tls.fingerprint,
        "TLS certificate"
    );

    let consumer_stop = CancellationToken::new();
    // One process: the consumer hands events straight to this gateway's
    // hub, also when the broker is Kafka (so run one `all` per topic).
    let consumer = tokio::spawn(consumer::run(
        subscriber,
        keys,
        vault_writer,
        hub.clone(),
        metrics.clone(),
        consumer_stop.clone(),
    ));
    let housekeeping = tokio::spawn(crate::auth::housekeeping(auth.clone(), shutdown.clone()));

    tracing::info!(%local_addr, data_dir = %data_dir.display(), "single-node server ready");
    let gateway_settings = settings.gateway.clone();
    let fingerprint = tls.fingerprint.clone();
    let ca_path = tls.ca_path.clone();
    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        let served = gateway::serve(
            listener,
            tls.identity,
            backends,
            hub,
            gateway_settings,
            metrics,
            token,
        )
        .await;
        tracing::info!("gateway stopped; draining queued commands");
        if !broker.close() {
            consumer_stop.cancel();
        }
        let drained = tokio::time::timeout(DRAIN_GRACE, consumer).await;
        let consumed = match drained {
            Ok(joined) => joined.context("command consumer panicked")?,
            Err(_) => {
                tracing::warn!("consumer did not drain in time; stopping it");
                consumer_stop.cancel();
                Ok(())
            }
        };
        housekeeping.abort();
        stores.close().await;
        tracing::info!("server stopped");
        served.and(consumed)
    });
    Ok(ServerHandle {
        local_addr,
        fingerprint,
        ca_path,
        metrics_addr,
        shutdown,
        task,
    })
}

/// The data directory holds secrets; on Unix only its owner may enter it.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}

//! Role `all`: every service in one process, wired through the same gRPC
//! service interfaces a cluster uses, on SQLite files and the in-process
//! broker. This is what `gophkeeper-server` with no arguments runs, and what
//! the integration tests start on port 0.

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

use crate::auth::Auth;
use crate::auth::sqlite::SqliteAuthStore;
use crate::broker::in_process;
use crate::command::{consumer, producer::Producer};
use crate::events::EventHub;
use crate::gateway::{self, Backends, internal::in_process};
use crate::query::Query;
use crate::secrets::ServerSecret;
use crate::settings::{BrokerKind, Settings, StorageEngine};
use crate::vault;

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

/// Opens storage, starts every service and serves on `listener`.
pub async fn start(settings: Settings, listener: TcpListener) -> anyhow::Result<ServerHandle> {
    if settings.storage.engine != StorageEngine::Sqlite {
        anyhow::bail!("single-node mode runs on SQLite; PostgreSQL needs the cluster roles");
    }
    if settings.broker.kind != BrokerKind::InProcess {
        anyhow::bail!("single-node mode uses the in-process broker; Kafka needs the cluster roles");
    }
    let data_dir = settings.data_dir()?;
    create_private_dir(&data_dir)?;
    let local_addr = listener.local_addr()?;

    let secret = ServerSecret::load_or_create(&settings.auth.secret, &data_dir)?;
    let auth_store = SqliteAuthStore::open(&data_dir.join("auth.db"))
        .await
        .context("opening the auth database")?;
    let (vault_writer, vault_reader) = vault::sqlite::open(&data_dir.join("vault.db"))
        .await
        .context("opening the vault database")?;

    let hub = EventHub::new();
    let (publisher, subscriber) = in_process::channel(settings.broker.in_process_capacity);
    let publisher = Arc::new(publisher);

    let auth = Arc::new(Auth::new(
        Arc::new(auth_store.clone()),
        &secret,
        &settings.auth,
    )?);
    let query = Arc::new(Query::new(
        Arc::new(vault_reader.clone()),
        settings.query.clone(),
    ));
    let producer = Producer::new(publisher.clone());
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

    let shutdown = CancellationToken::new();
    let consumer_stop = CancellationToken::new();
    let consumer = tokio::spawn(consumer::run(
        subscriber,
        Arc::new(vault_writer.clone()),
        hub.clone(),
        consumer_stop.clone(),
    ));
    let housekeeping = {
        let auth = auth.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::auth::HOUSEKEEPING_INTERVAL);
            loop {
                tokio::select! {
                    _ = tick.tick() => auth.housekeeping(),
                    () = shutdown.cancelled() => return,
                }
            }
        })
    };

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
            token,
        )
        .await;
        tracing::info!("gateway stopped; draining queued commands");
        publisher.close();
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
        vault_writer.close().await;
        vault_reader.close().await;
        auth_store.close().await;
        tracing::info!("server stopped");
        served.and(consumed)
    });
    Ok(ServerHandle {
        local_addr,
        fingerprint,
        ca_path,
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

//! The internal gRPC services as processes: auth, query, command producer.

use std::sync::Arc;

use anyhow::Context as _;
use gophkeeper_proto::v1::auth_service_server::AuthServiceServer;
use gophkeeper_proto::v1::command_service_server::CommandServiceServer;
use gophkeeper_proto::v1::query_service_server::QueryServiceServer;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use super::wait_for;
use crate::auth::Auth;
use crate::auth::postgres::PgAuthStore;
use crate::broker::kafka::{self, KafkaProducer, KafkaPublisher};
use crate::command::producer::Producer;
use crate::internal_tls::InternalTls;
use crate::query::Query;
use crate::secrets::ServerSecret;
use crate::settings::Settings;
use crate::vault::postgres;
use secrecy::ExposeSecret as _;

/// Serves one internal service plus gRPC health on the internal listener.
async fn serve<S>(
    settings: &Settings,
    service: S,
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
    health_reporter.set_serving::<S>().await;
    let listener = tokio::net::TcpListener::bind(settings.internal.listen)
        .await
        .with_context(|| format!("listening on {}", settings.internal.listen))?;
    tracing::info!(listen = %settings.internal.listen, service = S::NAME, "serving");
    Server::builder()
        .tls_config(tls.server())?
        .add_service(health)
        .add_service(service)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown.cancelled_owned())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

pub async fn run_auth(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let data_dir = settings.data_dir()?;
    let secret = ServerSecret::load_or_create(&settings.auth.secret, &data_dir)?;
    let Some(store) = wait_for("auth database", &shutdown, || {
        PgAuthStore::open(
            settings.postgres.auth_url.expose_secret(),
            settings.postgres.pool_size,
        )
    })
    .await
    else {
        return Ok(());
    };
    let auth = Arc::new(Auth::new(Arc::new(store), &secret, &settings.auth)?);
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
    let served = serve(&settings, AuthServiceServer::from_arc(auth), shutdown).await;
    housekeeping.abort();
    served
}

pub async fn run_query(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let Some(reader) = wait_for("vault replica", &shutdown, || {
        postgres::open_reader(
            settings.postgres.vault_replica_url.expose_secret(),
            settings.postgres.pool_size,
        )
    })
    .await
    else {
        return Ok(());
    };
    let query = Arc::new(Query::new(Arc::new(reader), settings.query.clone()));
    serve(&settings, QueryServiceServer::from_arc(query), shutdown).await
}

pub async fn run_producer(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let kafka = settings.kafka.clone();
    if wait_for("Kafka topics", &shutdown, || kafka::ensure_topics(&kafka))
        .await
        .is_none()
    {
        return Ok(());
    }
    let producer = KafkaProducer::new(&kafka)?;
    let publisher = Arc::new(KafkaPublisher::new(producer, &kafka));
    serve(
        &settings,
        CommandServiceServer::new(Producer::new(publisher)),
        shutdown,
    )
    .await
}

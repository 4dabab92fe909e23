//! The command consumer as a process: one member of the consumer group on
//! the commands topic, applying to the vault primary and publishing events
//! to the events topic. It serves only gRPC health.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use super::wait_for;
use crate::broker::kafka::{self, KafkaEventSink, KafkaProducer, KafkaSubscriber};
use crate::command::consumer;
use crate::internal_tls::InternalTls;
use crate::settings::Settings;
use crate::vault::postgres;
use secrecy::ExposeSecret as _;

pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let tls = InternalTls::load(&settings.internal)?;
    let Some(writer) = wait_for("vault primary", &shutdown, || {
        postgres::open_writer(
            settings.postgres.vault_primary_url.expose_secret(),
            settings.postgres.pool_size,
        )
    })
    .await
    else {
        return Ok(());
    };
    let kafka = settings.kafka.clone();
    if wait_for("Kafka topics", &shutdown, || kafka::ensure_topics(&kafka))
        .await
        .is_none()
    {
        return Ok(());
    }
    let subscriber = KafkaSubscriber::new(&kafka)?;
    let events = KafkaEventSink::new(KafkaProducer::new(&kafka)?, &kafka);

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind(settings.internal.listen)
        .await
        .with_context(|| format!("listening on {}", settings.internal.listen))?;
    let health_server = tokio::spawn(
        Server::builder()
            .tls_config(tls.server())?
            .add_service(health)
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener),
                shutdown.clone().cancelled_owned(),
            ),
    );
    tracing::info!(group = %kafka.consumer_group, topic = %kafka.commands_topic, "consuming commands");
    // On shutdown the consumer finishes the command in hand, then stops;
    // anything not yet committed is redelivered to the group.
    let consumed = consumer::run(
        subscriber,
        Arc::new(writer.clone()),
        Arc::new(events),
        shutdown,
    )
    .await;
    writer.close().await;
    health_server.await.context("health server panicked")??;
    tracing::info!("stopped");
    consumed
}

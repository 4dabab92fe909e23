//! Role `command-consumer`: one member of the consumer group on the
//! commands topic, applying to the vault primary and publishing events to
//! the events topic. It serves only gRPC health.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::parts::{BrokerNeeds, StoreNeeds, command_keys, open_broker, open_stores, opened};
use super::serve_internal;
use crate::broker::kafka::{KafkaEventSink, KafkaProducer};
use crate::command::consumer;
use crate::metrics::Metrics;
use crate::settings::Settings;

/// The consumer serves no API of its own, only health.
type HealthOnly =
    tonic_health::pb::health_server::HealthServer<tonic_health::server::HealthService>;

pub async fn run(
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let keys = command_keys(&settings, None)?;
    let needs = StoreNeeds {
        vault_writer: true,
        ..StoreNeeds::default()
    };
    let Some(mut stores) = open_stores(&settings, needs, &shutdown).await? else {
        return Ok(());
    };
    let writer = opened(stores.vault_writer.take(), "vault writer")?;
    let needs = BrokerNeeds {
        subscribe: true,
        ..BrokerNeeds::default()
    };
    let Some(mut broker) = open_broker(&settings, needs, &metrics, &shutdown).await? else {
        stores.close().await;
        return Ok(());
    };
    let subscriber = opened(broker.subscriber.take(), "command subscriber")?;
    // Events go to every gateway through the events topic (check_engines
    // holds this role to Kafka).
    let kafka = &settings.kafka;
    let events = KafkaEventSink::new(KafkaProducer::new(kafka)?, kafka);

    let health = tokio::spawn({
        let settings = settings.clone();
        let metrics = metrics.clone();
        let shutdown = shutdown.clone();
        async move { serve_internal::<HealthOnly>(&settings, &metrics, None, &[], None, shutdown).await }
    });
    tracing::info!(group = %kafka.consumer_group, topic = %kafka.commands_topic, "consuming commands");
    // On shutdown the consumer finishes the command in hand, then stops;
    // anything not yet committed is redelivered to the group.
    let consumed = consumer::run(
        subscriber,
        keys,
        writer,
        Arc::new(events),
        metrics,
        shutdown,
    )
    .await;
    stores.close().await;
    health.await.context("health server panicked")??;
    tracing::info!("stopped");
    consumed
}

//! Role `gateway`: the public TLS endpoint, internal services over
//! mutual TLS, and a feed of vault events from Kafka into its hub.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::{backends, wait_for};
use crate::broker::kafka;
use crate::events::EventHub;
use crate::internal_tls::InternalTls;
use crate::metrics::Metrics;
use crate::settings::Settings;

pub async fn run(
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let data_dir = settings.data_dir()?;
    let internal = InternalTls::load(&settings.internal)?;
    let backends = backends::connect(&settings.cluster, &internal)?;
    let hub = EventHub::new();

    let feed = {
        let kafka = settings.kafka.clone();
        let hub = hub.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            // Reconnects until shutdown: a broker restart must not leave the
            // gateway deaf to events.
            while !shutdown.is_cancelled() {
                let fed = wait_for("vault events topic", &shutdown, || {
                    kafka::feed_hub(kafka.clone(), hub.clone(), shutdown.clone())
                })
                .await;
                if fed.is_none() {
                    return;
                }
            }
        })
    };

    let tls = crate::tls::load_or_create(&settings.gateway, &data_dir)?;
    tracing::info!(certificate = %tls.cert_path.display(), sha256 = %tls.fingerprint, "TLS certificate");
    let listener = tokio::net::TcpListener::bind(settings.gateway.listen)
        .await
        .with_context(|| format!("listening on {}", settings.gateway.listen))?;
    tracing::info!(listen = %settings.gateway.listen, "gateway ready");
    let served = crate::gateway::serve(
        listener,
        tls.identity,
        backends,
        hub,
        settings.gateway.clone(),
        metrics,
        shutdown,
    )
    .await;
    feed.abort();
    served
}

//! Role `command-producer`: validates the gateways' commands and publishes
//! them to the broker.

use std::sync::Arc;

use gophkeeper_proto::v1::command_service_server::CommandServiceServer;
use tokio_util::sync::CancellationToken;

use super::parts::{BrokerNeeds, command_keys, open_broker, opened};
use super::{GATEWAY_ONLY, serve_internal};
use crate::command::producer::Producer;
use crate::metrics::Metrics;
use crate::settings::Settings;

pub async fn run(
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let keys = command_keys(&settings, None)?;
    let needs = BrokerNeeds {
        publish: true,
        ..BrokerNeeds::default()
    };
    let Some(mut broker) = open_broker(&settings, needs, &metrics, &shutdown).await? else {
        return Ok(());
    };
    let publisher = opened(broker.publisher.take(), "command publisher")?;
    let producer = CommandServiceServer::new(Producer::new(publisher, keys));
    let served = serve_internal(
        &settings,
        &metrics,
        Some(producer),
        GATEWAY_ONLY,
        None,
        shutdown,
    )
    .await;
    tracing::info!("stopped");
    served
}

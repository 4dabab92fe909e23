//! Role `query`: reads from the vault replica, served to the gateways over
//! mutual TLS.

use std::sync::Arc;

use gophkeeper_proto::v1::query_service_server::QueryServiceServer;
use tokio_util::sync::CancellationToken;

use super::health::Dependency;
use super::parts::{StoreNeeds, open_stores, opened};
use super::{GATEWAY_ONLY, serve_internal};
use crate::metrics::Metrics;
use crate::query::Query;
use crate::settings::Settings;

pub async fn run(
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let needs = StoreNeeds {
        vault_reader: true,
        ..StoreNeeds::default()
    };
    let Some(mut stores) = open_stores(&settings, needs, &shutdown).await? else {
        return Ok(());
    };
    let reader = opened(stores.vault_reader.take(), "vault reader")?;
    let query = Arc::new(Query::new(reader, settings.query.clone(), metrics.clone()));
    let replica = Dependency::new("vault replica", query.clone(), |query| {
        Box::pin(async move { query.reachable().await.map_err(|e| e.to_string()) })
    });
    let served = serve_internal(
        &settings,
        &metrics,
        Some(QueryServiceServer::from_arc(query)),
        GATEWAY_ONLY,
        Some(replica),
        shutdown,
    )
    .await;
    stores.close().await;
    tracing::info!("stopped");
    served
}

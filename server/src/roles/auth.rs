//! Role `auth`: registration, login, tokens and sessions on the auth
//! database, served to the gateways over mutual TLS.

use std::sync::Arc;

use gophkeeper_proto::v1::auth_service_server::AuthServiceServer;
use tokio_util::sync::CancellationToken;

use super::health::Dependency;
use super::parts::{StoreNeeds, open_stores, opened};
use super::{GATEWAY_ONLY, serve_internal};
use crate::auth::Auth;
use crate::metrics::Metrics;
use crate::secrets::ServerSecret;
use crate::settings::Settings;

pub async fn run(
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let secret = ServerSecret::load_or_create(&settings.auth.secret, &settings.data_dir()?)?;
    let needs = StoreNeeds {
        auth: true,
        ..StoreNeeds::default()
    };
    let Some(mut stores) = open_stores(&settings, needs, &shutdown).await? else {
        return Ok(());
    };
    let store = opened(stores.auth.take(), "auth store")?;
    let auth = Arc::new(Auth::new(store, &secret, &settings.auth, metrics.clone())?);
    let housekeeping = tokio::spawn(crate::auth::housekeeping(auth.clone(), shutdown.clone()));
    let database = Dependency::new("auth database", auth.clone(), |auth| {
        Box::pin(async move { auth.reachable().await.map_err(|e| e.to_string()) })
    });
    let served = serve_internal(
        &settings,
        &metrics,
        Some(AuthServiceServer::from_arc(auth)),
        GATEWAY_ONLY,
        Some(database),
        shutdown,
    )
    .await;
    housekeeping.abort();
    stores.close().await;
    tracing::info!("stopped");
    served
}

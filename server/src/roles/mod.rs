//! One process per role (cluster mode). Each role opens only what it needs,
//! waits for its dependencies with backoff (so the roles can start in any
//! order), then serves gRPC health and its API on a mutual-TLS listener.
//! Role `all` lives in `crate::single_node`.

mod backends;
mod consumer;
mod gateway;
mod services;

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::settings::{Role, Settings};

pub use self::backends::ClusterSettings;

/// Runs one cluster role until `shutdown` fires.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    match settings.role {
        Role::All => anyhow::bail!("role `all` runs through single_node::start"),
        Role::Gateway => gateway::run(settings, shutdown).await,
        Role::Auth => services::run_auth(settings, shutdown).await,
        Role::Query => services::run_query(settings, shutdown).await,
        Role::CommandProducer => services::run_producer(settings, shutdown).await,
        Role::CommandConsumer => consumer::run(settings, shutdown).await,
    }
}

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Calls `attempt` until it succeeds, logging each failure with what is
/// awaited; `None` if `shutdown` fires first.
pub(crate) async fn wait_for<T, E, F, Fut>(
    what: &str,
    shutdown: &CancellationToken,
    mut attempt: F,
) -> Option<T>
where
    E: std::fmt::Display,
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
                tracing::warn!(error = %err, retry_in = ?backoff, "waiting for {what}");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shutdown.cancelled() => return None,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

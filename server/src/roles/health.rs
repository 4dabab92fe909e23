//! Health that reflects what a role needs: a role's check of its
//! dependency (the query role's replica, the auth role's database) runs
//! every [`INTERVAL`], and while it fails the role answers NOT_SERVING to
//! health checks, for itself and its service, so that a load balancer or
//! `gophkeeper-server probe` stops sending it calls it cannot answer.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::metrics::Metrics;

/// How often the dependency is checked.
const INTERVAL: Duration = Duration::from_secs(2);
/// A check that takes longer than this counts as failed: a database that
/// does not answer is as good as down.
const TIMEOUT: Duration = Duration::from_secs(2);

type Check = Box<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// What a role's health hangs on besides itself.
pub(crate) struct Dependency {
    name: &'static str,
    check: Check,
}

impl std::fmt::Debug for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dependency")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Dependency {
    /// `check` answers whether `name` is reachable now.
    pub(crate) fn new<T, F>(name: &'static str, target: Arc<T>, check: F) -> Self
    where
        T: Send + Sync + 'static + ?Sized,
        F: Fn(Arc<T>) -> BoxFuture<'static, Result<(), String>> + Send + Sync + 'static,
    {
        Self {
            name,
            check: Box::new(move || check(target.clone())),
        }
    }

    async fn answers(&self) -> Result<(), String> {
        match tokio::time::timeout(TIMEOUT, (self.check)()).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
        }
    }

    /// Keeps the health of the whole server (`""`) and of `service` in
    /// line with the dependency until `shutdown`.
    pub(crate) async fn watch(
        self,
        reporter: HealthReporter,
        service: &'static str,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) {
        let mut serving = true;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(INTERVAL) => {}
            }
            let answer = self.answers().await;
            if answer.is_ok() == serving {
                continue;
            }
            serving = answer.is_ok();
            let status = match answer {
                Ok(()) => {
                    tracing::info!(dependency = self.name, "serving again");
                    ServingStatus::Serving
                }
                Err(error) => {
                    tracing::warn!(dependency = self.name, %error, "not serving: a dependency does not answer");
                    ServingStatus::NotServing
                }
            };
            reporter.set_service_status("", status).await;
            reporter.set_service_status(service, status).await;
            metrics.serving(serving);
        }
    }
}

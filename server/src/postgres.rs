//! Shared PostgreSQL pool set-up for the cluster's stores (auth, vault
//! primary, vault replica), so every pool sizes and times out the same way.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// A pool of at most `size` connections (at least one) whose callers wait
/// `acquire_timeout` for a free connection before the store reports itself
/// unavailable, instead of queueing without end behind a stuck database.
pub async fn pool(
    options: PgConnectOptions,
    size: u32,
    acquire_timeout: Duration,
) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(size.max(1))
        .acquire_timeout(acquire_timeout)
        .connect_with(options)
        .await
}

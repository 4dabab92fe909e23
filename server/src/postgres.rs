//! Shared PostgreSQL pool set-up for the cluster's stores (auth, vault
//! primary, vault replica), so every pool sizes and times out the same way,
//! and the one way those stores begin a transaction.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

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

/// Starts a transaction on one of `pool`'s connections in a task of its
/// own, with `statement` instead of a plain `BEGIN` if given.
///
/// Why a task: sqlx 0.9 counts a transaction only once the server has
/// answered `BEGIN`, and its drop guard rolls back only counted ones
/// (transact-rs/sqlx#4393). A caller dropped inside that round trip (a
/// client that hung up, a timeout) left the connection inside a transaction
/// that nothing ended, and the pool handed it on: the cluster chaos drill
/// caught a read that then answered from a snapshot taken before the
/// revision it had waited for, and a later single-statement write on such a
/// connection would stay uncommitted until something ended that
/// transaction. In its own task `BEGIN` always runs to its answer; if the
/// caller is gone by then, the transaction is dropped there, counted, and
/// rolled back as usual. The storage case
/// `a_read_dropped_mid_begin_leaves_no_transaction_open` shows the leak
/// without this. Once a sqlx release carries the fix (transact-rs/sqlx#4394,
/// merged upstream after 0.9.0), a plain `pool.begin()` will do again.
pub async fn begin(
    pool: &PgPool,
    statement: Option<&'static str>,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    let begun = tokio::spawn(async move {
        match statement {
            Some(statement) => pool.begin_with(statement).await,
            None => pool.begin().await,
        }
    });
    match begun.await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // Only a runtime that is shutting down cancels the task.
        Err(_) => Err(sqlx::Error::PoolClosed),
    }
}

//! The storage-trait suite: one set of cases for the vault and auth stores,
//! run against every engine (atuin's `tests-database` idea), so SQLite and
//! PostgreSQL cannot drift apart. PostgreSQL runs for real: an auth server,
//! a vault primary and a streaming replica started by `scripts/pg-local` in
//! a temporary directory. If they cannot be started, the PostgreSQL test
//! fails; it is never skipped.
//!
//! Each engine is one `#[tokio::test]` that runs every case as its own task
//! and names the cases that failed, so that one slow set-up (PostgreSQL)
//! serves all cases and is torn down when the test ends.

// Test code: a failed set-up step should fail the test on the spot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth_cases;
mod engines;
#[path = "../support/pg_local.rs"]
mod pg_local;
mod postgres_cases;
mod vault_cases;

use engines::{Case, Stores, run_cases};

fn shared_cases() -> Vec<Case> {
    let mut cases = vault_cases::cases();
    cases.extend(auth_cases::cases());
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_engine() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::sqlite(dir.path()).await;
    run_cases("sqlite", &stores, shared_cases()).await;
    stores.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_engine() {
    let cluster = pg_local::PgCluster::start().await;
    let stores = Stores::postgres(&cluster).await;
    let mut cases = shared_cases();
    cases.extend(postgres_cases::cases());
    run_cases("postgres", &stores, cases).await;
    stores.close().await;
    cluster.stop().await;
}

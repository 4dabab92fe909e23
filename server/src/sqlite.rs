//! Shared SQLite set-up for the single-node stores: WAL so readers never
//! block the writer, full fsync on commit because an applied change or a new
//! session must survive a power cut, and a busy timeout instead of instant
//! `SQLITE_BUSY` errors.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

// Every SQLite pool here is built without an idle timeout or a maximum
// lifetime, so sqlx starts no reaper task: a local file's connection has
// nothing to reap, and sqlx 0.9's reaper can spin for ever on a miscounted
// idle queue (transact-rs/sqlx#3645; it hung a network test binary at
// exit here, 100% CPU in `pop_idle`, on 2026-12-04).

/// Opens (creating if needed) the database at `path` and applies `migrator`,
/// returning a single-connection pool for writes: SQLite has one writer
/// anyway, and one connection makes the order of writes explicit.
pub async fn open_writer(path: &Path, migrator: &Migrator) -> Result<SqlitePool, sqlx::Error> {
    let options = base_options(path)?.create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await?;
    migrator.run(&pool).await?;
    Ok(pool)
}

/// A read-only pool on a database that [`open_writer`] created: the read side
/// (queries) has no way to write.
pub async fn open_reader(path: &Path, connections: u32) -> Result<SqlitePool, sqlx::Error> {
    let options = base_options(path)?.read_only(true);
    SqlitePoolOptions::new()
        .max_connections(connections)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
}

fn base_options(path: &Path) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5)))
}

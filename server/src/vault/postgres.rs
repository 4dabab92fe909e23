//! The vault store on PostgreSQL (cluster mode). [`PgVaultWriter`] runs on
//! the primary and is the only thing that migrates or writes;
//! [`PgVaultReader`] runs on the streaming replica as the read-only
//! `gophkeeper_query` user and never writes, whatever it is pointed at.
//!
//! One user's commands are serialised by a row lock on that user's revision
//! counter, taken as the first statement of every apply. Everything after it
//! (the duplicate check, the stale-base check, the bump) therefore sees the
//! previous writer's commit, and commits happen in revision order, so the
//! replica never shows revision N+1 without N. Different users' commands
//! take different locks and apply in parallel.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use gophkeeper_proto::v1;
use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::apply::{ApplySteps, Write, apply_in};
use super::{
    ApplyCommand, ApplyResult, ChangesPage, KindPage, PageLimit, StoreError, StoredRecord,
    VaultReader, VaultWriter, revision_from_sql, revision_to_sql,
};
use crate::ids::{CommandId, RecordId, UserId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/vault/postgres");

/// How long the consumer waits for a pooled connection to the primary
/// before it reports the store unavailable and retries the command.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// The same for the query service on the replica; shorter, because a
/// client is waiting: with the replica down it hears UNAVAILABLE within a
/// second and retries, instead of hanging on a server that is not there.
const READ_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// A read sees one snapshot; READ ONLY also makes PostgreSQL refuse any
/// write inside it, on top of the role's privileges.
const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

#[derive(Debug, Clone)]
pub struct PgVaultWriter {
    pool: PgPool,
}

#[derive(Debug, Clone)]
pub struct PgVaultReader {
    pool: PgPool,
}

/// Connects to the primary and brings its schema up to date.
pub async fn open_writer(url: &str, pool_size: u32) -> Result<PgVaultWriter, StoreError> {
    let options = PgConnectOptions::from_str(url)?.application_name("gophkeeper-vault-writer");
    let pool = crate::postgres::pool(options, pool_size, ACQUIRE_TIMEOUT).await?;
    MIGRATOR.run(&pool).await.map_err(sqlx::Error::from)?;
    Ok(PgVaultWriter { pool })
}

/// Connects to the replica. Runs no migration; every session is read-only
/// (`default_transaction_read_only`), so even a misconfigured URL pointing at
/// the primary with a writing user cannot write through this pool.
pub async fn open_reader(url: &str, pool_size: u32) -> Result<PgVaultReader, StoreError> {
    let options = PgConnectOptions::from_str(url)?
        .application_name("gophkeeper-vault-reader")
        .options([("default_transaction_read_only", "on")]);
    let pool = crate::postgres::pool(options, pool_size, READ_ACQUIRE_TIMEOUT).await?;
    Ok(PgVaultReader { pool })
}

impl PgVaultWriter {
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl PgVaultReader {
    /// The read-only pool itself, for health and replication-lag checks and
    /// for tests that prove it cannot write.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn record_from_row(row: &PgRow) -> Result<StoredRecord, StoreError> {
    let kind: i32 = row.try_get("kind")?;
    Ok(StoredRecord {
        record_id: RecordId(row.try_get::<Uuid, _>("record_id")?),
        kind: v1::RecordKind::try_from(kind)
            .map_err(|_| StoreError::Corrupt(format!("record kind {kind}")))?,
        ciphertext: row.try_get("ciphertext")?,
        revision: revision_from_sql(row.try_get("revision")?)?,
        deleted: row.try_get("deleted")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
    })
}

async fn find_record(
    conn: &mut PgConnection,
    user: UserId,
    record: RecordId,
) -> Result<Option<StoredRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT record_id, kind, ciphertext, revision, deleted, created_at_ms, updated_at_ms \
         FROM records WHERE user_id = $1 AND record_id = $2",
    )
    .bind(user.0)
    .bind(record.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(record_from_row).transpose()
}

async fn head(conn: &mut PgConnection, user: UserId) -> Result<u64, StoreError> {
    let revision: Option<i64> =
        sqlx::query_scalar("SELECT revision FROM user_revisions WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
    revision.map_or(Ok(0), revision_from_sql)
}

#[async_trait]
impl VaultWriter for PgVaultWriter {
    async fn apply_batch(
        &self,
        commands: &[ApplyCommand],
        now_ms: i64,
    ) -> Result<Vec<ApplyResult>, StoreError> {
        let mut tx = crate::postgres::begin(&self.pool, None).await?;

        // Every user's lock, before anything is read: a second transaction
        // for the same user (a parallel consumer, a redelivery racing the
        // first delivery) waits here until this one commits, and then reads
        // what it wrote. Taken in user-id order, so two batches that share
        // users (only during a rebalance) wait for each other instead of
        // deadlocking. Creating the row at 0 keeps a user's first command
        // from racing with another first command.
        let mut users: Vec<Uuid> = commands.iter().map(|c| c.user_id.0).collect();
        users.sort_unstable();
        users.dedup();
        for user in users {
            sqlx::query(
                "INSERT INTO user_revisions (user_id, revision) VALUES ($1, 0) \
                 ON CONFLICT (user_id) DO UPDATE SET revision = user_revisions.revision",
            )
            .bind(user)
            .execute(&mut *tx)
            .await?;
        }

        let mut results = Vec::with_capacity(commands.len());
        for command in commands {
            results.push(apply_in(&mut *tx, command, now_ms).await?);
        }
        // One commit, so one WAL flush, for the whole batch.
        tx.commit().await?;
        Ok(results)
    }
}

#[async_trait]
impl ApplySteps for PgConnection {
    async fn applied_outcome(
        &mut self,
        user: UserId,
        command: CommandId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT outcome FROM applied_commands WHERE user_id = $1 AND command_id = $2",
        )
        .bind(user.0)
        .bind(command.0)
        .fetch_optional(&mut *self)
        .await?)
    }

    async fn find_record(
        &mut self,
        user: UserId,
        record: RecordId,
    ) -> Result<Option<StoredRecord>, StoreError> {
        find_record(self, user, record).await
    }

    async fn next_revision(&mut self, user: UserId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO user_revisions (user_id, revision) VALUES ($1, 1) \
             ON CONFLICT (user_id) DO UPDATE SET revision = user_revisions.revision + 1 \
             RETURNING revision",
        )
        .bind(user.0)
        .fetch_one(&mut *self)
        .await?)
    }

    async fn write_record(
        &mut self,
        command: &ApplyCommand,
        write: Write<'_>,
        revision: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (user, record) = (command.user_id.0, command.record_id.0);
        let statement = match write {
            Write::Insert { kind, ciphertext } => sqlx::query(
                "INSERT INTO records (user_id, record_id, kind, ciphertext, revision, deleted, \
                 created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, false, $6, $6)",
            )
            .bind(user)
            .bind(record)
            .bind(kind as i32)
            .bind(ciphertext)
            .bind(revision)
            .bind(now_ms),
            Write::Replace { ciphertext } => sqlx::query(
                "UPDATE records SET ciphertext = $1, revision = $2, updated_at_ms = $3 \
                 WHERE user_id = $4 AND record_id = $5",
            )
            .bind(ciphertext)
            .bind(revision)
            .bind(now_ms)
            .bind(user)
            .bind(record),
            Write::Tombstone { tombstone } => sqlx::query(
                "UPDATE records SET ciphertext = $1, deleted = true, revision = $2, \
                 updated_at_ms = $3 WHERE user_id = $4 AND record_id = $5",
            )
            .bind(tombstone)
            .bind(revision)
            .bind(now_ms)
            .bind(user)
            .bind(record),
        };
        statement.execute(&mut *self).await?;
        Ok(())
    }

    async fn log_applied(
        &mut self,
        command: &ApplyCommand,
        outcome: &[u8],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO applied_commands (user_id, command_id, outcome, applied_at_ms) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(command.user_id.0)
        .bind(command.command_id.0)
        .bind(outcome)
        .bind(now_ms)
        .execute(&mut *self)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl VaultReader for PgVaultReader {
    async fn head_revision(&self, user: UserId) -> Result<u64, StoreError> {
        // One statement is one snapshot already.
        let mut conn = self.pool.acquire().await?;
        head(&mut conn, user).await
    }

    async fn changes_since(
        &self,
        user: UserId,
        since: u64,
        limit: PageLimit,
    ) -> Result<ChangesPage, StoreError> {
        // The head and the rows come from the same snapshot, so a client that
        // stores `current_revision` as its cursor cannot skip a change that
        // was replayed in between.
        let mut tx = crate::postgres::begin(&self.pool, Some(BEGIN_SNAPSHOT)).await?;
        let current_revision = head(&mut tx, user).await?;
        let (records, has_more) = collect_page(
            sqlx::query(
                "SELECT record_id, kind, ciphertext, revision, deleted, created_at_ms, \
                 updated_at_ms FROM records \
                 WHERE user_id = $1 AND revision > $2 ORDER BY revision LIMIT $3",
            )
            .bind(user.0)
            .bind(revision_to_sql(since))
            .bind(i64::from(limit.max_records) + 1)
            .fetch(&mut *tx),
            limit,
        )
        .await?;
        tx.commit().await?;
        Ok(ChangesPage {
            records,
            current_revision,
            has_more,
        })
    }

    async fn get_records(
        &self,
        user: UserId,
        ids: &[RecordId],
    ) -> Result<(Vec<StoredRecord>, u64), StoreError> {
        let mut tx = crate::postgres::begin(&self.pool, Some(BEGIN_SNAPSHOT)).await?;
        let current_revision = head(&mut tx, user).await?;
        let wanted: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let rows = sqlx::query(
            "SELECT record_id, kind, ciphertext, revision, deleted, created_at_ms, updated_at_ms \
             FROM records WHERE user_id = $1 AND record_id = ANY($2)",
        )
        .bind(user.0)
        .bind(wanted)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let found = rows
            .iter()
            .map(|row| record_from_row(row).map(|record| (record.record_id, record)))
            .collect::<Result<std::collections::HashMap<_, _>, _>>()?;
        // In the order asked for, as the SQLite engine answers.
        let records = ids.iter().filter_map(|id| found.get(id).cloned()).collect();
        Ok((records, current_revision))
    }

    async fn list_by_kind(
        &self,
        user: UserId,
        kind: v1::RecordKind,
        after: Option<RecordId>,
        limit: PageLimit,
    ) -> Result<KindPage, StoreError> {
        let mut tx = crate::postgres::begin(&self.pool, Some(BEGIN_SNAPSHOT)).await?;
        let current_revision = head(&mut tx, user).await?;
        // uuid compares byte by byte, like the SQLite engine's 16-byte blobs
        // and like `Uuid`'s `Ord`, so the id cursor means the same everywhere.
        let (records, has_more) = collect_page(
            sqlx::query(
                "SELECT record_id, kind, ciphertext, revision, deleted, created_at_ms, \
                 updated_at_ms FROM records \
                 WHERE user_id = $1 AND kind = $2 AND NOT deleted AND record_id > $3 \
                 ORDER BY record_id LIMIT $4",
            )
            .bind(user.0)
            .bind(kind as i32)
            .bind(after.map_or(Uuid::nil(), |id| id.0))
            .bind(i64::from(limit.max_records) + 1)
            .fetch(&mut *tx),
            limit,
        )
        .await?;
        tx.commit().await?;
        Ok(KindPage {
            records,
            current_revision,
            has_more,
        })
    }
}

/// Reads rows until the page is full by count or by bytes; reports whether
/// more rows were left. The same rule as the SQLite engine's.
async fn collect_page(
    mut rows: impl futures::Stream<Item = Result<PgRow, sqlx::Error>> + Unpin,
    limit: PageLimit,
) -> Result<(Vec<StoredRecord>, bool), StoreError> {
    let mut records = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = rows.try_next().await? {
        let full = records.len() >= limit.max_records as usize || bytes >= limit.max_bytes;
        if full {
            return Ok((records, true));
        }
        let record = record_from_row(&row)?;
        bytes += record.ciphertext.len();
        records.push(record);
    }
    Ok((records, false))
}

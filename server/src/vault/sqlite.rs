//! The vault store on SQLite (single-node mode). The writer is one
//! connection; the reader is a read-only pool on the same file, standing in
//! for the replica.

use std::path::Path;

use async_trait::async_trait;
use futures::TryStreamExt;
use gophkeeper_proto::v1;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::apply::{ApplySteps, Write, apply_in};
use super::{
    ApplyCommand, ApplyResult, ChangesPage, KindPage, PageLimit, StoreError, StoredRecord,
    VaultReader, VaultWriter, revision_from_sql, revision_to_sql,
};
use crate::ids::{CommandId, RecordId, UserId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/vault/sqlite");

const RECORD_COLUMNS: &str =
    "record_id, kind, ciphertext, revision, deleted, created_at_ms, updated_at_ms";

#[derive(Debug, Clone)]
pub struct SqliteVaultWriter {
    pool: SqlitePool,
}

#[derive(Debug, Clone)]
pub struct SqliteVaultReader {
    pool: SqlitePool,
}

/// Opens the vault file, creating and migrating it on first use.
pub async fn open(path: &Path) -> Result<(SqliteVaultWriter, SqliteVaultReader), StoreError> {
    let writer = crate::sqlite::open_writer(path, &MIGRATOR).await?;
    let reader = crate::sqlite::open_reader(path, 4).await?;
    Ok((
        SqliteVaultWriter { pool: writer },
        SqliteVaultReader { pool: reader },
    ))
}

impl SqliteVaultWriter {
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl SqliteVaultReader {
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn record_from_row(row: &SqliteRow) -> Result<StoredRecord, StoreError> {
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
    conn: &mut SqliteConnection,
    user: UserId,
    record: RecordId,
) -> Result<Option<StoredRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT record_id, kind, ciphertext, revision, deleted, created_at_ms, updated_at_ms \
         FROM records WHERE user_id = ? AND record_id = ?",
    )
    .bind(user.0)
    .bind(record.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(record_from_row).transpose()
}

async fn head(conn: &mut SqliteConnection, user: UserId) -> Result<u64, StoreError> {
    let revision: Option<i64> =
        sqlx::query_scalar("SELECT revision FROM user_revisions WHERE user_id = ?")
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
    revision.map_or(Ok(0), revision_from_sql)
}

#[async_trait]
impl VaultWriter for SqliteVaultWriter {
    async fn apply_batch(
        &self,
        commands: &[ApplyCommand],
        now_ms: i64,
    ) -> Result<Vec<ApplyResult>, StoreError> {
        // IMMEDIATE takes the write lock up front, so the read-then-write
        // below cannot be interleaved with another writer. One transaction
        // for the batch: one fsync of the WAL however many commands it has.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut results = Vec::with_capacity(commands.len());
        for command in commands {
            results.push(apply_in(&mut *tx, command, now_ms).await?);
        }
        tx.commit().await?;
        Ok(results)
    }
}

#[async_trait]
impl ApplySteps for SqliteConnection {
    async fn applied_outcome(
        &mut self,
        user: UserId,
        command: CommandId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT outcome FROM applied_commands WHERE user_id = ? AND command_id = ?",
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
            "INSERT INTO user_revisions (user_id, revision) VALUES (?, 1) \
             ON CONFLICT (user_id) DO UPDATE SET revision = revision + 1 \
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
                 created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            )
            .bind(user)
            .bind(record)
            .bind(kind as i32)
            .bind(ciphertext.to_vec())
            .bind(revision)
            .bind(now_ms)
            .bind(now_ms),
            Write::Replace { ciphertext } => sqlx::query(
                "UPDATE records SET ciphertext = ?, revision = ?, updated_at_ms = ? \
                 WHERE user_id = ? AND record_id = ?",
            )
            .bind(ciphertext.to_vec())
            .bind(revision)
            .bind(now_ms)
            .bind(user)
            .bind(record),
            Write::Tombstone { tombstone } => sqlx::query(
                "UPDATE records SET ciphertext = ?, deleted = 1, revision = ?, \
                 updated_at_ms = ? WHERE user_id = ? AND record_id = ?",
            )
            .bind(tombstone.to_vec())
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
             VALUES (?, ?, ?, ?)",
        )
        .bind(command.user_id.0)
        .bind(command.command_id.0)
        .bind(outcome.to_vec())
        .bind(now_ms)
        .execute(&mut *self)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl VaultReader for SqliteVaultReader {
    async fn head_revision(&self, user: UserId) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        head(&mut conn, user).await
    }

    async fn changes_since(
        &self,
        user: UserId,
        since: u64,
        limit: PageLimit,
    ) -> Result<ChangesPage, StoreError> {
        // One read transaction: the head and the rows come from the same
        // snapshot, so a client that stores `current_revision` as its cursor
        // cannot skip a change committed in between.
        let mut tx = self.pool.begin().await?;
        let current_revision = head(&mut tx, user).await?;
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records \
             WHERE user_id = ? AND revision > ? ORDER BY revision LIMIT ?"
        );
        let (records, has_more) = collect_page(
            sqlx::query(sqlx::AssertSqlSafe(sql))
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
        let mut tx = self.pool.begin().await?;
        let current_revision = head(&mut tx, user).await?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = find_record(&mut tx, user, *id).await? {
                records.push(record);
            }
        }
        tx.commit().await?;
        Ok((records, current_revision))
    }

    async fn list_by_kind(
        &self,
        user: UserId,
        kind: v1::RecordKind,
        after: Option<RecordId>,
        limit: PageLimit,
    ) -> Result<KindPage, StoreError> {
        let mut tx = self.pool.begin().await?;
        let current_revision = head(&mut tx, user).await?;
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records \
             WHERE user_id = ? AND kind = ? AND deleted = 0 AND record_id > ? \
             ORDER BY record_id LIMIT ?"
        );
        let (records, has_more) = collect_page(
            sqlx::query(sqlx::AssertSqlSafe(sql))
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
/// more rows were left.
async fn collect_page(
    mut rows: impl futures::Stream<Item = Result<SqliteRow, sqlx::Error>> + Unpin,
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

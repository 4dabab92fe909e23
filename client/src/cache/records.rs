//! The mirror of the server's records. Only ever moves forward: a record is
//! replaced only by a newer revision, so a late page or a replayed outcome
//! cannot roll it back.

use gophkeeper_proto::v1;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::integrity::{TamperAlert, record_alert};
use super::summary::{SummaryEntry, summary_bucket};
use super::{Cache, CacheError, from_sql, to_sql, uuid_column};

/// One record as the server holds it: ciphertext, never plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: Uuid,
    /// Raw wire kind: a kind from a newer client is kept, not dropped.
    pub kind: i32,
    /// Empty for a tombstone.
    pub ciphertext: Vec<u8>,
    pub revision: u64,
    pub deleted: bool,
    pub updated_at_ms: i64,
}

impl std::fmt::Debug for StoredRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredRecord")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("ciphertext_len", &self.ciphertext.len())
            .field("revision", &self.revision)
            .field("deleted", &self.deleted)
            .finish()
    }
}

impl StoredRecord {
    /// Reads a record from the server, refusing one without a usable id.
    pub fn from_proto(record: v1::Record) -> Result<Self, CacheError> {
        let id = Uuid::try_parse(&record.id).map_err(|_| {
            CacheError::Corrupt("the server sent a record id that is not a UUID".into())
        })?;
        Ok(Self {
            id,
            kind: record.kind,
            ciphertext: record.ciphertext,
            revision: record.revision,
            deleted: record.deleted,
            updated_at_ms: record.updated_at_ms,
        })
    }
}

/// A query of the mirror's columns, in the order [`record_from_row`]
/// reads them, followed by `$rest`.
macro_rules! select_records {
    ($rest:literal) => {
        concat!(
            "SELECT record_id, kind, ciphertext, revision, deleted, updated_at_ms FROM records ",
            $rest
        )
    };
}
pub(super) use select_records;

/// Record ids as the JSON array `json_each` reads: one bound parameter
/// for any number of ids.
pub(super) fn json_ids(ids: &[Uuid]) -> Result<String, CacheError> {
    serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .map_err(|e| CacheError::Corrupt(e.to_string()))
}

pub(super) fn record_from_row(row: &SqliteRow) -> Result<StoredRecord, CacheError> {
    Ok(StoredRecord {
        id: uuid_column(row, "record_id")?,
        kind: row.try_get("kind")?,
        ciphertext: row.try_get("ciphertext")?,
        revision: from_sql(row.try_get("revision")?)?,
        deleted: row.try_get("deleted")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
    })
}

/// Rows per `INSERT` in [`upsert_all`]: 9 bound values each, well below
/// SQLite's 32,766, and few enough distinct statement shapes to cache.
const UPSERT_ROWS: usize = 250;

/// Inserts or moves records forward (never back), each with its summary
/// entry (`entries[i]` is `records[i]`'s), which the row keeps beside it.
/// One statement per [`UPSERT_ROWS`] records: each statement is a hand-off
/// to sqlx's SQLite worker thread, which cost a first sync more than
/// SQLite's own work.
pub(super) async fn upsert_all(
    conn: &mut SqliteConnection,
    records: &[StoredRecord],
    entries: &[SummaryEntry],
) -> Result<(), CacheError> {
    if records.len() != entries.len() {
        return Err(CacheError::Corrupt(
            "records and summary entries do not pair up".into(),
        ));
    }
    for (records, entries) in records.chunks(UPSERT_ROWS).zip(entries.chunks(UPSERT_ROWS)) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO records (record_id, kind, ciphertext, revision, deleted, \
             updated_at_ms, version, digest, bucket) ",
        );
        insert.push_values(records.iter().zip(entries), |mut row, (record, entry)| {
            row.push_bind(record.id.to_string())
                .push_bind(record.kind)
                .push_bind(record.ciphertext.clone())
                .push_bind(to_sql(record.revision))
                .push_bind(record.deleted)
                .push_bind(record.updated_at_ms)
                .push_bind(to_sql(entry.version))
                .push_bind(entry.digest.to_vec())
                .push_bind(summary_bucket(record.id));
        });
        insert.push(
            " ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind, \
             ciphertext = excluded.ciphertext, revision = excluded.revision, \
             deleted = excluded.deleted, updated_at_ms = excluded.updated_at_ms, \
             version = excluded.version, digest = excluded.digest, bucket = excluded.bucket \
             WHERE excluded.revision > records.revision",
        );
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// [`upsert_all`] for one record.
pub(super) async fn upsert(
    conn: &mut SqliteConnection,
    record: &StoredRecord,
) -> Result<(), CacheError> {
    upsert_all(
        conn,
        std::slice::from_ref(record),
        &[record.summary_entry()],
    )
    .await
}

impl Cache {
    /// Stores one page of changes with their summary entries (see
    /// [`upsert_all`]), what the sync refused or found wrong, and moves the
    /// cursor, atomically: a crash mid-page re-fetches the page rather than
    /// skipping it. `completed_at_ms` marks the page that ends a pull,
    /// whose summaries were checked before it was stored: the pull's time
    /// and "every summary up to the cursor checked" go in the same commit.
    pub async fn apply_changes(
        &self,
        records: &[StoredRecord],
        entries: &[SummaryEntry],
        alerts: &[TamperAlert],
        next_cursor: u64,
        completed_at_ms: Option<i64>,
    ) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        upsert_all(&mut tx, records, entries).await?;
        for alert in alerts {
            record_alert(&mut tx, alert).await?;
        }
        sqlx::query("UPDATE profile SET sync_cursor = max(sync_cursor, ?) WHERE id = 1")
            .bind(to_sql(next_cursor))
            .execute(&mut *tx)
            .await?;
        if let Some(at_ms) = completed_at_ms {
            sqlx::query(
                "UPDATE profile SET last_sync_ms = ?, summaries_checked = sync_cursor WHERE id = 1",
            )
            .bind(at_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn record(&self, id: Uuid) -> Result<Option<StoredRecord>, CacheError> {
        let row = sqlx::query(select_records!("WHERE record_id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// The mirror's copies of these records, where it has them.
    pub async fn records(&self, ids: &[Uuid]) -> Result<Vec<StoredRecord>, CacheError> {
        let ids = json_ids(ids)?;
        let rows = sqlx::query(select_records!(
            "WHERE record_id IN (SELECT value FROM json_each(?))"
        ))
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Live records still in record format 1 (first byte 1), which the
    /// upgrade pass re-seals in format 2. Found through the `version`
    /// column (0 for format 1) and its partial index, so that a vault
    /// fully in format 2 costs every sync one index probe, not a scan.
    pub async fn format_1_records(&self) -> Result<Vec<StoredRecord>, CacheError> {
        let rows = sqlx::query(select_records!(
            "WHERE deleted = 0 AND version = 0 AND substr(ciphertext, 1, 1) = x'01' \
             ORDER BY record_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Live format 2 items sealed under a key epoch below `epoch`, which
    /// a rotation re-seals. The epoch is bytes 2 to 5 of the ciphertext,
    /// big-endian, so SQLite's byte-wise comparison orders it. Vault
    /// summaries are left out: only their own device rewrites them.
    pub async fn records_below_epoch(&self, epoch: u32) -> Result<Vec<StoredRecord>, CacheError> {
        let rows = sqlx::query(select_records!(
            "WHERE deleted = 0 AND kind <> ? AND substr(ciphertext, 1, 1) = x'02' \
             AND substr(ciphertext, 2, 4) < ? ORDER BY record_id"
        ))
        .bind(i32::from(crate::crypto::VAULT_SUMMARY_KIND))
        .bind(epoch.to_be_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Every record of the mirror, tombstones included.
    pub async fn all_records(&self) -> Result<Vec<StoredRecord>, CacheError> {
        let rows = sqlx::query(select_records!("ORDER BY record_id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Every live (not deleted) record.
    pub async fn live_records(&self) -> Result<Vec<StoredRecord>, CacheError> {
        let rows = sqlx::query(select_records!("WHERE deleted = 0 ORDER BY record_id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }
}

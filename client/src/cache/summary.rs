//! What the vault summary (`docs/design.md`, "The vault summary") needs
//! from the cache: each mirror row's summary entry (record version,
//! ciphertext digest, tombstone) and bucket, kept in columns beside the
//! ciphertext so that writing or checking a summary reads no ciphertext.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::integrity::stored_version;
use super::queue::OpKind;
use super::records::{StoredRecord, json_ids, record_from_row, select_records};
use super::{Cache, CacheError, from_sql, to_sql, uuid_column};
use crate::crypto::VAULT_SUMMARY_KIND;

/// How many buckets a device's summary is split into, one per value of a
/// record id's last byte: a change rewrites only its record's bucket, so
/// what another device pulls per change stays small (1/256 of the vault's
/// entries, about 1.3 KiB in a 10,000-item vault).
pub const SUMMARY_BUCKETS: usize = 256;

/// The bucket count of summaries written before 0004 of the cache's
/// migrations (by the last byte modulo 32).
pub const OLD_SUMMARY_BUCKETS: u8 = 32;

/// Bytes of the ciphertext digest in an entry: enough that two different
/// records under one version cannot collide by chance.
pub const DIGEST_LEN: usize = 8;

/// What a summary says of one record: the server served it at this
/// version (0 in format 1), with these bytes, deleted or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SummaryEntry {
    pub record_id: Uuid,
    pub version: u64,
    pub digest: [u8; DIGEST_LEN],
    pub tombstone: bool,
}

/// Whether a record kind (a wire number) is a vault summary's.
pub fn is_summary_kind(kind: i32) -> bool {
    kind == i32::from(VAULT_SUMMARY_KIND)
}

/// The bucket a record's entry belongs to: a random byte of its id
/// (record ids are random UUIDs or hashes).
pub fn summary_bucket(record_id: Uuid) -> u8 {
    record_id.as_bytes()[15]
}

impl StoredRecord {
    /// This record's entry in a summary.
    pub fn summary_entry(&self) -> SummaryEntry {
        let hash = Sha256::digest(&self.ciphertext);
        let mut digest = [0; DIGEST_LEN];
        digest.copy_from_slice(&hash[..DIGEST_LEN]);
        SummaryEntry {
            record_id: self.id,
            version: stored_version(&self.ciphertext),
            digest,
            tombstone: self.deleted,
        }
    }
}

fn entry_from_row(row: &SqliteRow) -> Result<SummaryEntry, CacheError> {
    let digest: Vec<u8> = row.try_get("digest")?;
    Ok(SummaryEntry {
        record_id: uuid_column(row, "record_id")?,
        version: from_sql(row.try_get("version")?)?,
        digest: digest
            .try_into()
            .map_err(|_| CacheError::Corrupt("a summary digest of the wrong length".into()))?,
        tombstone: row.try_get("deleted")?,
    })
}

impl Cache {
    /// Fills the summary columns of rows stored before they existed: once,
    /// when the cache opens (every write since fills them itself).
    pub(super) async fn fill_summary_columns(&self) -> Result<(), CacheError> {
        let rows = sqlx::query(select_records!("WHERE digest IS NULL"))
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for row in &rows {
            let record = record_from_row(row)?;
            let entry = record.summary_entry();
            sqlx::query(
                "UPDATE records SET version = ?, digest = ?, bucket = ? WHERE record_id = ?",
            )
            .bind(to_sql(entry.version))
            .bind(entry.digest.as_slice())
            .bind(summary_bucket(record.id))
            .bind(record.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The entries of every mirror row in one bucket, sorted by record id.
    pub async fn bucket_entries(&self, bucket: u8) -> Result<Vec<SummaryEntry>, CacheError> {
        let rows = sqlx::query(
            "SELECT record_id, version, digest, deleted FROM records WHERE bucket = ? \
             ORDER BY record_id",
        )
        .bind(bucket)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// The entries of these records, where the mirror has them.
    pub async fn entries_of(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, SummaryEntry>, CacheError> {
        let rows = sqlx::query(
            "SELECT record_id, version, digest, deleted FROM records \
             WHERE record_id IN (SELECT value FROM json_each(?))",
        )
        .bind(json_ids(ids)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| entry_from_row(row).map(|e| (e.record_id, e)))
            .collect()
    }

    /// The vault summaries stored after this revision.
    pub async fn summaries_since(&self, revision: u64) -> Result<Vec<StoredRecord>, CacheError> {
        let rows = sqlx::query(select_records!("WHERE kind = ? AND revision > ?"))
            .bind(i32::from(VAULT_SUMMARY_KIND))
            .bind(to_sql(revision))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// The bucket count this device's own summaries were last written
    /// under: [`OLD_SUMMARY_BUCKETS`] until it rewrites them.
    pub async fn own_summary_buckets(&self) -> Result<usize, CacheError> {
        let count: Option<i64> =
            sqlx::query_scalar("SELECT summary_buckets FROM profile WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        let count = count.unwrap_or(SUMMARY_BUCKETS as i64);
        usize::try_from(count).map_err(|_| CacheError::Corrupt(format!("{count} summary buckets")))
    }

    /// Records that this device's summaries are now written under
    /// [`SUMMARY_BUCKETS`].
    pub async fn set_own_summary_buckets(&self, count: usize) -> Result<(), CacheError> {
        sqlx::query("UPDATE profile SET summary_buckets = ? WHERE id = 1")
            .bind(i64::try_from(count).unwrap_or(i64::MAX))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether a change of this record is an update (the mirror or the
    /// queue has it) or a create.
    pub async fn op_for(&self, record_id: Uuid) -> Result<OpKind, CacheError> {
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM records WHERE record_id = ?1) \
             OR EXISTS (SELECT 1 FROM pending WHERE record_id = ?1)",
        )
        .bind(record_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(if known {
            OpKind::Update
        } else {
            OpKind::Create
        })
    }
}

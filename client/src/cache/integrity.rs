//! What record format 2 needs from the cache: this device's id, the
//! versions a new change is sealed as, and the record of what the sync
//! checks refused (`docs/design.md`, "Record format v2" and "Tamper
//! evidence").

use sqlx::SqliteConnection;
use uuid::Uuid;

use super::queue::{OpKind, ops_of};
use super::{Cache, CacheError, now_ms, to_sql, uuid_column};
use crate::crypto::RecordHeader;

/// The record version a stored ciphertext claims in its clear header; 0
/// for format 1. Only for ciphertext this device sealed or checked before
/// storing it: the header is authenticated when the record opens.
pub(crate) fn stored_version(ciphertext: &[u8]) -> u64 {
    RecordHeader::peek(ciphertext)
        .ok()
        .flatten()
        .map_or(0, |header| header.version)
}

/// The versions a change is sealed as: the record version it replaces and
/// its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub base: u64,
    pub version: u64,
}

/// Why the sync refused a record the server served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TamperKind {
    /// An older version than one this device had seen, or than a key
    /// holder's summary lists.
    Rollback,
    /// A deletion without a tombstone from a key holder.
    ForgedDeletion,
    /// The record does not open under the vault key.
    DoesNotOpen,
    /// Another record under a version this device already knew, or than
    /// a key holder's summary lists.
    Fork,
    /// A record a key holder's summary lists that the server did not
    /// serve at all.
    Withheld,
}

impl TamperKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Rollback => "rollback",
            Self::ForgedDeletion => "forged-deletion",
            Self::DoesNotOpen => "does-not-open",
            Self::Fork => "fork",
            Self::Withheld => "withheld",
        }
    }

    fn parse(text: &str) -> Result<Self, CacheError> {
        Ok(match text {
            "rollback" => Self::Rollback,
            "forged-deletion" => Self::ForgedDeletion,
            "does-not-open" => Self::DoesNotOpen,
            "fork" => Self::Fork,
            "withheld" => Self::Withheld,
            other => return Err(CacheError::Corrupt(format!("tamper alert {other:?}"))),
        })
    }
}

/// A record the sync refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TamperAlert {
    pub record_id: Uuid,
    pub what: TamperKind,
    /// The server revision it came under.
    pub revision: u64,
    pub detected_at_ms: i64,
}

/// Keeps an alert, once: the same (record, what, revision) again, as a
/// listing or a resent command meets it, adds nothing.
pub(super) async fn record_alert(
    conn: &mut SqliteConnection,
    alert: &TamperAlert,
) -> Result<(), CacheError> {
    sqlx::query(
        "INSERT INTO tamper_alerts (record_id, what, revision, detected_at_ms) \
         SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM tamper_alerts \
         WHERE record_id = ?1 AND what = ?2 AND revision = ?3)",
    )
    .bind(alert.record_id.to_string())
    .bind(alert.what.as_str())
    .bind(to_sql(alert.revision))
    .bind(alert.detected_at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl TamperAlert {
    pub fn new(record_id: Uuid, what: TamperKind, revision: u64) -> Self {
        Self {
            record_id,
            what,
            revision,
            detected_at_ms: now_ms(),
        }
    }
}

impl Cache {
    /// This device's id, made the first time it is asked for and kept for
    /// the life of the profile.
    pub async fn device_id(&self) -> Result<Uuid, CacheError> {
        sqlx::query("UPDATE profile SET device_id = ? WHERE id = 1 AND device_id IS NULL")
            .bind(Uuid::new_v4().to_string())
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT device_id FROM profile WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        uuid_column(&row, "device_id")
    }

    /// The versions the next change `op` of a record is sealed as. An
    /// unsent change it will be folded into keeps that change's versions;
    /// otherwise it is one above the newest version this device holds of
    /// the record (its queued commands, else the mirror).
    pub async fn next_versions(&self, record_id: Uuid, op: OpKind) -> Result<Versions, CacheError> {
        let mut conn = self.pool.acquire().await?;
        let ops = ops_of(&mut conn, record_id).await?;
        let mirrored: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT ciphertext FROM records WHERE record_id = ?")
                .bind(record_id.to_string())
                .fetch_optional(&mut *conn)
                .await?;
        let mirror = mirrored.as_deref().map_or(0, stored_version);
        let queued = |ciphertext: &Option<Vec<u8>>| ciphertext.as_deref().map_or(0, stored_version);
        Ok(match (ops.last(), op) {
            (Some(last), OpKind::Update | OpKind::Delete)
                if !last.sent && last.op != OpKind::Delete =>
            {
                match last.ciphertext.as_deref().map(RecordHeader::peek) {
                    Some(Ok(Some(header))) => Versions {
                        base: header.base,
                        version: header.version,
                    },
                    // A format 1 change queued before this client's update.
                    _ if last.op == OpKind::Create => Versions {
                        base: 0,
                        version: 1,
                    },
                    _ => Versions {
                        base: mirror,
                        version: mirror + 1,
                    },
                }
            }
            (Some(last), _) => {
                let base = queued(&last.ciphertext);
                Versions {
                    base,
                    version: base.max(mirror) + 1,
                }
            }
            (None, OpKind::Create) => Versions {
                base: 0,
                version: 1,
            },
            (None, _) => Versions {
                base: mirror,
                version: mirror + 1,
            },
        })
    }

    /// Keeps one refusal outside a page of changes (a conflict's "theirs",
    /// a copy that does not open when listed).
    pub async fn add_tamper_alert(&self, alert: &TamperAlert) -> Result<(), CacheError> {
        let mut conn = self.pool.acquire().await?;
        record_alert(&mut conn, alert).await
    }

    /// How many records the sync refused something of.
    pub async fn tampered_records(&self) -> Result<usize, CacheError> {
        let count: i64 = sqlx::query_scalar("SELECT count(DISTINCT record_id) FROM tamper_alerts")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Every record the sync refused, oldest first.
    pub async fn tamper_alerts(&self) -> Result<Vec<TamperAlert>, CacheError> {
        let rows = sqlx::query(
            "SELECT record_id, what, revision, detected_at_ms FROM tamper_alerts ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                Ok(TamperAlert {
                    record_id: uuid_column(row, "record_id")?,
                    what: TamperKind::parse(&row.try_get::<String, _>("what")?)?,
                    revision: super::from_sql(row.try_get("revision")?)?,
                    detected_at_ms: row.try_get("detected_at_ms")?,
                })
            })
            .collect()
    }
}

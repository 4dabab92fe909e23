//! The queue of commands made on this device and not yet applied, and the
//! conflicts the server reported. Each step that touches both a command and
//! the mirror is one transaction, so a crash never leaves a command both
//! applied and queued.
//!
//! Rules (see the sync engine for why):
//! - commands of one record go out in order, one at a time;
//! - a command whose base revision is `NULL` takes it from the outcome of
//!   the record's earlier command;
//! - a command never sent may still be rewritten (coalesced); once a send
//!   was attempted it is frozen, because the server may have applied it.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use super::records::{StoredRecord, upsert};
use super::{Cache, CacheError, from_sql, now_ms, to_sql, uuid_column};
use crate::crypto::VAULT_SUMMARY_KIND;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Create,
    Update,
    Delete,
}

impl OpKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Result<Self, CacheError> {
        match text {
            "create" => Ok(Self::Create),
            "update" => Ok(Self::Update),
            "delete" => Ok(Self::Delete),
            other => Err(CacheError::Corrupt(format!("queued op {other:?}"))),
        }
    }
}

/// A change to queue.
#[derive(Clone, PartialEq, Eq)]
pub struct NewOp {
    pub record_id: Uuid,
    pub kind: i32,
    pub op: OpKind,
    /// Sealed item, or a delete's sealed tombstone (`None` only for a
    /// delete queued before record format 2).
    pub ciphertext: Option<Vec<u8>>,
    /// The revision the change is based on, if the record has no earlier
    /// queued command (ignored for creates).
    pub base_revision: Option<u64>,
}

impl std::fmt::Debug for NewOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOp")
            .field("record_id", &self.record_id)
            .field("op", &self.op)
            .field("base_revision", &self.base_revision)
            .finish_non_exhaustive()
    }
}

/// A queued command.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingOp {
    pub seq: i64,
    /// Made once, when the change was queued; the same on every resend, so
    /// the server applies it at most once.
    pub command_id: Uuid,
    pub record_id: Uuid,
    pub kind: i32,
    pub op: OpKind,
    pub ciphertext: Option<Vec<u8>>,
    pub base_revision: Option<u64>,
    pub sent: bool,
    /// Carries no edit of the person's: a re-seal of a format 1 record in
    /// format 2 ([`Cache::enqueue_upgrade`]) or a bucket of this device's
    /// vault summary ([`Cache::enqueue_summary`]).
    pub upgrade: bool,
}

impl std::fmt::Debug for PendingOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingOp")
            .field("seq", &self.seq)
            .field("command_id", &self.command_id)
            .field("record_id", &self.record_id)
            .field("op", &self.op)
            .field("base_revision", &self.base_revision)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

/// Both sides of a command the server found in conflict.
#[derive(Clone, PartialEq, Eq)]
pub struct Conflict {
    pub record_id: Uuid,
    pub kind: i32,
    /// What this device wanted: the last queued change of the record.
    pub mine_op: OpKind,
    pub mine_ciphertext: Option<Vec<u8>>,
    /// The server's current record (possibly a tombstone).
    pub theirs: StoredRecord,
    pub detected_at_ms: i64,
}

impl std::fmt::Debug for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conflict")
            .field("record_id", &self.record_id)
            .field("mine_op", &self.mine_op)
            .field("theirs", &self.theirs)
            .finish_non_exhaustive()
    }
}

fn pending_from_row(row: &SqliteRow) -> Result<PendingOp, CacheError> {
    let base: Option<i64> = row.try_get("base_revision")?;
    Ok(PendingOp {
        seq: row.try_get("seq")?,
        command_id: uuid_column(row, "command_id")?,
        record_id: uuid_column(row, "record_id")?,
        kind: row.try_get("kind")?,
        op: OpKind::parse(&row.try_get::<String, _>("op")?)?,
        ciphertext: row.try_get("ciphertext")?,
        base_revision: base.map(from_sql).transpose()?,
        sent: row.try_get("sent")?,
        upgrade: row.try_get("upgrade")?,
    })
}

fn conflict_from_row(row: &SqliteRow) -> Result<Conflict, CacheError> {
    let record_id = uuid_column(row, "record_id")?;
    Ok(Conflict {
        record_id,
        kind: row.try_get("kind")?,
        mine_op: OpKind::parse(&row.try_get::<String, _>("mine_op")?)?,
        mine_ciphertext: row.try_get("mine_ciphertext")?,
        theirs: StoredRecord {
            id: record_id,
            kind: row.try_get("theirs_kind")?,
            ciphertext: row.try_get("theirs_ciphertext")?,
            revision: from_sql(row.try_get("theirs_revision")?)?,
            deleted: row.try_get("theirs_deleted")?,
            updated_at_ms: row.try_get("detected_at_ms")?,
        },
        detected_at_ms: row.try_get("detected_at_ms")?,
    })
}

pub(super) async fn ops_of(
    conn: &mut SqliteConnection,
    record_id: Uuid,
) -> Result<Vec<PendingOp>, CacheError> {
    let rows = sqlx::query(
        "SELECT seq, command_id, record_id, op, kind, ciphertext, base_revision, sent, upgrade \
         FROM pending WHERE record_id = ? ORDER BY seq",
    )
    .bind(record_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(pending_from_row).collect()
}

async fn insert(
    conn: &mut SqliteConnection,
    op: &NewOp,
    base: Option<u64>,
) -> Result<(), CacheError> {
    sqlx::query(
        "INSERT INTO pending (command_id, record_id, op, kind, ciphertext, base_revision, sent, \
         created_at_ms) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(op.record_id.to_string())
    .bind(op.op.as_str())
    .bind(op.kind)
    .bind(op.ciphertext.as_deref())
    .bind(base.map(to_sql))
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn delete_op(conn: &mut SqliteConnection, seq: i64) -> Result<(), CacheError> {
    sqlx::query("DELETE FROM pending WHERE seq = ?")
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Cache {
    /// Queues a change, folding it into the record's last unsent command
    /// where that is equivalent: an edit of an unsent create or update just
    /// replaces its ciphertext; a delete of an unsent create removes both;
    /// a delete of an unsent update becomes a delete on the same base.
    ///
    /// Returns `false` when nothing is left queued for the record (a create
    /// and its delete cancelled out).
    pub async fn enqueue(&self, op: &NewOp) -> Result<bool, CacheError> {
        self.enqueue_marked(op, false).await
    }

    /// [`Cache::enqueue`]; `no_edit` marks the record's queued commands as
    /// carrying no edit of the person's, in the same transaction.
    async fn enqueue_marked(&self, op: &NewOp, no_edit: bool) -> Result<bool, CacheError> {
        let mut tx = self.pool.begin().await?;
        let existing = ops_of(&mut tx, op.record_id).await?;
        let last = existing.last();
        if last.is_some_and(|l| l.op == OpKind::Delete) {
            return Err(CacheError::RecordDeleted(op.record_id));
        }
        let queued = match (last, op.op) {
            (Some(last), OpKind::Update) if !last.sent => {
                sqlx::query("UPDATE pending SET ciphertext = ? WHERE seq = ?")
                    .bind(op.ciphertext.as_deref())
                    .bind(last.seq)
                    .execute(&mut *tx)
                    .await?;
                true
            }
            (Some(last), OpKind::Delete) if !last.sent && last.op == OpKind::Create => {
                delete_op(&mut tx, last.seq).await?;
                false
            }
            (Some(last), OpKind::Delete) if !last.sent => {
                sqlx::query("UPDATE pending SET op = 'delete', ciphertext = ? WHERE seq = ?")
                    .bind(op.ciphertext.as_deref())
                    .bind(last.seq)
                    .execute(&mut *tx)
                    .await?;
                true
            }
            // After a command that may already be applied: the base comes
            // from its outcome.
            (Some(_), _) => {
                insert(&mut tx, op, None).await?;
                true
            }
            (None, OpKind::Create) => {
                insert(&mut tx, op, None).await?;
                true
            }
            (None, _) => {
                let base = op.base_revision.ok_or_else(|| {
                    CacheError::Corrupt("an update or delete needs a base revision".into())
                })?;
                insert(&mut tx, op, Some(base)).await?;
                true
            }
        };
        if no_edit {
            sqlx::query("UPDATE pending SET upgrade = 1 WHERE record_id = ?")
                .bind(op.record_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Every queued command, oldest first.
    pub async fn pending(&self) -> Result<Vec<PendingOp>, CacheError> {
        let rows = sqlx::query(
            "SELECT seq, command_id, record_id, op, kind, ciphertext, base_revision, sent, upgrade \
             FROM pending ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pending_from_row).collect()
    }

    /// Queued changes of the person's; a vault summary waiting to go out
    /// is not one.
    pub async fn pending_count(&self) -> Result<usize, CacheError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pending WHERE kind <> ?")
            .bind(i32::from(VAULT_SUMMARY_KIND))
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Replaces the ciphertext of a command never sent (a re-seal in a newer
    /// format); a sent one is frozen and stays as it is.
    pub async fn replace_unsent(&self, seq: i64, ciphertext: &[u8]) -> Result<(), CacheError> {
        sqlx::query("UPDATE pending SET ciphertext = ? WHERE seq = ? AND sent = 0")
            .bind(ciphertext)
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Freezes a command before its first send.
    pub async fn mark_sent(&self, seq: i64) -> Result<(), CacheError> {
        sqlx::query("UPDATE pending SET sent = 1 WHERE seq = ?")
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The command applied at `revision`: it leaves the queue, the mirror
    /// gets the new version, and the record's next command gets its base.
    pub async fn finish_applied(&self, op: &PendingOp, revision: u64) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        delete_op(&mut tx, op.seq).await?;
        let record = StoredRecord {
            id: op.record_id,
            kind: op.kind,
            ciphertext: op.ciphertext.clone().unwrap_or_default(),
            revision,
            deleted: op.op == OpKind::Delete,
            updated_at_ms: now_ms(),
        };
        upsert(&mut tx, &record).await?;
        sqlx::query(
            "UPDATE pending SET base_revision = ? WHERE seq = \
             (SELECT min(seq) FROM pending WHERE record_id = ?) AND base_revision IS NULL \
             AND op <> 'create'",
        )
        .bind(to_sql(revision))
        .bind(op.record_id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE profile SET seen_revision = max(seen_revision, ?) WHERE id = 1")
            .bind(to_sql(revision))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The command conflicted with `theirs`: it and every later command of
    /// the record leave the queue, and the record's newest local version
    /// becomes "mine" of a conflict. The mirror gets `theirs`.
    pub async fn finish_conflict(
        &self,
        op: &PendingOp,
        theirs: &StoredRecord,
    ) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        let ops = ops_of(&mut tx, op.record_id).await?;
        if op.upgrade && ops.iter().all(|o| o.upgrade) {
            // Another device changed (or upgraded) the record first, or a
            // summary met an older copy of itself; these commands carried
            // no edit, so theirs simply stands.
            for queued in &ops {
                delete_op(&mut tx, queued.seq).await?;
            }
            upsert(&mut tx, theirs).await?;
            tx.commit().await?;
            return Ok(());
        }
        let newest = ops.iter().rfind(|o| o.seq >= op.seq).unwrap_or(op);
        let mine_op = if newest.op == OpKind::Delete {
            OpKind::Delete
        } else {
            op.op
        };
        for queued in ops.iter().filter(|o| o.seq >= op.seq) {
            delete_op(&mut tx, queued.seq).await?;
        }
        upsert(&mut tx, theirs).await?;
        sqlx::query(
            "INSERT OR REPLACE INTO conflicts (record_id, kind, mine_op, mine_ciphertext, \
             theirs_kind, theirs_ciphertext, theirs_revision, theirs_deleted, detected_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(op.record_id.to_string())
        .bind(op.kind)
        .bind(mine_op.as_str())
        .bind(newest.ciphertext.as_deref())
        .bind(theirs.kind)
        .bind(&theirs.ciphertext)
        .bind(to_sql(theirs.revision))
        .bind(theirs.deleted)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server refused the command for good: it and the record's later
    /// commands (which depended on it) leave the queue. Returns how many.
    pub async fn finish_rejected(&self, op: &PendingOp) -> Result<usize, CacheError> {
        let result = sqlx::query("DELETE FROM pending WHERE record_id = ? AND seq >= ?")
            .bind(op.record_id.to_string())
            .bind(op.seq)
            .execute(&self.pool)
            .await?;
        Ok(usize::try_from(result.rows_affected()).unwrap_or(usize::MAX))
    }

    pub async fn conflicts(&self) -> Result<Vec<Conflict>, CacheError> {
        let rows = sqlx::query(
            "SELECT record_id, kind, mine_op, mine_ciphertext, theirs_kind, theirs_ciphertext, \
             theirs_revision, theirs_deleted, detected_at_ms FROM conflicts ORDER BY detected_at_ms",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(conflict_from_row).collect()
    }

    pub async fn conflict(&self, record_id: Uuid) -> Result<Option<Conflict>, CacheError> {
        let row = sqlx::query(
            "SELECT record_id, kind, mine_op, mine_ciphertext, theirs_kind, theirs_ciphertext, \
             theirs_revision, theirs_deleted, detected_at_ms FROM conflicts WHERE record_id = ?",
        )
        .bind(record_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(conflict_from_row).transpose()
    }

    /// Ends a conflict and queues the change that resolves it (if any), in
    /// one step.
    pub async fn resolve_conflict(
        &self,
        record_id: Uuid,
        then: Option<&NewOp>,
    ) -> Result<(), CacheError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM conflicts WHERE record_id = ?")
            .bind(record_id.to_string())
            .execute(&mut *tx)
            .await?;
        if let Some(op) = then {
            let base = if op.op == OpKind::Create {
                None
            } else {
                Some(op.base_revision.ok_or_else(|| {
                    CacheError::Corrupt("a resolving update needs a base revision".into())
                })?)
            };
            insert(&mut tx, op, base).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues a new bucket of this device's vault summary, folded into an
    /// unsent one like any edit, and marked as carrying no edit of the
    /// person's (a conflict drops it silently).
    pub async fn enqueue_summary(&self, op: &NewOp) -> Result<(), CacheError> {
        self.enqueue_marked(op, true).await.map(drop)
    }

    /// Queues the re-seal of a format 1 record in format 2, unless the
    /// record has queued changes or a conflict (those re-seal it anyway).
    /// Returns whether it was queued.
    pub async fn enqueue_upgrade(&self, op: &NewOp) -> Result<bool, CacheError> {
        let mut tx = self.pool.begin().await?;
        let busy: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM pending WHERE record_id = ?1) \
             + (SELECT count(*) FROM conflicts WHERE record_id = ?1)",
        )
        .bind(op.record_id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        if busy > 0 {
            return Ok(false);
        }
        let base = op.base_revision.ok_or_else(|| {
            CacheError::Corrupt("an upgrade needs the record's base revision".into())
        })?;
        insert(&mut tx, op, Some(base)).await?;
        sqlx::query("UPDATE pending SET upgrade = 1 WHERE seq = last_insert_rowid()")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

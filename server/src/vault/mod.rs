//! The vault store: encrypted records, the per-user revision counter and the
//! applied-command log. Two traits, because the two sides live on different
//! databases in a cluster: [`VaultWriter`] on the primary (used only by the
//! command consumer) and [`VaultReader`] on the replica (used only by the
//! query service). Each engine implements both.

mod apply;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use gophkeeper_proto::v1;

use crate::ids::{CommandId, RecordId, SessionId, UserId};

/// A record as stored: ids, kind, revision and opaque ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub record_id: RecordId,
    pub kind: v1::RecordKind,
    pub ciphertext: Vec<u8>,
    pub revision: u64,
    pub deleted: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl std::fmt::Debug for StoredRecord {
    // Ciphertext is not secret, but it is noise in logs and must not end up
    // in them; show its size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredRecord")
            .field("record_id", &self.record_id)
            .field("kind", &self.kind)
            .field("ciphertext_len", &self.ciphertext.len())
            .field("revision", &self.revision)
            .field("deleted", &self.deleted)
            .finish()
    }
}

impl StoredRecord {
    pub fn to_proto(&self) -> v1::Record {
        v1::Record {
            id: self.record_id.to_string(),
            kind: self.kind as i32,
            ciphertext: self.ciphertext.clone(),
            revision: self.revision,
            deleted: self.deleted,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
        }
    }

    pub fn into_proto(self) -> v1::Record {
        v1::Record {
            id: self.record_id.to_string(),
            kind: self.kind as i32,
            ciphertext: self.ciphertext,
            revision: self.revision,
            deleted: self.deleted,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
        }
    }
}

/// A command that passed validation, ready to apply.
#[derive(Clone, PartialEq, Eq)]
pub struct ApplyCommand {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub command_id: CommandId,
    pub record_id: RecordId,
    pub op: Op,
}

impl std::fmt::Debug for ApplyCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyCommand")
            .field("user_id", &self.user_id)
            .field("command_id", &self.command_id)
            .field("record_id", &self.record_id)
            .field("op", &self.op.name())
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum Op {
    Create {
        kind: v1::RecordKind,
        ciphertext: Vec<u8>,
    },
    Update {
        base_revision: u64,
        ciphertext: Vec<u8>,
    },
    Delete {
        base_revision: u64,
        /// The client's sealed tombstone; empty before record format 2.
        tombstone: Vec<u8>,
    },
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Create { kind, ciphertext } => f
                .debug_struct("Create")
                .field("kind", kind)
                .field("ciphertext_len", &ciphertext.len())
                .finish(),
            Op::Update {
                base_revision,
                ciphertext,
            } => f
                .debug_struct("Update")
                .field("base_revision", base_revision)
                .field("ciphertext_len", &ciphertext.len())
                .finish(),
            Op::Delete {
                base_revision,
                tombstone,
            } => f
                .debug_struct("Delete")
                .field("base_revision", base_revision)
                .field("tombstone_len", &tombstone.len())
                .finish(),
        }
    }
}

/// The first byte of a record sealed in record format 2 (docs/design.md).
pub const RECORD_FORMAT_2: u8 = 2;

/// Whether a sealed record is in record format 2. Once a record is, an
/// older client may not write it back in format 1, which would strip its
/// rollback protection.
fn is_format_2(sealed: &[u8]) -> bool {
    sealed.first() == Some(&RECORD_FORMAT_2)
}

impl Op {
    /// What the command stores as the record's ciphertext.
    pub fn sealed(&self) -> &[u8] {
        match self {
            Op::Create { ciphertext, .. } | Op::Update { ciphertext, .. } => ciphertext,
            Op::Delete { tombstone, .. } => tombstone,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::Update { .. } => "update",
            Op::Delete { .. } => "delete",
        }
    }
}

/// What applying a command should do, given the stored record. Kept apart
/// from the engines so that SQLite and PostgreSQL cannot disagree on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Insert,
    Replace,
    Tombstone,
    Conflict(StoredRecord),
    Rejected(v1::rejected::Reason, String),
}

/// The rules of docs/design.md: a change must be based on the stored
/// revision (no lost update); a create must not reuse an id; a deleted
/// record stays a tombstone.
pub fn decide(existing: Option<&StoredRecord>, op: &Op) -> Decision {
    use v1::rejected::Reason;
    match (op, existing) {
        (Op::Create { .. }, None) => Decision::Insert,
        (Op::Create { .. }, Some(current)) => Decision::Conflict(current.clone()),
        (Op::Update { .. } | Op::Delete { .. }, None) => {
            Decision::Rejected(Reason::NotFound, "record not found".into())
        }
        (Op::Update { base_revision, .. } | Op::Delete { base_revision, .. }, Some(current)) => {
            if current.revision != *base_revision {
                Decision::Conflict(current.clone())
            } else if current.deleted {
                Decision::Rejected(Reason::Deleted, "record is deleted".into())
            } else if is_format_2(&current.ciphertext) && !is_format_2(op.sealed()) {
                Decision::Rejected(
                    Reason::OlderFormat,
                    "the record is in record format 2 and this change is not; \
                     update the client that sent it"
                        .into(),
                )
            } else if matches!(op, Op::Delete { .. }) {
                Decision::Tombstone
            } else {
                Decision::Replace
            }
        }
    }
}

/// The result of [`VaultWriter::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyResult {
    pub outcome: v1::CommandOutcome,
    /// Set when the vault changed (not for conflicts, rejections or repeats).
    pub change: Option<v1::RecordChange>,
    /// The command id had been applied before; `outcome` is the first one.
    pub duplicate: bool,
}

/// One page of [`VaultReader::changes_since`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChangesPage {
    pub records: Vec<StoredRecord>,
    pub current_revision: u64,
    pub has_more: bool,
}

/// One page of [`VaultReader::list_by_kind`].
#[derive(Debug, Clone, PartialEq)]
pub struct KindPage {
    pub records: Vec<StoredRecord>,
    pub current_revision: u64,
    pub has_more: bool,
}

/// How big a page may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit {
    pub max_records: u32,
    /// The page stops after the record that passes this many ciphertext bytes.
    pub max_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("vault storage unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("vault storage holds a value it cannot read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Unavailable(err)
    }
}

/// Write side, on the primary.
#[async_trait]
pub trait VaultWriter: Send + Sync + 'static {
    /// Applies commands in order, all in one transaction: each exactly once
    /// per command id, conflict on a stale base revision, the user's next
    /// revision for a change, and the outcome recorded with the change. A
    /// later command sees what an earlier one in the same batch did. On an
    /// error nothing of the batch is stored.
    ///
    /// Why batches: the consumer hands over what queued up while it was
    /// busy, so under load one commit (one WAL flush) covers many commands.
    async fn apply_batch(
        &self,
        commands: &[ApplyCommand],
        now_ms: i64,
    ) -> Result<Vec<ApplyResult>, StoreError>;

    /// [`VaultWriter::apply_batch`] of one command.
    async fn apply(&self, command: &ApplyCommand, now_ms: i64) -> Result<ApplyResult, StoreError> {
        let mut results = self
            .apply_batch(std::slice::from_ref(command), now_ms)
            .await?;
        results
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a batch of one gave no result".into()))
    }
}

/// Read side, on the replica. Every method reads one consistent snapshot.
#[async_trait]
pub trait VaultReader: Send + Sync + 'static {
    /// The user's newest revision (0 for a user with no changes yet).
    async fn head_revision(&self, user: UserId) -> Result<u64, StoreError>;

    /// Records changed after `since`, oldest change first, tombstones included.
    async fn changes_since(
        &self,
        user: UserId,
        since: u64,
        limit: PageLimit,
    ) -> Result<ChangesPage, StoreError>;

    /// The user's records among `ids` (others' and unknown ids are left out).
    async fn get_records(
        &self,
        user: UserId,
        ids: &[RecordId],
    ) -> Result<(Vec<StoredRecord>, u64), StoreError>;

    /// Live records of one kind with ids after `after`, ordered by id.
    async fn list_by_kind(
        &self,
        user: UserId,
        kind: v1::RecordKind,
        after: Option<RecordId>,
        limit: PageLimit,
    ) -> Result<KindPage, StoreError>;
}

/// Revisions are `u64` on the wire and `i64` in SQL; a value outside `i64`
/// can only come from a corrupt row.
pub(crate) fn revision_from_sql(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative revision {value}")))
}

pub(crate) fn revision_to_sql(value: u64) -> i64 {
    // Validation rejects revisions above i64::MAX before they get here; clamp
    // anyway so that a missed check compares as "newer than anything".
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(revision: u64, deleted: bool) -> StoredRecord {
        StoredRecord {
            record_id: RecordId::new_random(),
            kind: v1::RecordKind::Login,
            ciphertext: vec![1, 2, 3],
            revision,
            deleted,
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    fn update(base_revision: u64) -> Op {
        Op::Update {
            base_revision,
            ciphertext: vec![9],
        }
    }

    #[test]
    fn create_inserts_or_conflicts_with_the_existing_record() {
        let op = Op::Create {
            kind: v1::RecordKind::Text,
            ciphertext: vec![1],
        };
        assert_eq!(decide(None, &op), Decision::Insert);
        let existing = stored(4, false);
        assert_eq!(
            decide(Some(&existing), &op),
            Decision::Conflict(existing.clone())
        );
    }

    #[test]
    fn update_and_delete_need_the_current_revision() {
        let existing = stored(7, false);
        assert_eq!(decide(Some(&existing), &update(7)), Decision::Replace);
        assert_eq!(
            decide(
                Some(&existing),
                &Op::Delete {
                    base_revision: 7,
                    tombstone: Vec::new()
                }
            ),
            Decision::Tombstone
        );
        for stale in [0, 6, 8, u64::MAX] {
            assert_eq!(
                decide(Some(&existing), &update(stale)),
                Decision::Conflict(existing.clone())
            );
        }
    }

    #[test]
    fn a_format_2_record_is_not_written_back_in_format_1() {
        let mut existing = stored(7, false);
        existing.ciphertext = vec![2, 0, 0];
        let older = [
            update(7),
            Op::Delete {
                base_revision: 7,
                tombstone: Vec::new(),
            },
        ];
        for op in older {
            assert!(matches!(
                decide(Some(&existing), &op),
                Decision::Rejected(v1::rejected::Reason::OlderFormat, _)
            ));
        }
        let newer = Op::Update {
            base_revision: 7,
            ciphertext: vec![2, 1],
        };
        assert_eq!(decide(Some(&existing), &newer), Decision::Replace);
        let tombstone = Op::Delete {
            base_revision: 7,
            tombstone: vec![2, 1],
        };
        assert_eq!(decide(Some(&existing), &tombstone), Decision::Tombstone);
        // Format 1 records take either, so old clients keep working.
        assert_eq!(
            decide(Some(&stored(7, false)), &update(7)),
            Decision::Replace
        );
    }

    #[test]
    fn missing_and_deleted_records_are_rejected() {
        assert!(matches!(
            decide(None, &update(1)),
            Decision::Rejected(v1::rejected::Reason::NotFound, _)
        ));
        let tombstone = stored(3, true);
        assert!(matches!(
            decide(Some(&tombstone), &update(3)),
            Decision::Rejected(v1::rejected::Reason::Deleted, _)
        ));
        // A device that did not see the delete yet gets a conflict showing it.
        assert_eq!(
            decide(Some(&tombstone), &update(2)),
            Decision::Conflict(tombstone.clone())
        );
    }
}

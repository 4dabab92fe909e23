//! Resolving a conflict the way the person chose. "Mine" is this device's
//! newest version, "theirs" the server's current record.
//!
//! A record id is bound into its ciphertext (associated data), and the
//! server never lets a deleted id live again, so wherever "mine" has to
//! become a record of its own it is re-sealed under a fresh id.

use uuid::Uuid;

use super::{SyncEngine, SyncError};
use crate::cache::{Conflict, NewOp, OpKind};
use crate::crypto::{RecordAad, VaultKey};
use crate::item::ItemKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Mine wins: it replaces theirs (or, if theirs was deleted, comes back
    /// as a new record).
    KeepMine,
    /// Theirs wins; mine is dropped.
    KeepTheirs,
    /// Both stay: mine becomes a new record beside theirs.
    KeepBoth,
}

impl SyncEngine {
    /// Applies `choice` locally and queues what it needs; the caller pushes.
    /// Returns the id of a record made from "mine", if one was.
    pub async fn resolve(
        &self,
        key: &VaultKey,
        user_id: Uuid,
        record_id: Uuid,
        choice: Resolution,
    ) -> Result<Option<Uuid>, SyncError> {
        let _guard = self.lock.lock().await;
        let conflict = self
            .cache
            .conflict(record_id)
            .await?
            .ok_or_else(|| SyncError::Resolve(format!("no conflict on record {record_id}")))?;
        let theirs = &conflict.theirs;
        let mine_deleted = conflict.mine_op == OpKind::Delete;
        let (op, new_id) = match choice {
            Resolution::KeepTheirs => (None, None),
            Resolution::KeepMine if mine_deleted && theirs.deleted => (None, None),
            Resolution::KeepMine if mine_deleted => (
                Some(NewOp {
                    record_id,
                    kind: theirs.kind,
                    op: OpKind::Delete,
                    ciphertext: None,
                    base_revision: Some(theirs.revision),
                }),
                None,
            ),
            Resolution::KeepMine if !theirs.deleted && conflict.mine_op == OpKind::Update => (
                Some(NewOp {
                    record_id,
                    kind: conflict.kind,
                    op: OpKind::Update,
                    ciphertext: conflict.mine_ciphertext.clone(),
                    base_revision: Some(theirs.revision),
                }),
                None,
            ),
            // Theirs is a tombstone (its id is dead), or mine was a create
            // whose id was taken: mine lives on under a new id.
            Resolution::KeepMine | Resolution::KeepBoth if !mine_deleted => {
                let (op, id) = reseal_as_new(key, user_id, &conflict)?;
                (Some(op), Some(id))
            }
            // Keep both of "deleted" and theirs: theirs is all there is.
            Resolution::KeepBoth | Resolution::KeepMine => (None, None),
        };
        self.cache.resolve_conflict(record_id, op.as_ref()).await?;
        Ok(new_id)
    }
}

fn reseal_as_new(
    key: &VaultKey,
    user_id: Uuid,
    conflict: &Conflict,
) -> Result<(NewOp, Uuid), SyncError> {
    let kind = ItemKind::try_from(conflict.kind)
        .map_err(|e| SyncError::Resolve(format!("{e}; this client cannot copy it")))?;
    let sealed = conflict
        .mine_ciphertext
        .as_deref()
        .ok_or_else(|| SyncError::Resolve("my version has no content".into()))?;
    let plaintext = key.open_record(&RecordAad::new(user_id, conflict.record_id, kind), sealed)?;
    let new_id = Uuid::new_v4();
    let ciphertext = key.seal_record(&RecordAad::new(user_id, new_id, kind), &plaintext);
    Ok((
        NewOp {
            record_id: new_id,
            kind: conflict.kind,
            op: OpKind::Create,
            ciphertext: Some(ciphertext),
            base_revision: None,
        },
        new_id,
    ))
}

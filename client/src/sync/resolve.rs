//! Resolving a conflict the way the person chose. "Mine" is this device's
//! newest version, "theirs" the server's current record.
//!
//! A record id is bound into its ciphertext (associated data), and the
//! server never lets a deleted id live again, so wherever "mine" has to
//! become a record of its own it is re-sealed under a fresh id.

use uuid::Uuid;

use super::{SyncEngine, SyncError};
use crate::cache::{Conflict, NewOp, OpKind, PendingOp, StoredRecord, Versions, stored_version};
use crate::crypto::{Plaintext, RecordHeader};
use crate::item::{Item, ItemKind, merge};

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
    ///
    /// Whatever goes out is sealed again as a new version above theirs: a
    /// version number is never reused for other content, which is what
    /// lets every device tell a rollback from an edit.
    ///
    /// `copy_name`, for [`Resolution::KeepBoth`], renames mine's copy so
    /// that the two can be told apart.
    pub async fn resolve(
        &self,
        record_id: Uuid,
        choice: Resolution,
        copy_name: Option<&str>,
    ) -> Result<Option<Uuid>, SyncError> {
        let _guard = self.lock.lock().await;
        self.resolve_locked(record_id, choice, copy_name).await
    }

    pub(super) async fn resolve_locked(
        &self,
        record_id: Uuid,
        choice: Resolution,
        copy_name: Option<&str>,
    ) -> Result<Option<Uuid>, SyncError> {
        let conflict = self
            .cache
            .conflict(record_id)
            .await?
            .ok_or_else(|| SyncError::Resolve(format!("no conflict on record {record_id}")))?;
        let theirs = &conflict.theirs;
        let theirs_version = stored_version(&theirs.ciphertext);
        let above_theirs = Versions {
            base: theirs_version,
            version: theirs_version + 1,
        };
        let mine_deleted = conflict.mine_op == OpKind::Delete;
        let (op, new_id) = match choice {
            Resolution::KeepTheirs => (None, None),
            Resolution::KeepMine if mine_deleted && theirs.deleted => (None, None),
            Resolution::KeepMine if mine_deleted => (
                Some(NewOp {
                    record_id,
                    kind: theirs.kind,
                    op: OpKind::Delete,
                    ciphertext: Some(self.sealer.seal_tombstone(
                        record_id,
                        kind_of(theirs.kind)?,
                        above_theirs,
                    )),
                    base_revision: Some(theirs.revision),
                }),
                None,
            ),
            Resolution::KeepMine if !theirs.deleted && conflict.mine_op == OpKind::Update => {
                let kind = kind_of(conflict.kind)?;
                let body = self.open_mine(&conflict, kind)?;
                (
                    Some(NewOp {
                        record_id,
                        kind: conflict.kind,
                        op: OpKind::Update,
                        ciphertext: Some(self.sealer.reseal(record_id, kind, &body, above_theirs)),
                        base_revision: Some(theirs.revision),
                    }),
                    None,
                )
            }
            // Theirs is a tombstone (its id is dead), or mine was a create
            // whose id was taken: mine lives on under a new id.
            Resolution::KeepMine | Resolution::KeepBoth if !mine_deleted => {
                let kind = kind_of(conflict.kind)?;
                let mut body = self.open_mine(&conflict, kind)?;
                if let (Resolution::KeepBoth, Some(name)) = (choice, copy_name) {
                    body = renamed(&body, name)?;
                }
                let new_id = Uuid::new_v4();
                let create = Versions {
                    base: 0,
                    version: 1,
                };
                (
                    Some(NewOp {
                        record_id: new_id,
                        kind: conflict.kind,
                        op: OpKind::Create,
                        ciphertext: Some(self.sealer.reseal(new_id, kind, &body, create)),
                        base_revision: None,
                    }),
                    Some(new_id),
                )
            }
            // Keep both of "deleted" and theirs: theirs is all there is.
            Resolution::KeepBoth | Resolution::KeepMine => (None, None),
        };
        self.cache.resolve_conflict(record_id, op.as_ref()).await?;
        Ok(new_id)
    }

    /// Whether `theirs`, which `op` (an edit) met as a conflict, is only
    /// the version `op` started from sealed again (a key rotation's
    /// re-seal, an upgrade): the same content under a newer version. Then
    /// keeping mine loses nothing, and no person needs to choose.
    pub(super) async fn only_resealed(
        &self,
        op: &PendingOp,
        theirs: &StoredRecord,
    ) -> Result<bool, SyncError> {
        if op.upgrade || op.op != OpKind::Update || theirs.deleted {
            return Ok(false);
        }
        let Some(base) = op
            .ciphertext
            .as_deref()
            .and_then(|c| RecordHeader::peek(c).ok().flatten())
            .map(|h| h.base)
        else {
            return Ok(false);
        };
        let Some(known) = self.cache.record(op.record_id).await? else {
            return Ok(false);
        };
        if known.deleted || stored_version(&known.ciphertext) != base {
            return Ok(false);
        }
        let (Ok(known), Ok(theirs)) = (self.sealer.open(&known), self.sealer.open(theirs)) else {
            return Ok(false);
        };
        Ok(theirs.version() > base && known.body.as_slice() == theirs.body.as_slice())
    }

    /// Mine and theirs merged field by field, when `op` (an edit) and
    /// `theirs` were both made from the version the mirror holds and no
    /// field changed on both sides differently. `None` otherwise: then a
    /// person chooses.
    pub(super) async fn merged(
        &self,
        op: &PendingOp,
        theirs: &StoredRecord,
    ) -> Result<Option<Item>, SyncError> {
        if op.upgrade || op.op != OpKind::Update || theirs.deleted || op.kind != theirs.kind {
            return Ok(None);
        }
        let (Ok(kind), Some(sealed)) = (ItemKind::try_from(op.kind), op.ciphertext.as_deref())
        else {
            return Ok(None);
        };
        let aad = self.sealer.aad(op.record_id, kind);
        let Ok(mine) = self.sealer.keys().open_record(&aad, sealed) else {
            return Ok(None);
        };
        let Some(base) = mine.header.as_ref().map(|h| h.base) else {
            return Ok(None);
        };
        let Some(known) = self.cache.record(op.record_id).await? else {
            return Ok(None);
        };
        // The mirror's copy is the base only if the edit was made from it
        // (an edit of what a person saw earlier names an older revision),
        // and theirs must be newer than it.
        if known.deleted
            || stored_version(&known.ciphertext) != base
            || op.base_revision != Some(known.revision)
            || stored_version(&theirs.ciphertext) <= base
        {
            return Ok(None);
        }
        let (Ok(known), Ok(theirs)) = (self.sealer.open(&known), self.sealer.open(theirs)) else {
            return Ok(None);
        };
        let items = (
            Item::from_opened(&aad, &known),
            Item::from_opened(&aad, &mine),
            Item::from_opened(&aad, &theirs),
        );
        let (Ok(base), Ok(mine), Ok(theirs)) = items else {
            return Ok(None);
        };
        match merge(&base, &mine, &theirs) {
            Ok(item) => Ok(Some(item)),
            Err(conflict) => {
                // A count only: custom field keys are item content.
                let fields = conflict.fields.len();
                tracing::debug!(record_id = %op.record_id, fields, "no merge");
                Ok(None)
            }
        }
    }

    /// Queues `merged` as an edit above the conflict's theirs, in place of
    /// the conflict. False if it cannot be sealed (it breaks a rule that
    /// neither side alone broke): the conflict then stays for a person.
    pub(super) async fn resolve_merged(
        &self,
        record_id: Uuid,
        merged: &Item,
    ) -> Result<bool, SyncError> {
        let Some(conflict) = self.cache.conflict(record_id).await? else {
            return Ok(false);
        };
        let theirs = &conflict.theirs;
        let theirs_version = stored_version(&theirs.ciphertext);
        let above_theirs = Versions {
            base: theirs_version,
            version: theirs_version + 1,
        };
        let Ok(ciphertext) = self.sealer.seal_item(record_id, merged, above_theirs) else {
            return Ok(false);
        };
        let op = NewOp {
            record_id,
            kind: theirs.kind,
            op: OpKind::Update,
            ciphertext: Some(ciphertext),
            base_revision: Some(theirs.revision),
        };
        self.cache.resolve_conflict(record_id, Some(&op)).await?;
        Ok(true)
    }

    /// The body of "mine", the version this device wanted.
    fn open_mine(&self, conflict: &Conflict, kind: ItemKind) -> Result<Plaintext, SyncError> {
        let sealed = conflict
            .mine_ciphertext
            .as_deref()
            .ok_or_else(|| SyncError::Resolve("my version has no content".into()))?;
        let opened = self
            .sealer
            .keys()
            .open_record(&self.sealer.aad(conflict.record_id, kind), sealed)?;
        Ok(opened.body)
    }
}

fn kind_of(kind: i32) -> Result<ItemKind, SyncError> {
    ItemKind::try_from(kind)
        .map_err(|e| SyncError::Resolve(format!("{e}; this client cannot copy it")))
}

/// An item's body with another name.
fn renamed(body: &[u8], name: &str) -> Result<Plaintext, SyncError> {
    let mut item =
        Item::decode(body).map_err(|e| SyncError::Resolve(format!("my version: {e}")))?;
    item.name = name.to_owned();
    Ok(Plaintext::copied_from(&item.encode()))
}

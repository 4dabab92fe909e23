//! The one migration of record format 2 (docs/design.md, "Reading format
//! 1, and the one migration"): every device that syncs re-seals the live
//! format 1 records it holds as ordinary format 2 updates, so that no
//! record stays without rollback protection just because nobody edits it.
//! It resumes wherever it stopped: what is left is every mirror row still
//! in format 1.

use std::collections::HashMap;

use uuid::Uuid;

use super::{SyncEngine, SyncError};
use crate::cache::{NewOp, OpKind, PendingOp, StoredRecord, Versions};
use crate::crypto::RECORD_FORMAT_V2;
use crate::item::ItemKind;

impl SyncEngine {
    /// Queues the re-seal of every live format 1 record without queued
    /// changes or a conflict; returns how many were queued. A record this
    /// client cannot open (a newer kind, or one that fails to decrypt) is
    /// left as it is.
    pub(super) async fn queue_upgrades(&self) -> Result<usize, SyncError> {
        let mut queued = 0;
        for record in self.cache.format_1_records().await? {
            let Ok(kind) = ItemKind::try_from(record.kind) else {
                continue;
            };
            let Ok(opened) = self.sealer.open(&record) else {
                continue;
            };
            let first = Versions {
                base: 0,
                version: 1,
            };
            let upgrade = NewOp {
                record_id: record.id,
                kind: record.kind,
                op: OpKind::Update,
                ciphertext: Some(self.sealer.reseal(record.id, kind, &opened.body, first)),
                base_revision: Some(record.revision),
            };
            if self.cache.enqueue_upgrade(&upgrade).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Re-seals, in format 2, the changes this device queued before it was
    /// updated and has not sent yet (format 1 ciphertext, or a delete
    /// without a tombstone): the server refuses those for a record another
    /// device has upgraded meanwhile, which would drop the person's edit.
    /// Sent ones are frozen (the server may have applied them) and go out
    /// as they are.
    /// Only a record's sole queued change is re-sealed: its versions then
    /// follow from the mirror alone. Takes the queue the push is about to
    /// send and returns it as it then stands.
    pub(super) async fn reseal_queued_format_1(
        &self,
        mut pending: Vec<PendingOp>,
    ) -> Result<Vec<PendingOp>, SyncError> {
        let mut per_record: HashMap<Uuid, usize> = HashMap::new();
        for op in &pending {
            *per_record.entry(op.record_id).or_default() += 1;
        }
        for op in &mut pending {
            let in_format_2 = op
                .ciphertext
                .as_deref()
                .is_some_and(|c| c.first() == Some(&RECORD_FORMAT_V2));
            if op.sent || in_format_2 || per_record.get(&op.record_id) != Some(&1) {
                continue;
            }
            let Ok(kind) = ItemKind::try_from(op.kind) else {
                continue;
            };
            let versions = self.cache.next_versions(op.record_id, op.op).await?;
            let ciphertext = match (&op.op, &op.ciphertext) {
                (OpKind::Delete, _) => self.sealer.seal_tombstone(op.record_id, kind, versions),
                (_, Some(old)) => {
                    let record = StoredRecord {
                        id: op.record_id,
                        kind: op.kind,
                        ciphertext: old.clone(),
                        revision: 0,
                        deleted: false,
                        updated_at_ms: 0,
                    };
                    let Ok(opened) = self.sealer.open(&record) else {
                        continue;
                    };
                    self.sealer
                        .reseal(op.record_id, kind, &opened.body, versions)
                }
                (_, None) => continue,
            };
            self.cache.replace_unsent(op.seq, &ciphertext).await?;
            op.ciphertext = Some(ciphertext);
        }
        Ok(pending)
    }
}

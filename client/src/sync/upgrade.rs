//! The one migration of record format 2 (docs/design.md, "Reading format
//! 1, and the one migration"): every device that syncs re-seals the live
//! format 1 records it holds as ordinary format 2 updates, so that no
//! record stays without rollback protection just because nobody edits it.
//! It resumes wherever it stopped: what is left is every mirror row still
//! in format 1.

use super::{SyncEngine, SyncError};
use crate::cache::{NewOp, OpKind, Versions};
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
}

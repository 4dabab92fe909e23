//! The re-seal half of a vault-key rotation (docs/design.md, "Vault-key
//! rotation"): every live record still sealed under an older key epoch is
//! re-sealed under the current one as an ordinary update, and changes
//! queued under an older epoch are re-sealed before they are sent. It
//! resumes wherever it stopped: what is left is every mirror row below the
//! current epoch, and any device that knows the new key does it.

use std::sync::atomic::Ordering;

use super::{SyncEngine, SyncError};
use crate::cache::{NewOp, OpKind, PendingOp};
use crate::crypto::RecordHeader;
use crate::item::ItemKind;

impl SyncEngine {
    /// Queues the re-seal of every live record below the current key
    /// epoch that has no queued change or conflict (those are re-sealed
    /// with the change); returns how many were queued. An account that
    /// never rotated costs nothing, and once a scan queues nothing (all
    /// current, or only what this client cannot open) this engine does not
    /// scan again.
    pub(super) async fn queue_rekeys(&self) -> Result<usize, SyncError> {
        let epoch = self.sealer.keys().epoch();
        if epoch == 1 || self.rekeyed.load(Ordering::Relaxed) {
            return Ok(0);
        }
        let mut queued = 0;
        for record in self.cache.records_below_epoch(epoch).await? {
            let Ok(kind) = ItemKind::try_from(record.kind) else {
                continue;
            };
            let Ok(opened) = self.sealer.open(&record) else {
                continue;
            };
            let versions = self.cache.next_versions(record.id, OpKind::Update).await?;
            let rekey = NewOp {
                record_id: record.id,
                kind: record.kind,
                op: OpKind::Update,
                ciphertext: Some(self.sealer.reseal(record.id, kind, &opened.body, versions)),
                base_revision: Some(record.revision),
            };
            // Marked like an upgrade: it carries no edit, so a conflict
            // drops it and the next sync looks at the winner again.
            if self.cache.enqueue_upgrade(&rekey).await? {
                queued += 1;
            }
        }
        if queued == 0 {
            self.rekeyed.store(true, Ordering::Relaxed);
        }
        Ok(queued)
    }

    /// Re-seals, under the current key epoch, unsent changes sealed under
    /// an older one (a device that was offline during a rotation), keeping
    /// each change's versions and time. Sent ones are frozen (the server
    /// may have applied them) and go out as they are; the record is
    /// re-sealed once it is back in the mirror.
    pub(super) async fn rekey_queued(
        &self,
        mut pending: Vec<PendingOp>,
    ) -> Result<Vec<PendingOp>, SyncError> {
        let epoch = self.sealer.keys().epoch();
        if epoch == 1 {
            return Ok(pending);
        }
        for op in &mut pending {
            let Some(old) = op.ciphertext.as_deref() else {
                continue;
            };
            let stale = RecordHeader::peek(old)
                .ok()
                .flatten()
                .is_some_and(|h| h.key_epoch < epoch);
            if op.sent || !stale {
                continue;
            }
            let Ok(kind) = ItemKind::try_from(op.kind) else {
                continue;
            };
            let Some(ciphertext) = self.sealer.rekey(op.record_id, kind, old) else {
                continue;
            };
            self.cache.replace_unsent(op.seq, &ciphertext).await?;
            op.ciphertext = Some(ciphertext);
        }
        Ok(pending)
    }
}

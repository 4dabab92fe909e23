//! Sealing this device's changes in record format 2 and checking what the
//! server serves against what this device already trusts
//! (`docs/design.md`, "Tamper evidence").
//!
//! A record from the server is stored only if it opens under the vault key
//! and does not go back: its authenticated version must be above the
//! version this device holds, or be the very same bytes. A deletion must be
//! a tombstone sealed by a key holder. Anything else is refused and kept as
//! a [`TamperAlert`]; the mirror keeps the version it trusted, so no device
//! shows an older secret as current or loses an item to a made-up deletion.

use std::sync::Arc;

use uuid::Uuid;

use crate::cache::{
    StoredRecord, TamperAlert, TamperKind, Versions, is_summary_kind, now_ms, stored_version,
};
use crate::crypto::{CryptoError, OpenedRecord, RecordAad, RecordHeader, VaultKey, VaultKeys};
use crate::item::{Item, ItemError, ItemKind};

/// What sealing and checking records needs: the vault key, whose vault it
/// is, and this device.
pub struct Sealer {
    keys: Arc<VaultKeys>,
    user_id: Uuid,
    device_id: Uuid,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    pub fn new(keys: Arc<VaultKeys>, user_id: Uuid, device_id: Uuid) -> Self {
        Self {
            keys,
            user_id,
            device_id,
        }
    }

    /// The key that seals: the current epoch's.
    fn key(&self) -> &VaultKey {
        self.keys.current()
    }

    pub(crate) fn keys(&self) -> &VaultKeys {
        &self.keys
    }

    pub(crate) fn aad(&self, record_id: Uuid, kind: ItemKind) -> RecordAad {
        RecordAad::new(self.user_id, record_id, kind)
    }

    fn header(&self, versions: Versions, tombstone: bool) -> RecordHeader {
        RecordHeader {
            key_epoch: self.keys.epoch(),
            version: versions.version,
            base: versions.base,
            writer: self.device_id,
            tombstone,
        }
    }

    pub fn seal_item(
        &self,
        record_id: Uuid,
        item: &Item,
        versions: Versions,
    ) -> Result<Vec<u8>, ItemError> {
        item.seal(
            self.key(),
            &self.aad(record_id, item.kind()),
            &self.header(versions, false),
            now_ms(),
        )
    }

    /// A record's plaintext body sealed again as another version or under
    /// another id (conflict resolution).
    pub(crate) fn reseal(
        &self,
        record_id: Uuid,
        kind: ItemKind,
        body: &[u8],
        versions: Versions,
    ) -> Vec<u8> {
        self.key().seal_record(
            &self.aad(record_id, kind),
            &self.header(versions, false),
            now_ms(),
            body,
        )
    }

    /// A record sealed under an older key epoch, sealed again under the
    /// current one as the same version with the same time: for a change
    /// queued before a rotation and not sent yet. `None` if it does not
    /// open or is in format 1 (the upgrade re-seals those).
    pub(crate) fn rekey(&self, record_id: Uuid, kind: ItemKind, sealed: &[u8]) -> Option<Vec<u8>> {
        let aad = self.aad(record_id, kind);
        let opened = self.keys.open_record(&aad, sealed).ok()?;
        let header = RecordHeader {
            key_epoch: self.keys.epoch(),
            ..opened.header?
        };
        let time = opened.written_at_ms.unwrap_or_else(now_ms);
        Some(self.key().seal_record(&aad, &header, time, &opened.body))
    }

    pub fn seal_tombstone(&self, record_id: Uuid, kind: ItemKind, versions: Versions) -> Vec<u8> {
        self.key().seal_tombstone(
            &self.aad(record_id, kind),
            &self.header(versions, true),
            now_ms(),
        )
    }

    /// One bucket of this device's vault summary, as the version
    /// `versions` names.
    pub(crate) fn seal_summary(&self, record_id: Uuid, body: &[u8], versions: Versions) -> Vec<u8> {
        self.key().seal_record(
            &RecordAad::vault_summary(self.user_id, record_id),
            &self.header(versions, false),
            now_ms(),
            body,
        )
    }

    /// The record id of one bucket of this device's vault summary.
    pub(crate) fn summary_id(&self, bucket: u8) -> Uuid {
        super::summary::summary_record_id(self.user_id, self.device_id, bucket)
    }

    /// The associated data of a record of this kind; `None` for a kind
    /// from a newer client.
    fn aad_of(&self, record: &StoredRecord) -> Option<RecordAad> {
        if is_summary_kind(record.kind) {
            return Some(RecordAad::vault_summary(self.user_id, record.id));
        }
        let kind = ItemKind::try_from(record.kind).ok()?;
        Some(self.aad(record.id, kind))
    }

    pub(crate) fn open(&self, record: &StoredRecord) -> Result<OpenedRecord, CryptoError> {
        let aad = self.aad_of(record).ok_or(CryptoError::DecryptionFailed)?;
        self.keys.open_record(&aad, &record.ciphertext)
    }

    /// Whether a stored record opens as what it claims to be (a live record
    /// or a tombstone). A deletion from before format 2 and a kind from a
    /// newer client cannot be judged, and pass.
    pub(crate) fn opens(&self, record: &StoredRecord) -> bool {
        if (record.deleted && record.ciphertext.is_empty()) || self.aad_of(record).is_none() {
            return true;
        }
        self.open(record)
            .is_ok_and(|opened| opened.is_tombstone() == record.deleted)
    }

    /// Whether `incoming` from the server may replace `known`, this
    /// device's copy (none if it never saw the record).
    ///
    /// Only a copy that opens is protected. A record this device holds no
    /// such copy of has nothing to roll back, so it is taken as served and
    /// opened when shown ([`crate::vault::Vault::list_checked`] reports one
    /// that does not open, and it protects nothing until it does): that
    /// keeps a first sync from decrypting every record twice.
    pub fn check(
        &self,
        incoming: &StoredRecord,
        known: Option<&StoredRecord>,
    ) -> Result<(), TamperAlert> {
        let refuse = |what| Err(TamperAlert::new(incoming.id, what, incoming.revision));
        let Some(known) = known.filter(|k| self.opens(k)) else {
            return Ok(());
        };
        if self.aad_of(incoming).is_none() {
            // A kind from a newer client: this one cannot open it. It may
            // not replace a record this device knows.
            return refuse(TamperKind::DoesNotOpen);
        }
        let known_in_v2 = RecordHeader::peek(&known.ciphertext)
            .ok()
            .flatten()
            .is_some();
        if incoming.deleted && incoming.ciphertext.is_empty() {
            // A deletion from before format 2 carries no tombstone; it is
            // believed only for a record this device never saw in format 2
            // (not even as a tombstone: replacing one by nothing would let
            // an older live version come back next).
            return if known_in_v2 {
                refuse(TamperKind::ForgedDeletion)
            } else {
                Ok(())
            };
        }
        let Ok(opened) = self.open(incoming) else {
            return refuse(if incoming.deleted {
                TamperKind::ForgedDeletion
            } else {
                TamperKind::DoesNotOpen
            });
        };
        if opened.is_tombstone() != incoming.deleted {
            return refuse(if incoming.deleted {
                TamperKind::ForgedDeletion
            } else {
                TamperKind::DoesNotOpen
            });
        }
        let known_version = stored_version(&known.ciphertext);
        if opened.header.is_none() && known_in_v2 {
            return refuse(TamperKind::Rollback);
        }
        let version = opened.version();
        if version < known_version {
            return refuse(TamperKind::Rollback);
        }
        if version == known_version && known_in_v2 && incoming.ciphertext != known.ciphertext {
            return refuse(TamperKind::Fork);
        }
        Ok(())
    }
}

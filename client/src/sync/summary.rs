//! The vault summary (`docs/design.md`, "The vault summary"): after each
//! push that applied a change, this device rewrites the buckets of its own
//! summary that the change fell in, listing what it holds of every record
//! in that bucket (id, version, digest of the bytes, tombstone). Each
//! device writes only its own summary records, so summaries never contend
//! with each other or with edits.
//!
//! Every entry of every summary a device is served is a lower bound on
//! what the server must serve: the record, at that version or above, with
//! the same bytes at the same version. A pull checks each summary that
//! came in against the mirror once the pull is complete, so a new device
//! finds withheld records on its first sync.

use std::collections::{BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{SyncEngine, SyncError};
use crate::cache::{
    DIGEST_LEN, NewOp, OLD_SUMMARY_BUCKETS, SUMMARY_BUCKETS, StoredRecord, SummaryEntry,
    TamperAlert, TamperKind, is_summary_kind, summary_bucket,
};
use crate::crypto::VAULT_SUMMARY_KIND;

const MAGIC: &[u8; 4] = b"GKVS";
const BODY_FORMAT: u8 = 1;
const HEAD_LEN: usize = MAGIC.len() + 1 + 1 + 4;
const ENTRY_LEN: usize = 16 + 8 + DIGEST_LEN + 1;
/// Entries that fit one record below the server's 512 KiB limit.
const MAX_ENTRIES: usize = 15_000;

/// The record id of one bucket of a device's summary: fixed per (user,
/// device, bucket), so a device always rewrites the same records.
pub fn summary_record_id(user_id: Uuid, device_id: Uuid, bucket: u8) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(b"gophkeeper/v2/vault-summary-id");
    hash.update(user_id.as_bytes());
    hash.update(device_id.as_bytes());
    hash.update([bucket]);
    let mut id = [0; 16];
    id.copy_from_slice(&hash.finalize()[..16]);
    Uuid::from_bytes(id)
}

/// `GKVS ‖ format ‖ bucket ‖ count (u32) ‖ entries`, each
/// `id ‖ version (u64) ‖ digest ‖ tombstone (0/1)`.
pub fn encode_summary(bucket: u8, entries: &[SummaryEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEAD_LEN + entries.len() * ENTRY_LEN);
    out.extend_from_slice(MAGIC);
    out.push(BODY_FORMAT);
    out.push(bucket);
    let count = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for entry in entries {
        out.extend_from_slice(entry.record_id.as_bytes());
        out.extend_from_slice(&entry.version.to_be_bytes());
        out.extend_from_slice(&entry.digest);
        out.push(u8::from(entry.tombstone));
    }
    out
}

/// The entries of a summary body; `None` for anything but exactly what
/// [`encode_summary`] writes.
pub fn decode_summary(body: &[u8]) -> Option<Vec<SummaryEntry>> {
    let (head, rest) = body.split_at_checked(HEAD_LEN)?;
    if &head[..4] != MAGIC || head[4] != BODY_FORMAT {
        return None;
    }
    let count = usize::try_from(u32::from_be_bytes(head[6..10].try_into().ok()?)).ok()?;
    if rest.len() != count.checked_mul(ENTRY_LEN)? {
        return None;
    }
    rest.chunks_exact(ENTRY_LEN)
        .map(|raw| {
            let (id, raw) = raw.split_first_chunk::<16>()?;
            let (version, raw) = raw.split_first_chunk::<8>()?;
            let (digest, raw) = raw.split_first_chunk::<DIGEST_LEN>()?;
            let tombstone = match raw {
                [0] => false,
                [1] => true,
                _ => return None,
            };
            Some(SummaryEntry {
                record_id: Uuid::from_bytes(*id),
                version: u64::from_be_bytes(*version),
                digest: *digest,
                tombstone,
            })
        })
        .collect()
}

/// What is wrong with a record a summary lists, given what is held of it
/// (the mirror, or the server's answer): nothing, if it is there at that
/// version or above, with the same bytes at the same version.
pub fn judge(listed: &SummaryEntry, held: Option<&SummaryEntry>) -> Option<TamperKind> {
    let Some(held) = held else {
        return Some(TamperKind::Withheld);
    };
    if held.version < listed.version {
        Some(TamperKind::Rollback)
    } else if held.version == listed.version && listed.version > 0 && held.digest != listed.digest {
        // Format 1 records (version 0) have no version to tell edits apart.
        Some(TamperKind::Fork)
    } else {
        None
    }
}

/// What a pull stored, for the summary check at its end.
#[derive(Debug, Default)]
pub(super) struct PulledSummaries {
    /// The summaries stored, as the mirror now holds them.
    summaries: HashMap<Uuid, StoredRecord>,
    /// The copy of each of them the mirror held before the pull.
    previous: HashMap<Uuid, StoredRecord>,
    /// The entry of every record stored.
    held: HashMap<Uuid, SummaryEntry>,
}

impl PulledSummaries {
    /// Notes the copy of a summary the mirror held before the pull.
    pub(super) fn note_previous(&mut self, known: &StoredRecord) {
        if is_summary(known) {
            self.previous
                .entry(known.id)
                .or_insert_with(|| known.clone());
        }
    }

    /// Notes a page's records as stored, with their summary entries.
    pub(super) fn note_stored(&mut self, records: &[StoredRecord], entries: &[SummaryEntry]) {
        for (record, entry) in records.iter().zip(entries) {
            self.held.insert(record.id, *entry);
            if is_summary(record) {
                self.summaries.insert(record.id, record.clone());
            }
        }
    }
}

/// Whether a stored record is a bucket of some device's summary.
pub fn is_summary(record: &StoredRecord) -> bool {
    is_summary_kind(record.kind)
}

impl SyncEngine {
    /// Queues this device's summary of each bucket, as its mirror now
    /// stands.
    pub(super) async fn queue_summaries(&self, buckets: &BTreeSet<u8>) -> Result<(), SyncError> {
        for &bucket in buckets {
            let entries = self.cache.bucket_entries(bucket).await?;
            if entries.len() > MAX_ENTRIES {
                tracing::warn!(
                    bucket,
                    entries = entries.len(),
                    "summary bucket too large; skipped"
                );
                continue;
            }
            let id = self.sealer.summary_id(bucket);
            let op = self.cache.op_for(id).await?;
            let versions = self.cache.next_versions(id, op).await?;
            let base_revision = self.cache.record(id).await?.map(|r| r.revision);
            let body = encode_summary(bucket, &entries);
            self.cache
                .enqueue_summary(&NewOp {
                    record_id: id,
                    kind: i32::from(VAULT_SUMMARY_KIND),
                    op,
                    ciphertext: Some(self.sealer.seal_summary(id, &body, versions)),
                    base_revision,
                })
                .await?;
        }
        Ok(())
    }

    /// Rewrites, once, the summaries this device wrote under 32 buckets
    /// (before 0004 of the cache's migrations) under 256, so that every
    /// record an old bucket listed is listed again; returns how many it
    /// queued. Until then an old bucket stays a true lower bound: it lists
    /// what this device held when it wrote it.
    pub(super) async fn queue_summary_layout_upgrade(&self) -> Result<usize, SyncError> {
        if self.cache.own_summary_buckets().await? == SUMMARY_BUCKETS {
            return Ok(0);
        }
        let mut written = BTreeSet::new();
        for old in 0..OLD_SUMMARY_BUCKETS {
            if self
                .cache
                .record(self.sealer.summary_id(old))
                .await?
                .is_some()
            {
                written.insert(old);
            }
        }
        let buckets = buckets_covering(&written);
        self.queue_summaries(&buckets).await?;
        self.cache.set_own_summary_buckets(SUMMARY_BUCKETS).await?;
        Ok(buckets.len())
    }

    /// Checks the summaries a completed pull stored against the mirror,
    /// `last_page` included (pulled, not stored yet); returns what it
    /// finds, for the caller to store with that page. A summary whose
    /// previous version was checked needs only its changed entries checked
    /// (the mirror only moves forward); `recheck_from` (an earlier pull was
    /// cut off before its check) checks every summary stored after that
    /// revision in full.
    pub(super) async fn check_summaries(
        &self,
        pulled: &PulledSummaries,
        recheck_from: Option<u64>,
        last_page: &[StoredRecord],
    ) -> Result<Vec<TamperAlert>, SyncError> {
        let stored_since = match recheck_from {
            Some(from) => self.cache.summaries_since(from).await?,
            None => Vec::new(),
        };
        let summaries = pulled.summaries.values().chain(
            stored_since
                .iter()
                .filter(|r| !pulled.summaries.contains_key(&r.id)),
        );
        let mut alerts = Vec::new();
        let mut to_check = Vec::new();
        for record in summaries {
            let id = record.id;
            let Some(listed) = self.summary_entries(record) else {
                alerts.push(TamperAlert::new(
                    id,
                    TamperKind::DoesNotOpen,
                    record.revision,
                ));
                continue;
            };
            let checked_before = pulled
                .previous
                .get(&id)
                .filter(|_| recheck_from.is_none())
                .and_then(|previous| self.summary_entries(previous));
            let changed: Vec<SummaryEntry> = match checked_before {
                Some(old) => {
                    let old: HashSet<SummaryEntry> = old.into_iter().collect();
                    listed.into_iter().filter(|e| !old.contains(e)).collect()
                }
                None => listed,
            };
            to_check.extend(changed.into_iter().map(|e| (e, record.revision)));
        }
        // What the pull stored is in memory; only the rest is read back.
        let unknown: Vec<Uuid> = to_check
            .iter()
            .map(|(e, _)| e.record_id)
            .filter(|id| !pulled.held.contains_key(id))
            .collect();
        let from_mirror = if unknown.is_empty() {
            HashMap::new()
        } else {
            self.cache.entries_of(&unknown).await?
        };
        for (entry, revision) in to_check {
            let held = pulled
                .held
                .get(&entry.record_id)
                .or_else(|| from_mirror.get(&entry.record_id));
            let Some(mut what) = judge(&entry, held) else {
                continue;
            };
            if what == TamperKind::Fork {
                // The copy the mirror holds once the last page is stored.
                let altered = match last_page.iter().find(|r| r.id == entry.record_id) {
                    Some(pulled) => !self.sealer.opens(pulled),
                    None => self
                        .cache
                        .record(entry.record_id)
                        .await?
                        .is_some_and(|copy| !self.sealer.opens(&copy)),
                };
                if altered {
                    // Not another writer's bytes: altered ones.
                    what = TamperKind::DoesNotOpen;
                }
            }
            alerts.push(TamperAlert::new(entry.record_id, what, revision));
        }
        for alert in &alerts {
            tracing::warn!(record_id = %alert.record_id, what = ?alert.what, "a summary check failed");
        }
        Ok(alerts)
    }

    /// The entries of a summary record; `None` if it does not open or is
    /// not a summary body.
    pub(crate) fn summary_entries(&self, record: &StoredRecord) -> Option<Vec<SummaryEntry>> {
        let opened = self.sealer.open(record).ok()?;
        if opened.is_tombstone() {
            return None;
        }
        decode_summary(&opened.body)
    }
}

#[cfg(feature = "internals")]
impl SyncEngine {
    /// Writes and sends every bucket of this device's summary from its
    /// mirror: for benches that fill a vault around the sync engine.
    pub async fn summarise_everything(&self) -> Result<super::SyncReport, SyncError> {
        let _guard = self.lock.lock().await;
        self.queue_summaries(&(0..=u8::MAX).collect()).await?;
        Ok(self.push_queue().await?.0)
    }
}

/// The buckets of the records of these ids.
pub(super) fn buckets_of(ids: impl IntoIterator<Item = Uuid>) -> BTreeSet<u8> {
    ids.into_iter().map(summary_bucket).collect()
}

/// The buckets that now hold what these old (modulo 32) buckets listed:
/// old bucket b becomes b, b + 32, ..., b + 224, b itself included so that
/// its record is rewritten too.
fn buckets_covering(old: &BTreeSet<u8>) -> BTreeSet<u8> {
    old.iter()
        .flat_map(|&b| (b..=u8::MAX).step_by(OLD_SUMMARY_BUCKETS.into()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128, version: u64, tombstone: bool) -> SummaryEntry {
        SummaryEntry {
            record_id: Uuid::from_u128(n),
            version,
            digest: [n as u8; DIGEST_LEN],
            tombstone,
        }
    }

    #[test]
    fn a_body_round_trips_and_nothing_else_decodes() {
        let entries = vec![entry(1, 3, false), entry(2, 0, true)];
        let body = encode_summary(7, &entries);
        assert_eq!(decode_summary(&body), Some(entries));
        assert_eq!(decode_summary(&body[..body.len() - 1]), None);
        let mut longer = body.clone();
        longer.push(0);
        assert_eq!(decode_summary(&longer), None);
        let mut bad_flag = body.clone();
        *bad_flag.last_mut().unwrap() = 2;
        assert_eq!(decode_summary(&bad_flag), None);
        let mut bad_magic = body;
        bad_magic[0] ^= 1;
        assert_eq!(decode_summary(&bad_magic), None);
        assert_eq!(decode_summary(&encode_summary(0, &[])), Some(Vec::new()));
    }

    #[test]
    fn an_entry_is_a_lower_bound() {
        let listed = entry(1, 3, false);
        assert_eq!(judge(&listed, None), Some(TamperKind::Withheld));
        assert_eq!(
            judge(&listed, Some(&entry(1, 2, false))),
            Some(TamperKind::Rollback)
        );
        assert_eq!(judge(&listed, Some(&listed)), None);
        assert_eq!(judge(&listed, Some(&entry(1, 4, true))), None);
        let other_bytes = SummaryEntry {
            digest: [9; DIGEST_LEN],
            ..listed
        };
        assert_eq!(judge(&listed, Some(&other_bytes)), Some(TamperKind::Fork));
        // Format 1: no version to compare bytes under.
        let v1 = entry(1, 0, false);
        assert_eq!(
            judge(
                &v1,
                Some(&SummaryEntry {
                    digest: [9; DIGEST_LEN],
                    ..v1
                })
            ),
            None
        );
    }

    #[test]
    fn the_new_buckets_cover_exactly_what_the_old_ones_listed() {
        let covering = buckets_covering(&BTreeSet::from([0, 31]));
        assert_eq!(covering.len(), 16);
        for byte in 0..=u8::MAX {
            let id = Uuid::from_bytes([byte; 16]);
            let was_listed = matches!(byte % OLD_SUMMARY_BUCKETS, 0 | 31);
            assert_eq!(covering.contains(&summary_bucket(id)), was_listed, "{byte}");
        }
        assert!(buckets_covering(&BTreeSet::new()).is_empty());
        assert_eq!(SUMMARY_BUCKETS, usize::from(u8::MAX) + 1);
    }

    #[test]
    fn summary_ids_differ_per_device_and_bucket() {
        let user = Uuid::from_u128(1);
        let a = summary_record_id(user, Uuid::from_u128(2), 0);
        assert_ne!(a, summary_record_id(user, Uuid::from_u128(3), 0));
        assert_ne!(a, summary_record_id(user, Uuid::from_u128(2), 1));
        assert_eq!(a, summary_record_id(user, Uuid::from_u128(2), 0));
    }
}

//! `verify`: checks everything this device holds and everything the server
//! holds now against what this device trusts, and gives the vault
//! fingerprint a person compares between devices (docs/design.md, "Tamper
//! evidence").

use std::collections::HashMap;

use uuid::Uuid;

use super::{TamperKind, Vault, VaultError};
use crate::cache::{OpKind, StoredRecord, SummaryEntry, stored_version};
use crate::crypto::FingerprintEntry;
use crate::sync::{is_summary, judge};

/// Where a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// In this device's copy (the mirror or the queue).
    ThisDevice,
    /// In what the server holds now.
    Server,
    /// Refused by an earlier sync (a kept tamper alert).
    EarlierSync,
}

/// What is wrong with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    Tampered(TamperKind),
    /// This device holds the record, the server's answer lacks it.
    Withheld,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub record_id: Uuid,
    pub problem: Problem,
    pub place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records in this device's copy, tombstones included, vault
    /// summaries not.
    pub records: usize,
    /// The same of what the server holds, or `None` if it could not be
    /// reached.
    pub server_records: Option<usize>,
    pub findings: Vec<Finding>,
    /// Over every record this device holds (id, version, tombstone), keyed
    /// with the vault key: two devices that synced with an honest server
    /// show the same one.
    pub fingerprint: String,
}

impl Vault {
    /// Checks this device's copy, the queue, and the server's current view.
    /// Sync first: the fingerprint covers what the server confirmed.
    pub async fn verify(&self) -> Result<VerifyReport, VaultError> {
        let sealer = self.engine.sealer();
        let mirror = self.cache.all_records().await?;
        let mut findings = Vec::new();
        let mut found = |record_id, problem, place| {
            findings.push(Finding {
                record_id,
                problem,
                place,
            });
        };
        let queued = self.cache.pending().await?.into_iter().filter_map(|op| {
            let deleted = op.op == OpKind::Delete;
            op.ciphertext.map(|ciphertext| StoredRecord {
                id: op.record_id,
                kind: op.kind,
                ciphertext,
                revision: 0,
                deleted,
                updated_at_ms: 0,
            })
        });
        for record in mirror.iter().cloned().chain(queued) {
            if !sealer.opens(&record) {
                found(
                    record.id,
                    Problem::Tampered(TamperKind::DoesNotOpen),
                    Place::ThisDevice,
                );
            }
        }
        for alert in self.cache.tamper_alerts().await? {
            found(
                alert.record_id,
                Problem::Tampered(alert.what),
                Place::EarlierSync,
            );
        }
        let server = self.engine.server_view().await?;
        if let Some(server) = &server {
            let mut known: HashMap<Uuid, &StoredRecord> =
                mirror.iter().map(|r| (r.id, r)).collect();
            for record in server {
                let trusted = known.remove(&record.id);
                if let Err(alert) = sealer.check(record, trusted) {
                    found(record.id, Problem::Tampered(alert.what), Place::Server);
                } else if !sealer.opens(record) {
                    // What the pull takes unopened, verify opens.
                    found(
                        record.id,
                        Problem::Tampered(TamperKind::DoesNotOpen),
                        Place::Server,
                    );
                }
            }
            for id in known.into_keys() {
                found(id, Problem::Withheld, Place::Server);
            }
            // Every summary the server serves, against what it serves.
            let served: HashMap<Uuid, (SummaryEntry, &StoredRecord)> = server
                .iter()
                .map(|r| (r.id, (r.summary_entry(), r)))
                .collect();
            for summary in server.iter().filter(|r| is_summary(r)) {
                let Some(listed) = self.engine.summary_entries(summary) else {
                    continue; // reported above as does-not-open
                };
                for entry in &listed {
                    let held = served.get(&entry.record_id);
                    let problem = match judge(entry, held.map(|(e, _)| e)) {
                        None => continue,
                        Some(TamperKind::Withheld) => Problem::Withheld,
                        // Altered bytes are reported above as such.
                        Some(TamperKind::Fork) if held.is_some_and(|(_, r)| !sealer.opens(r)) => {
                            continue;
                        }
                        Some(what) => Problem::Tampered(what),
                    };
                    found(entry.record_id, problem, Place::Server);
                }
            }
        }
        findings.sort();
        findings.dedup();
        let entries: Vec<FingerprintEntry> = mirror
            .iter()
            .map(|r| FingerprintEntry {
                record_id: r.id,
                version: stored_version(&r.ciphertext),
                tombstone: r.deleted,
            })
            .collect();
        let items = |records: &[StoredRecord]| records.iter().filter(|r| !is_summary(r)).count();
        Ok(VerifyReport {
            records: items(&mirror),
            server_records: server.as_deref().map(items),
            findings,
            fingerprint: self.key.current().vault_fingerprint(&entries),
        })
    }
}

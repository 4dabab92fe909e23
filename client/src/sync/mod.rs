//! The sync engine: sends this device's queued commands, fetches everyone
//! else's changes, and says honestly what happened to each command.
//!
//! - **Push** sends queued commands in order with `wait_for_outcome`, each
//!   under the command id it got when it was queued, so a resend after a
//!   timeout or a crash is applied at most once (the server answers a
//!   repeated id with its first outcome). One command per record is in
//!   flight; a later command of the same record waits for the earlier one's
//!   outcome and takes its base revision from it. Applied → leaves the
//!   queue; conflict → merged field by field if the two edits of one base
//!   changed different fields (see `item/merge.rs`), else both versions go
//!   to the conflicts table; rejected → dropped and reported; no outcome
//!   yet or server unavailable → stays.
//! - **Pull** fetches `Changes` after the cursor page by page, tombstones
//!   included, asking for at least the newest revision our own commands
//!   were applied at (read your writes).
//! - **Watch** (see `watch.rs`) keeps a live stream open and pulls when told.

mod rekey;
mod resolve;
mod sealer;
mod summary;
mod upgrade;
mod watch;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use gophkeeper_proto::v1;
use uuid::Uuid;

pub use self::resolve::Resolution;
pub use self::sealer::Sealer;
use self::summary::PulledSummaries;
pub use self::summary::{is_summary, judge};
pub use self::watch::{SyncEvent, WatchHandle};
use crate::cache::{
    Cache, CacheError, OpKind, PendingOp, StoredRecord, SummaryEntry, TamperAlert, is_summary_kind,
    now_ms,
};
use crate::session::{ApiError, Session};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("cannot resolve: {0}")]
    Resolve(String),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
}

/// A command the server refused for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub record_id: Uuid,
    pub message: String,
}

/// What one sync (or push, or pull) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Commands applied by the server (vault summaries not counted).
    pub applied: usize,
    /// Records that came in with `Changes` (vault summaries not counted).
    pub pulled: usize,
    /// Records whose command met a newer version on the server.
    pub conflicts: Vec<Uuid>,
    pub rejected: Vec<Rejection>,
    /// Commands still queued afterwards.
    pub pending: usize,
    /// Commands the server accepted but had not applied within its wait;
    /// they stay queued and are resent (safely) next time.
    pub unconfirmed: usize,
    /// Set when the server could not be reached (or gave no outcome in
    /// time); the queue is kept for next time.
    pub offline: Option<String>,
    /// Records the server served that this device refused (an older
    /// version, a made-up deletion, a record that does not open); it keeps
    /// showing the version it trusted.
    pub tampered: Vec<TamperAlert>,
}

impl SyncReport {
    fn merge(&mut self, other: SyncReport) {
        self.applied += other.applied;
        self.pulled += other.pulled;
        self.conflicts.extend(other.conflicts);
        self.rejected.extend(other.rejected);
        self.pending = other.pending;
        self.unconfirmed += other.unconfirmed;
        self.tampered.extend(other.tampered);
        if other.offline.is_some() {
            self.offline = other.offline;
        }
    }
}

/// Sync for one profile. Push and pull never overlap (one lock), so the
/// watch task and a foreground `sync` cannot send the same command twice at
/// once or interleave cursor updates.
#[derive(Debug)]
pub struct SyncEngine {
    cache: Cache,
    session: Arc<Session>,
    sealer: Arc<Sealer>,
    lock: tokio::sync::Mutex<()>,
    /// Set once a scan found no record below the current key epoch.
    rekeyed: AtomicBool,
}

fn command(op: &PendingOp) -> Option<v1::Command> {
    let record_id = op.record_id.to_string();
    let ciphertext = op.ciphertext.clone().unwrap_or_default();
    let op_message = match op.op {
        OpKind::Create => v1::command::Op::Create(v1::CreateRecord {
            record_id,
            kind: op.kind,
            ciphertext,
        }),
        OpKind::Update => v1::command::Op::Update(v1::UpdateRecord {
            record_id,
            base_revision: op.base_revision?,
            ciphertext,
        }),
        OpKind::Delete => v1::command::Op::Delete(v1::DeleteRecord {
            record_id,
            base_revision: op.base_revision?,
            tombstone: ciphertext,
        }),
    };
    Some(v1::Command {
        command_id: op.command_id.to_string(),
        op: Some(op_message),
    })
}

impl PendingOp {
    /// The wire command, or `None` while its base revision is still unknown
    /// (the record's earlier command has no outcome yet).
    #[cfg(feature = "internals")]
    pub fn to_command(&self) -> Option<v1::Command> {
        command(self)
    }
}

impl SyncEngine {
    pub fn new(cache: Cache, session: Arc<Session>, sealer: Arc<Sealer>) -> Self {
        Self {
            cache,
            session,
            sealer,
            lock: tokio::sync::Mutex::new(()),
            rekeyed: AtomicBool::new(false),
        }
    }

    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    #[cfg(feature = "internals")]
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    #[cfg(feature = "internals")]
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Push, then pull. Offline is reported in the result, not as an error;
    /// errors are "log in again" and local failures.
    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        let _guard = self.lock.lock().await;
        let mut report = self.push_locked().await?;
        if report.offline.is_none() {
            report.merge(self.pull_locked().await?);
        }
        if report.offline.is_none() {
            let queued = self.queue_upgrades().await?
                + self.queue_summary_layout_upgrade().await?
                + self.queue_rekeys().await?;
            if queued > 0 {
                report.merge(self.push_locked().await?);
            }
        }
        Ok(report)
    }

    pub async fn push(&self) -> Result<SyncReport, SyncError> {
        let _guard = self.lock.lock().await;
        self.push_locked().await
    }

    pub async fn pull(&self) -> Result<SyncReport, SyncError> {
        let _guard = self.lock.lock().await;
        self.pull_locked().await
    }

    /// Sends the queue; then, if that applied changes, this device's
    /// summary of the buckets they fell in.
    async fn push_locked(&self) -> Result<SyncReport, SyncError> {
        let (mut report, changed) = self.push_queue().await?;
        if report.offline.is_none() && !changed.is_empty() {
            self.queue_summaries(&summary::buckets_of(changed)).await?;
            report.merge(self.push_queue().await?.0);
        }
        Ok(report)
    }

    /// Sends every queued command it can; also returns the records whose
    /// changes (not summaries) were applied.
    async fn push_queue(&self) -> Result<(SyncReport, Vec<Uuid>), SyncError> {
        let mut changed = Vec::new();
        let pending = self.cache.pending().await?;
        let pending = self.reseal_queued_format_1(pending).await?;
        let pending = self.rekey_queued(pending).await?;
        let mut report = SyncReport::default();
        // Records whose earlier command is still unresolved this round.
        let mut blocked: HashSet<Uuid> = HashSet::new();
        let mut reachable = self.session.is_online();
        let mut rebased = false;
        for op in pending {
            if blocked.contains(&op.record_id) {
                continue;
            }
            let Some(command) = command(&op) else {
                blocked.insert(op.record_id);
                continue;
            };
            if !op.sent {
                // Once a send is attempted the command is frozen (the server
                // may apply it even if the answer is lost), so make sure the
                // server is there first: a change made offline then stays
                // open to coalescing until it can really go out.
                if !reachable {
                    if let Err(err) = self.session.ping().await {
                        if err.is_retryable() {
                            report.offline = Some(err.to_string());
                            break;
                        }
                        return Err(err.into());
                    }
                    reachable = true;
                }
                self.cache.mark_sent(op.seq).await?;
            }
            let outcome = match self.session.submit(command, true).await {
                Ok(outcome) => outcome,
                Err(err) if err.is_retryable() => {
                    report.offline = Some(err.to_string());
                    break;
                }
                Err(err @ (ApiError::RecordTooLarge { .. } | ApiError::InvalidArgument { .. })) => {
                    // Refused before it reached the vault: it can never apply.
                    let dropped = self.cache.finish_rejected(&op).await?;
                    tracing::warn!(record_id = %op.record_id, dropped, %err, "command refused");
                    report.rejected.push(Rejection {
                        record_id: op.record_id,
                        message: err.to_string(),
                    });
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let Some(result) = outcome.and_then(|o| o.result) else {
                // Accepted but not applied within the server's wait: the
                // outcome will come; resending the same id is safe.
                blocked.insert(op.record_id);
                report.unconfirmed += 1;
                continue;
            };
            match result {
                v1::command_outcome::Result::Applied(applied) => {
                    self.cache.finish_applied(&op, applied.revision).await?;
                    if !is_summary_kind(op.kind) {
                        report.applied += 1;
                        changed.push(op.record_id);
                    }
                }
                v1::command_outcome::Result::Conflict(conflict) => {
                    let theirs = conflict.current.ok_or_else(|| {
                        ApiError::Protocol("a conflict outcome without the current record".into())
                    })?;
                    let theirs = StoredRecord::from_proto(theirs)?;
                    let Some(theirs) = self.checked_theirs(theirs, &mut report).await? else {
                        blocked.insert(op.record_id);
                        continue;
                    };
                    let unchanged = self.only_resealed(&op, &theirs).await?;
                    let merged = if unchanged {
                        None
                    } else {
                        self.merged(&op, &theirs).await?
                    };
                    self.cache.finish_conflict(&op, &theirs).await?;
                    if unchanged {
                        // Mine goes on top of theirs, sent in the next round.
                        self.resolve_locked(op.record_id, Resolution::KeepMine, None)
                            .await?;
                        tracing::info!(record_id = %op.record_id, "rebased on a re-seal");
                        blocked.insert(op.record_id);
                        rebased = true;
                        continue;
                    }
                    if let Some(merged) = merged
                        && self.resolve_merged(op.record_id, &merged).await?
                    {
                        // Different fields changed: the merge goes on top
                        // of theirs, sent in the next round.
                        tracing::info!(record_id = %op.record_id, "merged field by field");
                        blocked.insert(op.record_id);
                        rebased = true;
                        continue;
                    }
                    tracing::info!(record_id = %op.record_id, "conflict");
                    report.conflicts.push(op.record_id);
                }
                v1::command_outcome::Result::Rejected(rejected) => {
                    self.cache.finish_rejected(&op).await?;
                    report.rejected.push(Rejection {
                        record_id: op.record_id,
                        message: rejected.message,
                    });
                }
            }
        }
        report.pending = self.cache.pending_count().await?;
        if rebased && report.offline.is_none() {
            let (again, more) = Box::pin(self.push_queue()).await?;
            report.merge(again);
            changed.extend(more);
        }
        Ok((report, changed))
    }

    async fn pull_locked(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let state = self.cache.sync_state().await?;
        // Summaries that came in, checked once the pull is complete.
        let mut pulled = PulledSummaries::default();
        let recheck_from =
            (state.summaries_checked < state.cursor).then_some(state.summaries_checked);
        let mut since = state.cursor;
        let mut min_revision = state.seen_revision;
        loop {
            let page = match self.session.changes(since, min_revision).await {
                Ok(page) => page,
                Err(err) if err.is_retryable() => {
                    report.offline = Some(err.to_string());
                    break;
                }
                Err(err) => return Err(err.into()),
            };
            let records = page
                .records
                .into_iter()
                .map(StoredRecord::from_proto)
                .collect::<Result<Vec<_>, _>>()?;
            report.pulled += records.iter().filter(|r| !is_summary(r)).count();
            let (records, mut alerts) = self.check_page(records, &mut pulled).await?;
            for alert in &alerts {
                tracing::warn!(record_id = %alert.record_id, what = ?alert.what, "refused a record");
            }
            let entries: Vec<SummaryEntry> =
                records.iter().map(StoredRecord::summary_entry).collect();
            pulled.note_stored(&records, &entries);
            // A server must move the cursor forward while it has more.
            let complete = !page.has_more || page.next_since_revision <= since;
            if complete {
                // Checked before the last page is stored, so that the page,
                // what the check found and "checked" are one commit.
                alerts.extend(
                    self.check_summaries(&pulled, recheck_from, &records)
                        .await?,
                );
            }
            self.cache
                .apply_changes(
                    &records,
                    &entries,
                    &alerts,
                    page.next_since_revision,
                    complete.then(now_ms),
                )
                .await?;
            report.tampered.extend(alerts);
            if complete {
                break;
            }
            since = page.next_since_revision;
            min_revision = 0;
        }
        // A pull does not touch the queue: the count read with the state.
        report.pending = state.pending;
        Ok(report)
    }

    /// Everything the server holds for this user now, page by page, without
    /// touching the cache; `None` when the server cannot be reached.
    pub async fn server_view(&self) -> Result<Option<Vec<StoredRecord>>, SyncError> {
        let mut records = Vec::new();
        let mut since = 0;
        loop {
            let page = match self.session.changes(since, 0).await {
                Ok(page) => page,
                Err(err) if err.is_retryable() => return Ok(None),
                Err(err) => return Err(err.into()),
            };
            for record in page.records {
                records.push(StoredRecord::from_proto(record)?);
            }
            if !page.has_more || page.next_since_revision <= since {
                return Ok(Some(records));
            }
            since = page.next_since_revision;
        }
    }

    /// The server's side of a conflict, checked like a pulled record: if
    /// refused, this device's trusted copy stands in for it (under the
    /// server's revision, so "keep mine" replaces what the server holds).
    /// `None` when it is refused and there is no trusted copy: the command
    /// stays queued.
    async fn checked_theirs(
        &self,
        theirs: StoredRecord,
        report: &mut SyncReport,
    ) -> Result<Option<StoredRecord>, SyncError> {
        let known = self.cache.record(theirs.id).await?;
        let Err(alert) = self.sealer.check(&theirs, known.as_ref()) else {
            return Ok(Some(theirs));
        };
        tracing::warn!(record_id = %alert.record_id, what = ?alert.what, "refused a record");
        self.cache.add_tamper_alert(&alert).await?;
        report.tampered.push(alert);
        Ok(known.map(|trusted| StoredRecord {
            revision: theirs.revision,
            ..trusted
        }))
    }

    /// Splits a page into what may enter the mirror and what is refused,
    /// each record checked against the mirror (a page holds each record at
    /// most once: `Changes` serves the current row of each).
    async fn check_page(
        &self,
        records: Vec<StoredRecord>,
        pulled: &mut PulledSummaries,
    ) -> Result<(Vec<StoredRecord>, Vec<TamperAlert>), SyncError> {
        let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
        let known: HashMap<Uuid, StoredRecord> = self
            .cache
            .records(&ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        for copy in known.values() {
            pulled.note_previous(copy);
        }
        let mut accepted = Vec::with_capacity(records.len());
        let mut refused = Vec::new();
        for record in records {
            let trusted = known.get(&record.id);
            if trusted.is_some_and(|t| t.revision >= record.revision) {
                // An old page again: the mirror never moves back anyway.
                continue;
            }
            match (self.sealer.check(&record, trusted), trusted) {
                (Ok(()), _) => accepted.push(record),
                (Err(alert), Some(trusted)) => {
                    // Keep the content this device trusts, under the
                    // server's new revision: the revision is only the
                    // server's compare-and-swap token, and taking it lets
                    // this device's next edit replace what the server holds
                    // by a version above it.
                    accepted.push(StoredRecord {
                        revision: record.revision,
                        ..trusted.clone()
                    });
                    refused.push(alert);
                }
                (Err(alert), None) => refused.push(alert),
            }
        }
        Ok((accepted, refused))
    }
}

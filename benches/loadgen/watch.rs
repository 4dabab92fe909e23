//! Live `Watch` streams, and the time from a command on one device to its
//! event on the other devices of the same user.
//!
//! The issuing device learns the revision only when `Submit` returns, and
//! the event may arrive before that, so both sides meet in a per-user table
//! keyed by (record id, revision): whichever comes second makes the sample.
//! Both instants come from this process's monotonic clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::vault_client::VaultClient;
use tonic::transport::Channel;
use tonic::{Request, Status, Streaming};

use crate::stats::{Series, Stats};

#[derive(Debug, Default)]
struct Pending {
    sent: Option<Instant>,
    /// Arrivals at other devices before the sender knew the revision.
    early: Vec<Instant>,
    delivered: usize,
}

/// One user's table of commands awaiting their events.
#[derive(Debug)]
pub struct Tracker {
    /// Devices of the user other than the sender: events each command
    /// should produce.
    receivers: usize,
    pending: std::sync::Mutex<HashMap<(String, u64), Pending>>,
    /// Off during set-up, so seed records are not mistaken for load.
    active: AtomicBool,
}

impl Tracker {
    pub fn new(devices: usize) -> Self {
        Self {
            receivers: devices.saturating_sub(1),
            pending: std::sync::Mutex::default(),
            active: AtomicBool::new(false),
        }
    }

    pub fn activate(&self) {
        self.active.store(true, Ordering::Release);
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u64), Pending>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A command sent at `at` was applied at `revision`.
    pub fn sent(&self, record_id: &str, revision: u64, at: Instant, stats: &Stats) {
        if self.receivers == 0 || !self.active.load(Ordering::Acquire) {
            return;
        }
        let mut table = self.table();
        let key = (record_id.to_owned(), revision);
        let entry = table.entry(key.clone()).or_default();
        entry.sent = Some(at);
        for arrived in entry.early.drain(..) {
            stats.ok(Series::WatchDelivery, arrived.saturating_duration_since(at));
            entry.delivered += 1;
        }
        if entry.delivered >= self.receivers {
            table.remove(&key);
        }
    }

    /// Another device heard of `revision` of `record_id` at `at`.
    fn seen(&self, record_id: &str, revision: u64, at: Instant, stats: &Stats) {
        if self.receivers == 0 || !self.active.load(Ordering::Acquire) {
            return;
        }
        let mut table = self.table();
        let key = (record_id.to_owned(), revision);
        let entry = table.entry(key.clone()).or_default();
        match entry.sent {
            Some(sent) => {
                stats.ok(Series::WatchDelivery, at.saturating_duration_since(sent));
                entry.delivered += 1;
                if entry.delivered >= self.receivers {
                    table.remove(&key);
                }
            }
            None => entry.early.push(at),
        }
    }

    /// Events that applied commands should have produced but that no
    /// device received by now.
    pub fn missing(&self) -> u64 {
        self.table()
            .values()
            .filter(|p| p.sent.is_some())
            .map(|p| (self.receivers - p.delivered.min(self.receivers)) as u64)
            .sum()
    }
}

/// Opens a `Watch` stream and waits for its `subscribed` message, so that
/// every change made afterwards is known to reach it.
pub async fn subscribe(
    vault: &mut VaultClient<Channel>,
    request: Request<v1::WatchRequest>,
) -> Result<Streaming<v1::WatchEvent>, Status> {
    let mut stream = vault.watch(request).await?.into_inner();
    match stream.message().await? {
        Some(v1::WatchEvent {
            event: Some(v1::watch_event::Event::Subscribed(_)),
            ..
        }) => Ok(stream),
        other => Err(Status::internal(format!(
            "expected `subscribed` first on Watch, got {other:?}"
        ))),
    }
}

/// Reads one device's stream until it ends; every way it can end while the
/// run is going is an error of the run.
pub async fn read(
    mut stream: Streaming<v1::WatchEvent>,
    own_session: String,
    tracker: Arc<Tracker>,
    stats: Arc<Stats>,
    live: Arc<AtomicUsize>,
) {
    let ended = loop {
        match stream.message().await {
            Ok(Some(event)) => {
                let at = Instant::now();
                match event.event {
                    Some(v1::watch_event::Event::Change(change))
                        if event.origin_session_id != own_session =>
                    {
                        tracker.seen(&change.record_id, change.revision, at, &stats);
                    }
                    Some(v1::watch_event::Event::Resync(_)) => {
                        stats.other_error("watch: resync (events dropped)".into());
                    }
                    _ => {}
                }
            }
            Ok(None) => break "watch: stream ended".to_owned(),
            Err(status) => break format!("watch: {:?}", status.code()),
        }
    };
    live.fetch_sub(1, Ordering::Relaxed);
    stats.other_error(ended);
}

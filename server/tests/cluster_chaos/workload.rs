//! The workload the drills run under: each user updates its one record in
//! order, one command at a time, and reads it back every few commands.
//!
//! A client here behaves as the real one does: it resends the same command
//! id until it gets an outcome (always safe: the consumer recognises a
//! command it has applied), and moves on to the next command only then.
//! Every call is timed; a call that takes longer than the hung limit is
//! counted as hung.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gophkeeper_proto::v1;
use tonic::{Code, Status};

use crate::helpers::{Device, TestApp, create_cmd, update_cmd};

/// How many calls failed one way, and the slowest of them.
pub type Tally = (u64, Duration);

pub struct Stats {
    /// Commands acknowledged, per user.
    by_user: Vec<AtomicU64>,
    /// Submit calls, first sends and resends.
    pub sent: AtomicU64,
    /// Commands whose outcome (applied) the client received.
    pub acknowledged: AtomicU64,
    /// Submits answered "accepted, no outcome yet" (resent later).
    pub unconfirmed: AtomicU64,
    /// Successful reads.
    pub reads: AtomicU64,
    pub conflicts: AtomicU64,
    pub hung: AtomicU64,
    /// What is being done to the cluster now, and since when (errors are
    /// filed under it).
    pub phase: Mutex<(&'static str, Instant)>,
    /// Per phase and error code: how many, and the slowest.
    pub errors: Mutex<HashMap<(&'static str, Code), Tally>>,
    /// Per phase: the slowest submit that got its outcome (a fault the
    /// cluster rides through shows here rather than as errors).
    pub slowest_acknowledged: Mutex<HashMap<&'static str, Duration>>,
}

impl Stats {
    pub fn new(users: usize) -> Self {
        Self {
            by_user: (0..users).map(|_| AtomicU64::new(0)).collect(),
            sent: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            unconfirmed: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
            hung: AtomicU64::new(0),
            phase: Mutex::new(("steady", Instant::now())),
            errors: Mutex::default(),
            slowest_acknowledged: Mutex::default(),
        }
    }

    pub fn acknowledged_by_user(&self) -> Vec<u64> {
        self.by_user
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }

    /// Files an error under the current phase. How long it took counts
    /// from the call's start or from the fault, whichever came later: a
    /// call that had been waiting before the process died is judged by how
    /// soon it learnt.
    fn error(&self, status: &Status, started: Instant) {
        let (phase, since) = *self.phase.lock().unwrap();
        let took = started.max(since).elapsed();
        let mut errors = self.errors.lock().unwrap();
        let entry = errors
            .entry((phase, status.code()))
            .or_insert((0, Duration::ZERO));
        entry.0 += 1;
        entry.1 = entry.1.max(took);
    }

    /// Files an acknowledged submit's time under the current phase.
    fn acknowledged_after(&self, took: Duration) {
        let phase = self.phase.lock().unwrap().0;
        let mut slowest = self.slowest_acknowledged.lock().unwrap();
        let entry = slowest.entry(phase).or_insert(Duration::ZERO);
        *entry = (*entry).max(took);
    }

    pub fn summary(&self) -> String {
        let mut errors: Vec<String> = self
            .errors
            .lock()
            .unwrap()
            .iter()
            .map(|((phase, code), (n, slowest))| {
                format!("{phase}: {code:?} x{n} (slowest {slowest:?})")
            })
            .collect();
        errors.sort();
        let mut slowest: Vec<String> = self
            .slowest_acknowledged
            .lock()
            .unwrap()
            .iter()
            .map(|(phase, took)| format!("{phase}: {took:?}"))
            .collect();
        slowest.sort();
        format!(
            "sent {} submits, {} commands acknowledged, {} unconfirmed answers, {} reads, \
             {} conflicts, {} hung; errors: {}; slowest acknowledged submit: {}",
            self.sent.load(Ordering::Relaxed),
            self.acknowledged.load(Ordering::Relaxed),
            self.unconfirmed.load(Ordering::Relaxed),
            self.reads.load(Ordering::Relaxed),
            self.conflicts.load(Ordering::Relaxed),
            self.hung.load(Ordering::Relaxed),
            if errors.is_empty() {
                "none".into()
            } else {
                errors.join(", ")
            },
            slowest.join(", ")
        )
    }
}

pub struct Workload {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<(Device, String, u64)>>,
}

impl Workload {
    pub async fn start(app: &TestApp, users: usize, stats: Arc<Stats>, hung: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for user in 0..users {
            let device = app.new_user().await;
            let client = Client {
                user,
                device,
                stats: stats.clone(),
                hung,
            };
            tasks.push(tokio::spawn(client.run(stop.clone())));
        }
        Self { stop, tasks }
    }

    /// Stops after each user's command in flight; returns each user's
    /// device, record and last acknowledged revision.
    pub async fn stop(self) -> Vec<(Device, String, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        let mut finals = Vec::new();
        for task in self.tasks {
            finals.push(task.await.unwrap());
        }
        finals
    }
}

struct Client {
    user: usize,
    device: Device,
    stats: Arc<Stats>,
    hung: Duration,
}

impl Client {
    async fn run(self, stop: Arc<AtomicBool>) -> (Device, String, u64) {
        let record = uuid::Uuid::new_v4().to_string();
        let mut revision = self
            .until_applied(create_cmd(&record, v1::RecordKind::Text, b"v1"))
            .await;
        assert_eq!(revision, 1);
        while !stop.load(Ordering::Relaxed) {
            let body = format!("v{}", revision + 1);
            let applied = self
                .until_applied(update_cmd(&record, revision, body.as_bytes()))
                .await;
            if applied == 0 {
                // A conflict, counted; the final check says what it means.
                break;
            }
            assert_eq!(applied, revision + 1, "one revision per command, in order");
            revision = applied;
            self.device.saw(revision);
            if revision % 3 == 0 {
                self.read(&record, revision).await;
            }
        }
        (self.device, record, revision)
    }

    /// Sends `command` (the same id each time) until its outcome arrives;
    /// the applied revision, or 0 for a conflict.
    async fn until_applied(&self, command: v1::Command) -> u64 {
        loop {
            self.stats.sent.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let mut vault = self.device.vault.clone();
            let call = vault.submit(self.device.req(v1::SubmitRequest {
                command: Some(command.clone()),
                wait_for_outcome: true,
            }));
            match tokio::time::timeout(self.hung, call).await {
                Err(_) => {
                    self.stats.hung.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(status)) => self.stats.error(&status, started),
                Ok(Ok(response)) => match response.into_inner().outcome.and_then(|o| o.result) {
                    Some(v1::command_outcome::Result::Applied(applied)) => {
                        self.stats.acknowledged_after(started.elapsed());
                        self.stats.acknowledged.fetch_add(1, Ordering::Relaxed);
                        self.stats.by_user[self.user].fetch_add(1, Ordering::Relaxed);
                        return applied.revision;
                    }
                    Some(_) => {
                        self.stats.conflicts.fetch_add(1, Ordering::Relaxed);
                        return 0;
                    }
                    None => {
                        self.stats.unconfirmed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                },
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reads the record back at (at least) `revision`, retrying like a
    /// client would; checks what it gets.
    async fn read(&self, record: &str, revision: u64) {
        loop {
            let started = Instant::now();
            let mut vault = self.device.vault.clone();
            let call = vault.get_records(self.device.req(v1::GetRecordsRequest {
                record_ids: vec![record.to_owned()],
                min_revision: revision,
            }));
            match tokio::time::timeout(self.hung, call).await {
                Err(_) => {
                    self.stats.hung.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(status)) => self.stats.error(&status, started),
                Ok(Ok(response)) => {
                    let records = response.into_inner().records;
                    assert_eq!(records.len(), 1);
                    assert_eq!(records[0].revision, revision);
                    self.stats.reads.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

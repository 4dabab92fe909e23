//! Fault drills on a cluster of its own: while many users keep submitting
//! commands and reading, each process of the cluster in turn is killed with
//! SIGKILL and started again (the consumer, the producer, the gateway, the
//! query service, the auth service, the broker, the vault replica).
//!
//! After the drills: every command a client saw acknowledged was applied
//! exactly once and in each user's order (revisions count up by one, the
//! content is the last update, no conflicts, the consumers' logs apply no
//! command id twice); every error a client got was a retryable one and came
//! within 2 s, and no call hung; the cluster recovered each time with no
//! step but restarting the killed process. The figures are printed.

// Test code: a failed set-up step should fail the test on the spot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../cluster/fixture.rs"]
mod fixture;
#[path = "../api/helpers.rs"]
mod helpers;
mod workload;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use helpers::*;
use tonic::Code;

use crate::workload::{Stats, Workload};

pub(crate) const TARGET: Target = Target::Cluster(fixture::gateway);

/// Users submitting at once; each holds one record it updates in order.
const USERS: usize = 24;
/// A client gives up on a call after this long and counts it as hung.
const HUNG: Duration = Duration::from_secs(12);
/// The slowest acceptable error.
const ERROR_WITHIN: Duration = Duration::from_secs(2);

/// Which counter shows that a killed process's part works again.
#[derive(Clone, Copy, Debug)]
enum Path {
    Commands,
    Reads,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_any_process_loses_nothing_and_clients_get_fast_retryable_errors() {
    let cluster = fixture::get();
    let app = spawn_app().await;
    let stats = Arc::new(Stats::new(USERS));
    let workload = Workload::start(&app, USERS, stats.clone(), HUNG).await;
    wait_for_progress(&stats, Path::Commands, Duration::from_secs(60)).await;

    // No broker drill: tansu 0.6, the Kafka-API broker these machines can
    // run, does not survive a restart under an idempotent producer (after
    // SIGKILL or SIGTERM alike, its storage task panics in
    // `idempotent_message_check` at the producer's next send and the broker
    // stops delivering); see docs/cluster.md. Apache Kafka is built for it.
    let drills = [
        ("consumer0", "kill", Path::Commands),
        ("producer", "kill", Path::Commands),
        ("gateway", "kill", Path::Commands),
        ("query", "kill", Path::Reads),
        ("auth", "kill", Path::Commands),
        ("pg-replica", "kill", Path::Reads),
    ];
    let mut report = Vec::new();
    for (name, how, path) in drills {
        // A spell of normal work between drills.
        tokio::time::sleep(Duration::from_secs(4)).await;

        *stats.phase.lock().unwrap() = (name, Instant::now());
        let output = cluster.script(&[how, name]);
        assert!(output.status.success(), "{how} {name}: {output:?}");
        let killed = Instant::now();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let output = cluster.script(&["start", name]);
        assert!(
            output.status.success(),
            "start {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let started = Instant::now();
        wait_for_progress(&stats, path, Duration::from_secs(90)).await;
        report.push(format!(
            "{how} {name:>10}: working again {:.1} s after the restart ({:.1} s after the {how})",
            started.elapsed().as_secs_f64(),
            killed.elapsed().as_secs_f64()
        ));
    }
    let finals = tokio::time::timeout(Duration::from_secs(60), workload.stop())
        .await
        .unwrap_or_else(|_| panic!("users' last commands never applied: {}", stats.summary()));

    println!("{}", stats.summary());
    for line in &report {
        println!("{line}");
    }
    assert_eq!(stats.hung.load(Ordering::Relaxed), 0, "{}", stats.summary());
    assert_eq!(
        stats.conflicts.load(Ordering::Relaxed),
        0,
        "a command applied twice or out of order shows as a conflict: {}",
        stats.summary()
    );
    let errors = stats.errors.lock().unwrap().clone();
    for ((phase, code), (count, slowest)) in &errors {
        assert!(
            retryable(*code) || (*phase == "gateway" && connection_lost(*code)),
            "{phase}: {count} calls failed with {code:?}: not a retryable code"
        );
        assert!(
            *slowest <= ERROR_WITHIN,
            "{phase}: a {code:?} error took {slowest:?}"
        );
    }
    assert!(
        !errors.is_empty(),
        "killing processes gave no client an error: the drill did not bite"
    );

    // The state: each user's record holds its last acknowledged update at
    // the revision that counts every acknowledged command once.
    for (device, record, revision) in &finals {
        device.saw(*revision);
        let changes = device.changes(0).await.unwrap();
        assert_eq!(changes.current_revision, *revision, "{}", device.user_id);
        assert_eq!(changes.records.len(), 1);
        assert_eq!(changes.records[0].id, *record);
        assert_eq!(
            changes.records[0].ciphertext,
            format!("v{revision}").as_bytes()
        );
    }
    let acknowledged: u64 = finals.iter().map(|(_, _, revision)| revision).sum();
    let applied = applied_once(cluster);
    assert_eq!(
        applied, acknowledged,
        "commands applied (consumer logs) vs acknowledged (creates + updates)"
    );
}

/// Codes that tell a client "try again": nothing was done wrong.
fn retryable(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted
    )
}

/// What a client's own gRPC stack reports when the process it talks to
/// dies mid-call: no server is left to send a status.
fn connection_lost(code: Code) -> bool {
    matches!(code, Code::Unknown | Code::Cancelled)
}

/// Waits until every user has had a command acknowledged (or, for reads,
/// until as many reads as users have succeeded) since the call.
async fn wait_for_progress(stats: &Stats, path: Path, within: Duration) {
    let done = || -> Vec<u64> {
        match path {
            Path::Commands => stats.acknowledged_by_user(),
            Path::Reads => vec![stats.reads.load(Ordering::Relaxed) / USERS as u64],
        }
    };
    let from = done();
    let deadline = Instant::now() + within;
    while !done().iter().zip(&from).all(|(now, then)| now > then) {
        assert!(
            Instant::now() < deadline,
            "{path:?} made no progress for every user in {within:?}: {}",
            stats.summary()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Counts the commands the consumers' logs say were applied (not
/// recognised as duplicates), asserting no command id was applied twice.
fn applied_once(cluster: &fixture::Cluster) -> u64 {
    let mut applied = BTreeSet::new();
    let mut redelivered = 0;
    let logs = cluster.log("consumer0") + &cluster.log("consumer1");
    for line in logs.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if entry["fields"]["message"] != "command handled" {
            continue;
        }
        if entry["fields"]["duplicate"] == true {
            redelivered += 1;
            continue;
        }
        let id = entry["fields"]["command_id"].as_str().unwrap().to_owned();
        assert!(applied.insert(id.clone()), "command {id} applied twice");
    }
    println!(
        "{} commands applied once each; {redelivered} redeliveries recognised as duplicates",
        applied.len()
    );
    applied.len() as u64
}

//! Faults a cluster must ride out, on a cluster of its own (these stop
//! processes and pause replication, which would disturb other tests):
//! two consumers sharing the commands topic, one of them stopping, and the
//! replica falling behind.

// Test code: a failed set-up step should fail the test on the spot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../cluster/fixture.rs"]
mod fixture;
#[path = "../api/helpers.rs"]
mod helpers;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use gophkeeper_proto::v1;
use helpers::*;
use sqlx::Connection;
use tonic::Code;

pub(crate) const TARGET: Target = Target::Cluster(fixture::gateway);

/// A killed consumer, restarted, applies what waited for it within this.
const RESTART_RESUMES_WITHIN: Duration = Duration::from_secs(9);

/// The "command handled" log entries of the consumer called `name`.
fn handled_by(name: &str) -> Vec<serde_json::Value> {
    fixture::get()
        .log(name)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["fields"]["message"] == "command handled")
        .collect()
}

/// User ids the consumer called `name` handled commands for.
fn users_handled_by(name: &str) -> BTreeSet<String> {
    handled_by(name)
        .iter()
        .filter_map(|entry| entry["fields"]["user_id"].as_str().map(str::to_owned))
        .collect()
}

/// Across both consumers' whole logs, no command id was applied (as opposed
/// to recognised as a duplicate) twice.
fn assert_each_command_applied_once() {
    let mut applied = BTreeSet::new();
    let mut redelivered = 0;
    for name in ["consumer0", "consumer1"] {
        for entry in handled_by(name) {
            if entry["fields"]["duplicate"] == true {
                redelivered += 1;
                continue;
            }
            let id = entry["fields"]["command_id"].as_str().unwrap().to_owned();
            assert!(applied.insert(id.clone()), "command {id} applied twice");
        }
    }
    println!(
        "{} commands applied once each; {redelivered} redeliveries recognised",
        applied.len()
    );
}

/// Submits `command` until it has an outcome: across a rebalance the wait
/// may run out, and resending the same command id is always safe.
async fn submit_until_applied(device: &Device, command: v1::Command) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let response = device
            .vault
            .clone()
            .submit(device.req(v1::SubmitRequest {
                command: Some(command.clone()),
                wait_for_outcome: true,
            }))
            .await;
        match response.map(|r| r.into_inner().outcome) {
            Ok(Some(outcome)) => {
                let revision = applied(&outcome);
                device.saw(revision);
                return revision;
            }
            Ok(None) => {}
            Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        }
        assert!(Instant::now() < deadline, "command never applied");
    }
}

/// Each user's record moves from revision `from` to `to` - 1, one update
/// at a time; users run concurrently.
async fn updates(users: &[(Device, String)], revisions: std::ops::Range<u64>) {
    let mut tasks = Vec::new();
    for (device, record) in users {
        let (device, record) = (device.clone(), record.clone());
        let revisions = revisions.clone();
        tasks.push(tokio::spawn(async move {
            for base in revisions {
                let body = format!("v{}", base + 1);
                let revision =
                    submit_until_applied(&device, update_cmd(&record, base, body.as_bytes())).await;
                assert_eq!(revision, base + 1, "one revision per command, in order");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// Every user holds exactly one record at revision `revision`, whose content
/// is the last update: nothing lost, nothing applied twice.
async fn assert_state(users: &[(Device, String)], revision: u64) {
    for (device, record) in users {
        let changes = device.changes(0).await.unwrap();
        assert_eq!(changes.current_revision, revision, "{}", device.user_id);
        assert_eq!(changes.records.len(), 1);
        assert_eq!(changes.records[0].id, *record);
        assert_eq!(
            changes.records[0].ciphertext,
            format!("v{revision}").as_bytes()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_share_partitions_and_fail_over_and_replica_lag_is_waited_out() {
    let cluster = fixture::get();
    let app = spawn_app().await;
    let mut users = Vec::new();
    for _ in 0..24 {
        let device = app.new_user().await;
        let record = uuid::Uuid::new_v4().to_string();
        let revision =
            submit_until_applied(&device, create_cmd(&record, v1::RecordKind::Text, b"v1")).await;
        assert_eq!(revision, 1);
        users.push((device, record));
    }
    updates(&users, 1..5).await;
    assert_state(&users, 5).await;

    // Both members of the group got partitions.
    let first = users_handled_by("consumer0");
    let second = users_handled_by("consumer1");
    assert!(
        !first.is_empty() && !second.is_empty(),
        "{first:?} / {second:?}"
    );

    // Stop one: its partitions move to the other, nothing is lost.
    let output = cluster.script(&["stop", "consumer0"]);
    assert!(output.status.success());
    let moved = first.clone();
    updates(&users, 5..10).await;
    assert_state(&users, 10).await;
    let after = users_handled_by("consumer1");
    assert!(
        moved.is_subset(&after),
        "consumer1 took over consumer0's users"
    );

    // Bring it back, then kill the other without warning (mid-stream, no
    // goodbye to the group) and restart it, as an operator or a supervisor
    // would: commands accepted meanwhile wait in the topic and apply once.
    // The restarted consumer comes back under its group.instance.id and
    // takes its old place without waiting for the broker to time out the
    // dead one (docs/cluster.md, "Consumer restarts").
    let output = cluster.script(&["start", "consumer0"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A round through every partition: the group has settled after the join.
    updates(&users, 10..11).await;
    let output = cluster.script(&["kill", "consumer1"]);
    assert!(output.status.success());
    let killed_at = Instant::now();
    let pending = tokio::spawn({
        let users = users.clone();
        async move { updates(&users, 11..13).await }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let output = cluster.script(&["start", "consumer1"]);
    assert!(output.status.success());
    let restarted_at = Instant::now();
    pending.await.unwrap();
    assert_state(&users, 13).await;
    let (since_kill, since_restart) = (killed_at.elapsed(), restarted_at.elapsed());
    println!(
        "after kill -9 and restart of a consumer, every command applied within \
         {since_kill:?} of the kill, {since_restart:?} of the restart"
    );
    // 16 s before static membership (a settle timer waited out the dead
    // member's session); tansu alone now holds a returning static member
    // for 6 s (see docs/cluster.md).
    assert!(
        since_restart < RESTART_RESUMES_WITHIN,
        "commands resumed {since_restart:?} after the restart"
    );

    assert_each_command_applied_once();
    replica_lag_is_waited_out(&users[0].0).await;
}

/// With replay paused on the replica, a query for a revision it lacks waits
/// and answers once replay resumes; if replay stays paused it answers
/// UNAVAILABLE, never stale data and never from the primary.
async fn replica_lag_is_waited_out(device: &Device) {
    let cluster = fixture::get();
    let mut replica = sqlx::PgConnection::connect(cluster.value("PG_LOCAL_REPLICA_ADMIN_URL"))
        .await
        .unwrap();
    let pause = "SELECT pg_wal_replay_pause()";
    let resume = "SELECT pg_wal_replay_resume()";

    sqlx::query(pause).execute(&mut replica).await.unwrap();
    let (record, revision) = device.create(v1::RecordKind::Text, b"lagging").await;
    let resumer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sqlx::query(resume).execute(&mut replica).await.unwrap();
        replica
    });
    let answer = device
        .vault
        .clone()
        .get_records(device.req(v1::GetRecordsRequest {
            record_ids: vec![record.clone()],
            min_revision: revision,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        answer.records.len(),
        1,
        "answered after the replica caught up"
    );
    assert!(answer.current_revision >= revision);
    let mut replica = resumer.await.unwrap();

    sqlx::query(pause).execute(&mut replica).await.unwrap();
    let (record, revision) = device.create(v1::RecordKind::Text, b"stuck").await;
    let status = device
        .vault
        .clone()
        .get_records(device.req(v1::GetRecordsRequest {
            record_ids: vec![record.clone()],
            min_revision: revision,
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unavailable, "REPLICA_BEHIND");
    sqlx::query(resume).execute(&mut replica).await.unwrap();
    let records = device.get(&[&record]).await.unwrap();
    assert_eq!(records[0].ciphertext, b"stuck");
}

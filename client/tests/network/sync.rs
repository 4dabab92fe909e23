//! Two devices of one user: changes travel by sync and live by Watch; the
//! server going away leaves the cache readable and the queue intact; a
//! command resent after its outcome was lost applies once.

use gophkeeper_client::internals::{NewOp, OpKind};
use gophkeeper_client::vault::{EntryState, SyncEvent};
use gophkeeper_proto::v1::command_outcome::Result as Outcome;

use crate::helpers::{Device, TestServer, eventually, note, text_of, wait_for};

#[tokio::test]
async fn two_devices_see_each_others_changes_by_sync_and_live() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let mut vault_a = a.register(&server, "alice").await;
    let vault_b = b.login(&server, "alice").await;

    // By explicit sync.
    let saved = vault_a.add(&note("shared", "v1")).await.unwrap();
    let id = saved.record_id;
    let report = vault_b.sync().await.unwrap();
    assert_eq!(report.pulled, 1);
    assert_eq!(text_of(&vault_b.get("shared").await.unwrap().item), "v1");
    vault_b.edit(id, &note("shared", "v2")).await.unwrap();
    vault_a.sync().await.unwrap();
    assert_eq!(text_of(&vault_a.get("shared").await.unwrap().item), "v2");

    // Live: A watches while B edits, adds and deletes.
    let mut events = vault_a.watch();
    wait_for(&mut events, |e| matches!(e, SyncEvent::Connected(_))).await;
    vault_b.edit(id, &note("shared", "v3")).await.unwrap();
    let other = vault_b.add(&note("second", "x")).await.unwrap().record_id;
    eventually("A sees B's edit and add live", || async {
        let list = vault_a.list().await.unwrap();
        list.len() == 2 && list.iter().any(|e| e.id == id && text_of(&e.item) == "v3")
    })
    .await;
    assert!(vault_a.status().await.unwrap().watching);
    vault_b.delete(other).await.unwrap();
    eventually("A sees B's delete live", || async {
        vault_a.list().await.unwrap().len() == 1
    })
    .await;
    // And the other way: B deletes nothing A did not see; A's own delete
    // reaches B.
    vault_a.delete(id).await.unwrap();
    vault_b.sync().await.unwrap();
    assert!(vault_b.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn offline_reads_work_writes_queue_and_reach_the_other_device_after_restart() {
    let mut server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let mut vault_a = a.register(&server, "bob").await;
    let vault_b = b.login(&server, "bob").await;
    let kept = vault_a
        .add(&note("kept", "before"))
        .await
        .unwrap()
        .record_id;
    let mut events = vault_a.watch();
    wait_for(&mut events, |e| matches!(e, SyncEvent::Connected(_))).await;

    server.stop().await;
    wait_for(&mut events, |e| matches!(e, SyncEvent::Offline { .. })).await;
    assert_eq!(vault_a.list().await.unwrap().len(), 1);
    assert_eq!(text_of(&vault_a.get("kept").await.unwrap().item), "before");

    // Offline is not an error: the change is queued and says so.
    let saved = vault_a.add(&note("offline", "made offline")).await.unwrap();
    assert!(saved.report.offline.is_some(), "{:?}", saved.report);
    assert_eq!(saved.report.pending, 1);
    // Edit the queued create and an existing record while offline.
    vault_a
        .edit(saved.record_id, &note("offline", "edited offline"))
        .await
        .unwrap();
    vault_a.edit(kept, &note("kept", "after")).await.unwrap();
    let entry = vault_a.get("offline").await.unwrap();
    assert_eq!(entry.state, EntryState::Pending);
    assert_eq!(text_of(&entry.item), "edited offline");
    let status = vault_a.status().await.unwrap();
    assert_eq!(status.pending, 2);
    assert!(!status.online);

    // The watch task reconnects by itself and pushes the queue.
    server.restart().await;
    wait_for(&mut events, |e| matches!(e, SyncEvent::Connected(_))).await;
    eventually("A's queue drains", || async {
        vault_a.status().await.unwrap().pending == 0
    })
    .await;
    assert_eq!(
        vault_a.get("offline").await.unwrap().state,
        EntryState::Synced
    );

    vault_b.sync().await.unwrap();
    let entry = vault_b.get("offline").await.unwrap();
    assert_eq!(text_of(&entry.item), "edited offline");
    assert_eq!(text_of(&vault_b.get("kept").await.unwrap().item), "after");
}

#[tokio::test]
async fn a_command_resent_after_its_outcome_was_lost_applies_once() {
    let server = TestServer::start().await;
    let device = Device::new();
    let vault = device.register(&server, "carol").await;
    let engine = vault.engine().clone();
    let session = engine.session().clone();

    // Queue a change by hand (the content is opaque to sync) and send it
    // once, dropping the answer, as if the connection died before the
    // outcome arrived.
    let id = uuid::Uuid::new_v4();
    engine
        .cache()
        .enqueue(&NewOp {
            record_id: id,
            kind: 2,
            op: OpKind::Create,
            ciphertext: Some(vec![0xAA; 64]),
            base_revision: None,
        })
        .await
        .unwrap();
    let queued = engine.cache().pending().await.unwrap().remove(0);
    engine.cache().mark_sent(queued.seq).await.unwrap();
    let command = queued.to_command().unwrap();
    let before = session.changes(0, 0).await.unwrap().current_revision;
    let first = session.submit(command.clone(), true).await.unwrap();
    let first_revision = match first.and_then(|o| o.result) {
        Some(Outcome::Applied(a)) => a.revision,
        other => panic!("expected applied, got {other:?}"),
    };
    assert_eq!(first_revision, before + 1);

    // The engine still has it queued and sends the same command id again.
    let report = engine.push().await.unwrap();
    assert_eq!((report.applied, report.pending), (1, 0));
    let changes = session.changes(0, 0).await.unwrap();
    let served = changes.records.iter().find(|r| r.id == id.to_string());
    assert_eq!(served.unwrap().revision, first_revision, "applied twice");
    assert_eq!(
        changes
            .records
            .iter()
            .filter(|r| r.id == id.to_string())
            .count(),
        1
    );
    assert_eq!(
        engine.cache().record(id).await.unwrap().unwrap().revision,
        first_revision
    );
}

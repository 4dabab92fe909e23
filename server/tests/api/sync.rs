//! Two devices of one user: `Watch` and changes-since carry every change.

use gophkeeper_proto::v1;
use tonic::codec::Streaming;

use crate::helpers::*;

pub async fn watch(device: &Device) -> Streaming<v1::WatchEvent> {
    let mut stream = device
        .vault
        .clone()
        .watch(device.req(v1::WatchRequest {}))
        .await
        .unwrap()
        .into_inner();
    let first = next_event(&mut stream).await;
    assert!(matches!(
        first.event,
        Some(v1::watch_event::Event::Subscribed(_))
    ));
    stream
}

async fn next_event(stream: &mut Streaming<v1::WatchEvent>) -> v1::WatchEvent {
    tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("an event within 5 s")
        .unwrap()
        .expect("stream still open")
}

fn change(event: v1::WatchEvent) -> (v1::RecordChange, String) {
    match event.event {
        Some(v1::watch_event::Event::Change(change)) => (change, event.origin_session_id),
        other => panic!("expected a change, got {other:?}"),
    }
}

#[tokio::test]
async fn create_update_delete_on_one_device_reach_the_other_live_and_by_sync() {
    let app = spawn_app().await;
    let laptop = app.new_user().await;
    let phone = app.device(&laptop.username).await;
    let stranger = app.new_user().await;
    let mut phone_events = watch(&phone).await;
    let mut stranger_events = watch(&stranger).await;

    let (record, r1) = laptop.create(v1::RecordKind::Login, b"v1").await;
    let (seen, origin) = change(next_event(&mut phone_events).await);
    phone.saw(seen.revision);
    assert_eq!(
        (seen.record_id.as_str(), seen.revision, seen.deleted),
        (record.as_str(), r1, false)
    );
    assert_eq!(seen.kind, v1::RecordKind::Login as i32);
    assert_eq!(origin, laptop.session_id);
    let synced = phone.changes(0).await.unwrap();
    assert_eq!(synced.records.len(), 1);
    assert_eq!(synced.records[0].ciphertext, b"v1");
    assert_eq!(synced.next_since_revision, r1);

    let r2 = applied(&laptop.submit(update_cmd(&record, r1, b"v2")).await.unwrap());
    let (seen, _) = change(next_event(&mut phone_events).await);
    assert_eq!(seen.revision, r2);
    phone.saw(seen.revision);
    let delta = phone.changes(r1).await.unwrap();
    assert_eq!(delta.records.len(), 1);
    assert_eq!(delta.records[0].ciphertext, b"v2");

    let r3 = applied(&laptop.submit(delete_cmd(&record, r2)).await.unwrap());
    let (seen, _) = change(next_event(&mut phone_events).await);
    assert!(seen.deleted);
    phone.saw(seen.revision);
    assert_eq!(seen.revision, r3);
    let delta = phone.changes(r2).await.unwrap();
    let tombstone = &delta.records[0];
    assert!(tombstone.deleted);
    assert!(tombstone.ciphertext.is_empty());
    assert_eq!(tombstone.revision, r3);

    // The other user heard nothing.
    assert!(
        tokio::time::timeout(
            std::time::Duration::from_millis(200),
            stranger_events.message()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn submit_without_waiting_is_acknowledged_and_applied_in_order() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let mut events = watch(&device).await;
    let record = uuid::Uuid::new_v4().to_string();
    let commands = [
        create_cmd(&record, v1::RecordKind::Text, b"a"),
        update_cmd(&record, 1, b"b"),
        update_cmd(&record, 2, b"c"),
    ];
    for command in commands {
        let response = device
            .vault
            .clone()
            .submit(device.req(v1::SubmitRequest {
                command: Some(command.clone()),
                wait_for_outcome: false,
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.command_id, command.command_id);
        assert!(response.outcome.is_none());
    }
    for expected in 1..=3 {
        assert_eq!(change(next_event(&mut events).await).0.revision, expected);
    }
    device.saw(3);
    let stored = device.get(&[&record]).await.unwrap();
    assert_eq!(stored[0].ciphertext, b"c");
}

//! The command path and the query path: invariants of docs/design.md.

use gophkeeper_proto::MAX_RECORD_BYTES;
use gophkeeper_proto::v1;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn another_user_cannot_read_update_or_delete_a_record_even_with_its_id() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mallory = app.new_user().await;
    let (record, revision) = alice.create(v1::RecordKind::Login, b"alice's secret").await;

    assert!(mallory.get(&[&record]).await.unwrap().is_empty());
    assert!(mallory.changes(0).await.unwrap().records.is_empty());
    let listed = mallory
        .vault
        .clone()
        .list_by_kind(mallory.req(v1::ListByKindRequest {
            kind: v1::RecordKind::Login as i32,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.records.is_empty());

    for command in [
        update_cmd(&record, revision, b"mallory was here"),
        delete_cmd(&record, revision),
    ] {
        let outcome = mallory.submit(command).await.unwrap();
        match outcome.result {
            Some(v1::command_outcome::Result::Rejected(rejected)) => {
                assert_eq!(rejected.reason, v1::rejected::Reason::NotFound as i32);
            }
            other => panic!("expected not found, got {other:?}"),
        }
    }
    // Creating a record with the same id makes Mallory's own record only.
    let outcome = mallory
        .submit(create_cmd(&record, v1::RecordKind::Text, b"mallory's own"))
        .await
        .unwrap();
    applied(&outcome);

    let mine = alice.get(&[&record]).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].ciphertext, b"alice's secret");
    assert_eq!(mine[0].revision, revision);
    assert_eq!(mine[0].kind, v1::RecordKind::Login as i32);
    assert_eq!(
        mallory.get(&[&record]).await.unwrap()[0].ciphertext,
        b"mallory's own"
    );
}

#[tokio::test]
async fn stale_base_revision_is_a_conflict_and_overwrites_nothing() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let (record, r1) = device.create(v1::RecordKind::Text, b"v1").await;
    let r2 = applied(&device.submit(update_cmd(&record, r1, b"v2")).await.unwrap());
    assert!(r2 > r1);

    // A second device still based on v1.
    let outcome = device
        .submit(update_cmd(&record, r1, b"v2-from-elsewhere"))
        .await
        .unwrap();
    match outcome.result {
        Some(v1::command_outcome::Result::Conflict(conflict)) => {
            let current = conflict.current.unwrap();
            assert_eq!(current.revision, r2);
            assert_eq!(current.ciphertext, b"v2");
        }
        other => panic!("expected conflict, got {other:?}"),
    }
    let outcome = device.submit(delete_cmd(&record, r1)).await.unwrap();
    assert!(matches!(
        outcome.result,
        Some(v1::command_outcome::Result::Conflict(_))
    ));
    let stored = device.get(&[&record]).await.unwrap();
    assert_eq!(stored[0].ciphertext, b"v2");
    assert_eq!(stored[0].revision, r2);
    assert!(!stored[0].deleted);
    // The conflicts took no revision: the head is still r2.
    assert_eq!(device.changes(0).await.unwrap().current_revision, r2);

    // A create reusing an existing id is a conflict too.
    let outcome = device
        .submit(create_cmd(&record, v1::RecordKind::Text, b"again"))
        .await
        .unwrap();
    assert!(matches!(
        outcome.result,
        Some(v1::command_outcome::Result::Conflict(_))
    ));
}

#[tokio::test]
async fn the_same_command_id_applies_once_and_returns_the_first_outcome() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let record = Uuid::new_v4().to_string();
    let command = create_cmd(&record, v1::RecordKind::Card, b"card");
    let first = device.submit(command.clone()).await.unwrap();
    let second = device.submit(command.clone()).await.unwrap();
    assert_eq!(first, second);

    // Same id with other content (a buggy or malicious resend): still the
    // first outcome, nothing changes.
    let mut altered = command;
    if let Some(v1::command::Op::Create(ref mut create)) = altered.op {
        create.ciphertext = b"something else".to_vec();
    }
    assert_eq!(device.submit(altered).await.unwrap(), first);

    let changes = device.changes(0).await.unwrap();
    assert_eq!(changes.records.len(), 1);
    assert_eq!(changes.records[0].ciphertext, b"card");
    assert_eq!(changes.current_revision, applied(&first));

    // An update resent after it applied must not turn into a conflict.
    let update = update_cmd(&record, applied(&first), b"card v2");
    let u1 = device.submit(update.clone()).await.unwrap();
    let u2 = device.submit(update).await.unwrap();
    assert_eq!(u1, u2);
    assert_eq!(applied(&u1), applied(&first) + 1);
}

#[tokio::test]
async fn a_record_one_byte_over_512_kib_is_refused_and_exactly_512_kib_is_stored() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let over = vec![0x5A; MAX_RECORD_BYTES + 1];
    let status = device
        .vault
        .clone()
        .submit(device.req(v1::SubmitRequest {
            command: Some(create_cmd(
                &Uuid::new_v4().to_string(),
                v1::RecordKind::Binary,
                &over,
            )),
            wait_for_outcome: true,
        }))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "RECORD_TOO_LARGE");
    assert!(
        message.contains("524289") && message.contains("512 KiB"),
        "{message}"
    );
    assert_eq!(device.changes(0).await.unwrap().current_revision, 0);

    let exact = vec![0xA5; MAX_RECORD_BYTES];
    let (record, _) = device.create(v1::RecordKind::Binary, &exact).await;
    assert_eq!(device.get(&[&record]).await.unwrap()[0].ciphertext, exact);

    // An update over the limit is refused the same way and leaves the record.
    let status = device
        .vault
        .clone()
        .submit(device.req(v1::SubmitRequest {
            command: Some(update_cmd(&record, 1, &over)),
            wait_for_outcome: true,
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "RECORD_TOO_LARGE");
    // Far past the limit, the transport refuses before any handler runs.
    let huge = vec![0; 2 << 20];
    let status = device
        .vault
        .clone()
        .submit(device.req(v1::SubmitRequest {
            command: Some(create_cmd(
                &Uuid::new_v4().to_string(),
                v1::RecordKind::Binary,
                &huge,
            )),
            wait_for_outcome: true,
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        gophkeeper_server::status::reason(&status),
        Some("REQUEST_TOO_LARGE")
    );
    assert_eq!(device.changes(0).await.unwrap().records.len(), 1);
}

#[tokio::test]
async fn malformed_commands_are_refused_before_the_broker() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let record = Uuid::new_v4().to_string();
    let cases = vec![
        (None, "command is required"),
        (
            Some(v1::Command {
                command_id: "1; DROP TABLE records".into(),
                op: create_cmd(&record, v1::RecordKind::Text, b"x").op,
            }),
            "command_id must be a UUID",
        ),
        (
            Some(v1::Command {
                command_id: Uuid::new_v4().to_string(),
                op: None,
            }),
            "one of create, update, delete",
        ),
        (
            Some(create_cmd("nope", v1::RecordKind::Text, b"x")),
            "record_id must be a UUID",
        ),
        (
            Some(create_cmd(&record, v1::RecordKind::Unspecified, b"x")),
            "kind must be",
        ),
        (
            Some(create_cmd(&record, v1::RecordKind::Text, b"")),
            "must not be empty",
        ),
        (Some(update_cmd(&record, 0, b"x")), "base_revision"),
        (Some(delete_cmd(&record, u64::MAX)), "base_revision"),
    ];
    for (command, expected) in cases {
        let status = device
            .vault
            .clone()
            .submit(device.req(v1::SubmitRequest {
                command,
                wait_for_outcome: true,
            }))
            .await
            .unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
    assert_eq!(device.changes(0).await.unwrap().current_revision, 0);
}

#[tokio::test]
async fn changes_page_through_every_revision_without_skipping() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let mut ids = Vec::new();
    for i in 0..25u8 {
        let kind = if i % 2 == 0 {
            v1::RecordKind::Login
        } else {
            v1::RecordKind::Text
        };
        ids.push(device.create(kind, &[i + 100; 100]).await.0);
    }
    // Change one early record so it moves to the end of the order.
    let moved = applied(
        &device
            .submit(update_cmd(&ids[0], 1, b"moved"))
            .await
            .unwrap(),
    );
    assert_eq!(moved, 26);

    let mut since = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = device
            .vault
            .clone()
            .changes(device.req(v1::ChangesRequest {
                since_revision: since,
                page_size: 10,
                min_revision: device.min_revision(),
            }))
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        assert!(page.records.len() <= 10);
        seen.extend(page.records.iter().map(|r| r.revision));
        since = page.next_since_revision;
        if !page.has_more {
            assert_eq!(since, 26);
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        (2..=26).collect::<Vec<u64>>(),
        "each record once, oldest change first"
    );
    assert!(device.changes(26).await.unwrap().records.is_empty());

    // By kind, page by page, ordered by id, live records only.
    device.submit(delete_cmd(&ids[2], 3)).await.unwrap();
    let mut token = String::new();
    let mut logins = Vec::new();
    loop {
        let page = device
            .vault
            .clone()
            .list_by_kind(device.req(v1::ListByKindRequest {
                kind: v1::RecordKind::Login as i32,
                page_size: 4,
                page_token: token,
                min_revision: device.min_revision(),
            }))
            .await
            .unwrap()
            .into_inner();
        logins.extend(page.records.into_iter().map(|r| r.id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let mut expected: Vec<String> = ids
        .iter()
        .step_by(2)
        .filter(|id| **id != ids[2])
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(logins, expected);
}

#[tokio::test]
async fn a_query_waits_for_min_revision_then_answers_unavailable() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let (_, revision) = device.create(v1::RecordKind::Text, b"x").await;
    let fresh = device
        .vault
        .clone()
        .changes(device.req(v1::ChangesRequest {
            since_revision: 0,
            page_size: 0,
            min_revision: revision,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fresh.records.len(), 1);

    let started = std::time::Instant::now();
    let status = device
        .vault
        .clone()
        .changes(device.req(v1::ChangesRequest {
            since_revision: 0,
            page_size: 0,
            min_revision: revision + 5,
        }))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::Unavailable, "REPLICA_BEHIND");
    assert!(message.contains("retry"), "{message}");
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(190),
        "{waited:?}"
    );
    assert!(waited < std::time::Duration::from_secs(2), "{waited:?}");
}

#[tokio::test]
async fn bad_query_input_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let mut vault = device.vault.clone();
    let status = vault
        .changes(device.req(v1::ChangesRequest {
            since_revision: u64::MAX,
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert!(
        assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT")
            .contains("since_revision")
    );
    let status = vault
        .get_records(device.req(v1::GetRecordsRequest {
            record_ids: vec!["' OR '1'='1".into()],
            min_revision: 0,
        }))
        .await
        .unwrap_err();
    assert!(
        assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT").contains("record_ids")
    );
    let status = vault
        .get_records(device.req(v1::GetRecordsRequest {
            record_ids: vec![Uuid::new_v4().to_string(); 1001],
            min_revision: 0,
        }))
        .await
        .unwrap_err();
    assert!(
        assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT").contains("at most 1000")
    );
    for (kind, token) in [(0, ""), (42, ""), (1, "not-a-uuid")] {
        let status = vault
            .list_by_kind(device.req(v1::ListByKindRequest {
                kind,
                page_size: 0,
                page_token: token.into(),
                min_revision: 0,
            }))
            .await
            .unwrap_err();
        assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    }
}

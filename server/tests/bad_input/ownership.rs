//! Another user's record and session ids. The owner of every call is the
//! token's user, so an id alone gets a caller nothing: reads leave it out,
//! writes are rejected as "not found" (the same answer as an id nobody
//! has, so ids cannot be probed), and the owner's data does not move.

use gophkeeper_proto::v1;
use tonic::Code;

use crate::fixture::*;
use crate::helpers::*;

/// What a rejected command must look like: OK at the gRPC level (the
/// command was delivered and decided), with a `rejected` outcome.
fn assert_not_found(outcome: &v1::CommandOutcome) {
    match &outcome.result {
        Some(v1::command_outcome::Result::Rejected(rejected)) => {
            assert_eq!(rejected.reason, v1::rejected::Reason::NotFound as i32);
            assert_eq!(rejected.message, "record not found");
        }
        other => panic!("expected a not-found rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn reading_another_users_record_ids_returns_nothing() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let (id, _, _) = &fx.bob_record;
    let answer = fx
        .alice
        .vault
        .clone()
        .get_records(fx.alice.req(v1::GetRecordsRequest {
            record_ids: vec![id.clone()],
            min_revision: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.records.is_empty(), "{answer:?}");
    assert_eq!(
        answer.current_revision, 0,
        "Alice's own revision, not Bob's"
    );
    let kinds = fx
        .alice
        .vault
        .clone()
        .list_by_kind(fx.alice.req(v1::ListByKindRequest {
            kind: v1::RecordKind::Login as i32,
            page_token: id.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(kinds.records.is_empty(), "{kinds:?}");
    fx.assert_unchanged(&before).await;
}

#[tokio::test]
async fn updating_or_deleting_another_users_record_is_rejected_and_moves_nothing() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let (id, revision, _) = fx.bob_record.clone();
    let attempts = [
        update_cmd(&id, revision, b"alice was here"),
        delete_cmd(&id, revision),
    ];
    for command in attempts {
        let outcome = fx.alice.submit(command).await.unwrap();
        assert_not_found(&outcome);
    }
    let after = fx.state().await;
    // Only the outcomes were remembered (so a resend gets the same answer).
    assert_eq!(
        after.without("vault.applied_commands"),
        before.without("vault.applied_commands")
    );
    assert_eq!(
        after.rows("vault.applied_commands").len(),
        before.rows("vault.applied_commands").len() + 2
    );
    let records = fx.bob.get(&[&id]).await.unwrap();
    assert_eq!(
        (
            records[0].revision,
            records[0].deleted,
            records[0].ciphertext.as_slice()
        ),
        (revision, false, BOB_SECRET)
    );
}

/// Record ids are per user: Alice making a record under Bob's id makes her
/// own record and leaves Bob's alone (no conflict that would hand her Bob's
/// ciphertext).
#[tokio::test]
async fn creating_a_record_under_another_users_id_touches_only_the_callers_vault() {
    let fx = Fixture::new().await;
    let (id, revision, _) = fx.bob_record.clone();
    let bob_before = Fixture::vault_of(&fx.bob).await;
    let outcome = fx
        .alice
        .submit(create_cmd(&id, v1::RecordKind::Login, b"alice's own"))
        .await
        .unwrap();
    assert_eq!(applied(&outcome), 1, "Alice's first revision");
    assert_eq!(
        fx.alice.get(&[&id]).await.unwrap()[0].ciphertext,
        b"alice's own"
    );
    assert_eq!(Fixture::vault_of(&fx.bob).await, bob_before);
    assert_eq!(bob_before.0, revision);
}

#[tokio::test]
async fn revoking_another_users_session_is_not_found() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let status = fx
        .alice
        .account
        .clone()
        .revoke_session(fx.alice.req(v1::RevokeSessionRequest {
            session_id: fx.bob.session_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        assert_status(&status, Code::NotFound, "SESSION_NOT_FOUND"),
        "no such session"
    );
    fx.assert_unchanged(&before).await;
    // Bob's session is live.
    fx.bob.changes(0).await.unwrap();
}

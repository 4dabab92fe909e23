//! Malformed and oversize messages, missing fields, invalid ids, and
//! revisions out of range: refused at the gateway's decoder or by the
//! command/query validation, before anything reaches the broker or storage.

use gophkeeper_proto::{MAX_RECORD_BYTES, v1};
use prost::Message;
use tonic::Code;
use uuid::Uuid;

use crate::fixture::*;
use crate::helpers::*;

const SUBMIT: &str = "/gophkeeper.v1.Vault/Submit";
const CHANGES: &str = "/gophkeeper.v1.Vault/Changes";
const LOGIN: &str = "/gophkeeper.v1.Account/Login";

fn submit_request(command: v1::Command) -> v1::SubmitRequest {
    v1::SubmitRequest {
        command: Some(command),
        wait_for_outcome: true,
    }
}

/// Submits without the retry loop of `Device::submit`: a refusal is the answer.
async fn submit(
    device: &Device,
    command: Option<v1::Command>,
) -> Result<v1::SubmitResponse, tonic::Status> {
    device
        .vault
        .clone()
        .submit(device.req(v1::SubmitRequest {
            command,
            wait_for_outcome: true,
        }))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_record_one_byte_over_512_kib_is_refused_on_create_and_on_update() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let too_big = vec![0xC7; MAX_RECORD_BYTES + 1];
    let expected = "record is 524289 bytes after encryption; the limit is 524288 bytes (512 KiB)";

    let create = create_cmd(
        &Uuid::new_v4().to_string(),
        v1::RecordKind::Binary,
        &too_big,
    );
    let status = submit(&fx.alice, Some(create)).await.unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "RECORD_TOO_LARGE");
    assert_eq!(message, expected);

    let (id, revision, _) = &fx.bob_record;
    let status = submit(&fx.bob, Some(update_cmd(id, *revision, &too_big)))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "RECORD_TOO_LARGE");
    assert_eq!(message, expected);
    fx.assert_unchanged(&before).await;
}

/// Over `gateway.max_request_bytes` (1 MiB) tonic's decoder refuses the
/// message before GophKeeper code runs; the gateway turns tonic's
/// OUT_OF_RANGE into RESOURCE_EXHAUSTED with a reason, and the message
/// names both sizes.
#[tokio::test]
async fn a_request_over_the_gateway_limit_is_refused_by_the_decoder() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let huge = create_cmd(
        &Uuid::new_v4().to_string(),
        v1::RecordKind::Binary,
        &vec![0xC7; 1 << 20],
    );
    let size = submit_request(huge.clone()).encoded_len();
    let status = submit(&fx.alice, Some(huge)).await.unwrap_err();
    let message = assert_status(&status, Code::ResourceExhausted, "REQUEST_TOO_LARGE");
    assert_eq!(
        message,
        format!(
            "Error, decoded message length too large: found {size} bytes, the limit is: 1048576 bytes"
        )
    );
    fx.assert_unchanged(&before).await;
}

/// Bytes that are not a valid protobuf message. tonic answers INTERNAL;
/// the gateway says INVALID_ARGUMENT with a reason (the caller's mistake,
/// not the server's), keeping prost's description as the message. The
/// handler, and so authentication, validation and storage, never runs.
#[tokio::test]
async fn malformed_protobuf_bytes_are_refused_by_the_decoder() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let valid = submit_request(create_cmd(
        &Uuid::new_v4().to_string(),
        v1::RecordKind::Login,
        b"sealed",
    ))
    .encode_to_vec();
    let truncated = valid[..valid.len() - 3].to_vec();
    // Command.command_id (field 1, length-delimited) holding invalid UTF-8.
    let bad_utf8 = {
        let command = [vec![0x0A, 0x02], vec![0xC3, 0x28]].concat();
        [vec![0x0A, command.len() as u8], command].concat()
    };
    // An unknown field (number 9) as 200 nested groups: prost stops at its
    // recursion limit instead of overflowing the stack.
    let deep_groups = [vec![0x4B; 200], vec![0x4C; 200]].concat();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            vec![0xFF; 11],
            "failed to decode Protobuf message: invalid varint",
        ),
        (
            "truncated",
            truncated,
            "failed to decode Protobuf message: SubmitRequest.command: buffer underflow",
        ),
        (
            "wrong wire type",
            vec![0x08, 0x01],
            "failed to decode Protobuf message: SubmitRequest.command: invalid wire type: Varint (expected LengthDelimited)",
        ),
        (
            "wire type 7",
            vec![0x0F, 0x01],
            "failed to decode Protobuf message: invalid wire type value: 7",
        ),
        (
            "field number 0",
            vec![0x02, 0x00],
            "failed to decode Protobuf message: invalid tag value: 0",
        ),
        (
            "invalid UTF-8 in a string",
            bad_utf8,
            "failed to decode Protobuf message: Command.command_id: SubmitRequest.command: invalid string value: data is not UTF-8 encoded",
        ),
        (
            "nested groups",
            deep_groups,
            "failed to decode Protobuf message: recursion limit reached",
        ),
    ];
    for (name, bytes, expected) in cases {
        let status = fx
            .raw(SUBMIT, bytes, Some(&fx.alice.tokens.access_token))
            .await
            .unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "MALFORMED_REQUEST");
        assert_eq!(message, expected, "case {name}");
    }
    // The same refusal on an unauthenticated call that would otherwise
    // reach the login rate limiter and the user table.
    let status = fx.raw(LOGIN, vec![0xFF; 11], None).await.unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "MALFORMED_REQUEST");
    assert_eq!(message, "failed to decode Protobuf message: invalid varint");
    fx.assert_unchanged(&before).await;
}

/// A field the schema does not have is skipped (protobuf's forward
/// compatibility), so it cannot smuggle an owner: the command is applied to
/// the token's user, never to a user id named in the request.
#[tokio::test]
async fn an_unknown_field_naming_another_owner_is_ignored() {
    let fx = Fixture::new().await;
    let bob_before = Fixture::vault_of(&fx.bob).await;
    let record = Uuid::new_v4().to_string();
    let mut bytes =
        submit_request(create_cmd(&record, v1::RecordKind::Text, b"mine")).encode_to_vec();
    // Field 15, length-delimited: Bob's user id, where an internal request
    // would carry the principal.
    bytes.push(0x7A);
    bytes.push(fx.bob.user_id.len() as u8);
    bytes.extend_from_slice(fx.bob.user_id.as_bytes());
    let answer = fx
        .raw(SUBMIT, bytes, Some(&fx.alice.tokens.access_token))
        .await
        .unwrap();
    let answer = v1::SubmitResponse::decode(answer.as_slice()).unwrap();
    let revision = applied(answer.outcome.as_ref().unwrap());
    fx.alice.saw(revision);
    assert_eq!(
        fx.alice.get(&[&record]).await.unwrap()[0].ciphertext,
        b"mine"
    );
    assert_eq!(Fixture::vault_of(&fx.bob).await, bob_before);
}

#[tokio::test]
async fn missing_fields_are_named_in_the_refusal() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let record = Uuid::new_v4().to_string();
    let without_op = v1::Command {
        command_id: Uuid::new_v4().to_string(),
        op: None,
    };
    let empty_ciphertext = create_cmd(&record, v1::RecordKind::Login, b"");
    let mut no_kind = create_cmd(&record, v1::RecordKind::Login, b"x");
    let mut unknown_kind = no_kind.clone();
    if let Some(v1::command::Op::Create(create)) = &mut no_kind.op {
        create.kind = v1::RecordKind::Unspecified as i32;
    }
    if let Some(v1::command::Op::Create(create)) = &mut unknown_kind.op {
        create.kind = 99;
    }
    let empty_update = update_cmd(&record, 1, b"");
    let cases: Vec<(&str, Option<v1::Command>, &str)> = vec![
        ("no command", None, "command is required"),
        (
            "no op",
            Some(without_op),
            "command must be one of create, update, delete",
        ),
        (
            "empty ciphertext",
            Some(empty_ciphertext),
            "ciphertext must not be empty",
        ),
        (
            "empty update",
            Some(empty_update),
            "ciphertext must not be empty",
        ),
        (
            "unspecified kind",
            Some(no_kind),
            "kind must be login, text, binary, card or vault-summary",
        ),
        (
            "unknown kind",
            Some(unknown_kind),
            "kind must be login, text, binary, card or vault-summary",
        ),
    ];
    for (name, command, expected) in cases {
        let status = submit(&fx.alice, command).await.unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(message, expected, "case {name}");
    }

    // Account calls: a registration without KDF parameters or keys, logins
    // with broken OPAQUE messages or ids, a legacy login without a key.
    let mut account = fx.app.account.clone();
    let name = format!("carol-{}", Uuid::new_v4());
    let full = v1::RegisterRequest {
        username: name.clone(),
        kdf: Some(kdf(&name)),
        registration_upload: opaque_upload(&account, &name, &auth_key(&name))
            .await
            .unwrap(),
        wrapped_vault_key: wrapped_key(&name),
    };
    let cases: Vec<(&str, v1::RegisterRequest, &str)> = vec![
        (
            "no kdf",
            v1::RegisterRequest {
                kdf: None,
                ..full.clone()
            },
            "kdf is required",
        ),
        (
            "no upload",
            v1::RegisterRequest {
                registration_upload: vec![],
                ..full.clone()
            },
            "registration_upload is not a valid OPAQUE message",
        ),
        (
            "a made-up upload",
            v1::RegisterRequest {
                registration_upload: vec![7; 192],
                ..full.clone()
            },
            "registration_upload is not a valid OPAQUE message",
        ),
        (
            "no wrapped key",
            v1::RegisterRequest {
                wrapped_vault_key: vec![],
                ..full.clone()
            },
            "wrapped_vault_key must be 32 to 4096 bytes",
        ),
        (
            "a wrapped key longer than 100 key epochs",
            v1::RegisterRequest {
                wrapped_vault_key: vec![2; 4097],
                ..full.clone()
            },
            "wrapped_vault_key must be 32 to 4096 bytes",
        ),
        (
            "no salt",
            v1::RegisterRequest {
                kdf: Some(v1::KdfParams {
                    salt: vec![],
                    ..kdf(&name)
                }),
                ..full.clone()
            },
            "kdf salt must be 16 to 64 bytes",
        ),
    ];
    for (case, request, expected) in cases {
        let status = account.register(request).await.unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(message, expected, "case {case}");
    }
    for (case, request, expected) in [
        (
            "no request",
            vec![],
            "credential_request is not a valid OPAQUE message",
        ),
        (
            "not a point",
            vec![0xFF; 96],
            "credential_request is not a valid OPAQUE message",
        ),
        (
            "too long",
            vec![0; 5000],
            "credential_request is not a valid OPAQUE message",
        ),
    ] {
        let status = account
            .login_start(v1::LoginStartRequest {
                username: fx.alice.username.clone(),
                credential_request: request,
            })
            .await
            .unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(message, expected, "case {case}");
    }
    let (start, finalization) =
        opaque_login_start(&account, &fx.alice.username, &auth_key(&fx.alice.username))
            .await
            .unwrap();
    for (case, login_id, finalization, expected) in [
        (
            "short login id",
            vec![1; 15],
            finalization.clone(),
            "login_id must be 16 bytes",
        ),
        (
            "no finalization",
            start.login_id.clone(),
            vec![],
            "credential_finalization is not a valid OPAQUE message",
        ),
    ] {
        let status = account
            .login_finish(v1::LoginFinishRequest {
                login_id,
                credential_finalization: finalization,
                device_name: "probe".into(),
                second_factor: String::new(),
            })
            .await
            .unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(message, expected, "case {case}");
    }
    let status = account
        .login(v1::LoginRequest {
            username: fx.alice.username.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(message, "auth_key must be 32 bytes");
    fx.assert_unchanged(&before).await;
}

#[tokio::test]
async fn invalid_ids_are_refused_with_the_field_named() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let record = Uuid::new_v4().to_string();
    let nil = Uuid::nil().to_string();
    let with_command_id = |id: &str| v1::Command {
        command_id: id.into(),
        ..create_cmd(&record, v1::RecordKind::Card, b"x")
    };
    let cases: Vec<(&str, v1::Command, &str)> = vec![
        (
            "empty command id",
            with_command_id(""),
            "command_id must be a UUID",
        ),
        (
            "short command id",
            with_command_id("1234"),
            "command_id must be a UUID",
        ),
        (
            "nil command id",
            with_command_id(&nil),
            "command_id must not be the nil UUID",
        ),
        (
            "record id not a UUID",
            create_cmd("record-1", v1::RecordKind::Card, b"x"),
            "record_id must be a UUID",
        ),
        (
            "nil record id",
            create_cmd(&nil, v1::RecordKind::Card, b"x"),
            "record_id must not be the nil UUID",
        ),
        (
            "UUID with trailing junk",
            delete_cmd(&format!("{record}0"), 1),
            "record_id must be a UUID",
        ),
    ];
    for (name, command, expected) in cases {
        let status = submit(&fx.alice, Some(command)).await.unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(message, expected, "case {name}");
    }
    let status = fx.alice.get(&[&record, "not-a-uuid"]).await.unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(message, "record_ids must be a UUID");
    let status = fx
        .alice
        .vault
        .clone()
        .list_by_kind(fx.alice.req(v1::ListByKindRequest {
            kind: v1::RecordKind::Login as i32,
            page_token: "next".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(message, "page_token must be a UUID");
    let status = fx
        .alice
        .account
        .clone()
        .revoke_session(fx.alice.req(v1::RevokeSessionRequest {
            session_id: "current".into(),
        }))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(message, "session_id must be a UUID");
    fx.assert_unchanged(&before).await;
}

/// Revisions are `uint64` on the wire and stored as SQL `BIGINT`. A client
/// that encodes -1 as a varint (what an `int64` field would send) arrives as
/// 2^64-1; anything past 2^63-1 is refused rather than wrapped negative.
#[tokio::test]
async fn negative_and_huge_revisions_are_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let (id, revision, _) = fx.bob_record.clone();
    let negative = (-1i64) as u64;
    let huge = 1u64 << 63;

    // UpdateRecord.base_revision = -1, encoded by hand as an int64 would be.
    let mut update = v1::UpdateRecord {
        record_id: id.clone(),
        base_revision: 0,
        ciphertext: b"x".to_vec(),
    }
    .encode_to_vec();
    update.push(0x10);
    prost::encoding::encode_varint(negative, &mut update);
    let command = [
        v1::Command {
            command_id: Uuid::new_v4().to_string(),
            op: None,
        }
        .encode_to_vec(),
        vec![0x1A, update.len() as u8],
        update,
    ]
    .concat();
    let request = [vec![0x0A, command.len() as u8], command].concat();
    let status = fx
        .raw(SUBMIT, request, Some(&fx.bob.tokens.access_token))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(
        message,
        "base_revision must be the revision of the record you changed (1 to 2^63-1)"
    );

    for base in [0, huge, u64::MAX] {
        for command in [update_cmd(&id, base, b"x"), delete_cmd(&id, base)] {
            let status = submit(&fx.bob, Some(command)).await.unwrap_err();
            let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
            assert_eq!(
                message,
                "base_revision must be the revision of the record you changed (1 to 2^63-1)",
                "base {base}"
            );
        }
    }

    // ChangesRequest.since_revision = -1 on the wire, then 2^63.
    let mut changes = vec![0x08];
    prost::encoding::encode_varint(negative, &mut changes);
    let status = fx
        .raw(CHANGES, changes, Some(&fx.bob.tokens.access_token))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(message, "since_revision must be at most 2^63-1");
    for request in [
        v1::ChangesRequest {
            since_revision: huge,
            ..Default::default()
        },
        v1::ChangesRequest {
            min_revision: u64::MAX,
            ..Default::default()
        },
    ] {
        let status = fx
            .bob
            .vault
            .clone()
            .changes(fx.bob.req(request))
            .await
            .unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        let field = if request.min_revision > 0 {
            "min_revision"
        } else {
            "since_revision"
        };
        assert_eq!(message, format!("{field} must be at most 2^63-1"));
    }

    // In range but far ahead: a read-your-writes wait that cannot succeed
    // answers "retry" after the configured wait, never stale data.
    let status = fx
        .bob
        .vault
        .clone()
        .changes(fx.bob.req(v1::ChangesRequest {
            min_revision: i64::MAX as u64,
            ..Default::default()
        }))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::Unavailable, "REPLICA_BEHIND");
    assert_eq!(
        message,
        format!(
            "storage has not reached revision {} yet (at {revision}); retry",
            i64::MAX
        )
    );
    fx.assert_unchanged(&before).await;

    // The largest valid base revision is not the record's: a conflict that
    // hands back the stored version and writes nothing but the outcome.
    let outcome = fx
        .bob
        .submit(update_cmd(&id, i64::MAX as u64, b"overwrite"))
        .await
        .unwrap();
    match outcome.result {
        Some(v1::command_outcome::Result::Conflict(conflict)) => {
            let current = conflict.current.unwrap();
            assert_eq!(
                (current.revision, current.ciphertext.as_slice()),
                (revision, BOB_SECRET)
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let after = fx.state().await;
    assert_eq!(
        after.without("vault.applied_commands"),
        before.without("vault.applied_commands")
    );
    assert_eq!(
        after.rows("vault.applied_commands").len(),
        before.rows("vault.applied_commands").len() + 1
    );
}

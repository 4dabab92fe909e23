//! SQL metacharacters in every string field of the public API. Every query
//! binds its parameters, so a payload is either refused as the field's
//! type (ids are UUIDs) or stored and returned as the text it is.

use gophkeeper_proto::v1;
use tonic::Code;
use uuid::Uuid;

use crate::fixture::*;
use crate::helpers::*;

const PAYLOADS: [&str; 7] = [
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    "\"); DELETE FROM records; --",
    "x' UNION SELECT auth_hash FROM users --",
    "%",
    "_",
    "\\'; SELECT 1; /*",
];

#[tokio::test]
async fn sql_in_id_fields_is_refused_as_not_a_uuid() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let record = Uuid::new_v4().to_string();
    for payload in PAYLOADS {
        let commands = [
            (
                "command_id",
                v1::Command {
                    command_id: payload.into(),
                    ..create_cmd(&record, v1::RecordKind::Text, b"x")
                },
            ),
            ("record_id", create_cmd(payload, v1::RecordKind::Text, b"x")),
            ("record_id", update_cmd(payload, 1, b"x")),
            ("record_id", delete_cmd(payload, 1)),
        ];
        for (field, command) in commands {
            let status = fx
                .alice
                .vault
                .clone()
                .submit(fx.alice.req(v1::SubmitRequest {
                    command: Some(command),
                    wait_for_outcome: true,
                }))
                .await
                .unwrap_err();
            assert_eq!(
                assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT"),
                format!("{field} must be a UUID"),
                "{payload:?}"
            );
        }
        let status = fx.alice.get(&[payload]).await.unwrap_err();
        assert_eq!(
            assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT"),
            "record_ids must be a UUID"
        );
        let status = fx
            .alice
            .vault
            .clone()
            .list_by_kind(fx.alice.req(v1::ListByKindRequest {
                kind: v1::RecordKind::Text as i32,
                page_token: payload.into(),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(
            assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT"),
            "page_token must be a UUID"
        );
        let status = fx
            .alice
            .account
            .clone()
            .revoke_session(fx.alice.req(v1::RevokeSessionRequest {
                session_id: payload.into(),
            }))
            .await
            .unwrap_err();
        assert_eq!(
            assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT"),
            "session_id must be a UUID"
        );
    }
    fx.assert_unchanged(&before).await;
}

#[tokio::test]
async fn sql_in_tokens_and_kdf_fields_is_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let mut account = fx.app.account.clone();
    for payload in PAYLOADS {
        let status = account
            .refresh(v1::RefreshRequest {
                refresh_token: payload.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            assert_status(&status, Code::Unauthenticated, "REFRESH_TOKEN_INVALID"),
            "invalid refresh token; log in again"
        );
        let status = fx
            .alice
            .vault
            .clone()
            .changes(bearer(v1::ChangesRequest::default(), payload))
            .await
            .unwrap_err();
        assert_eq!(
            assert_status(&status, Code::Unauthenticated, "TOKEN_INVALID"),
            "invalid access token"
        );
        let name = format!("dora-{}", Uuid::new_v4());
        let status = account
            .register(v1::RegisterRequest {
                username: name.clone(),
                kdf: Some(v1::KdfParams {
                    algorithm: payload.into(),
                    ..kdf(&name)
                }),
                registration_upload: vec![],
                wrapped_vault_key: wrapped_key(&name),
            })
            .await
            .unwrap_err();
        assert_eq!(
            assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT"),
            "kdf algorithm must be \"argon2id-user-salt\", \"argon2id-user-salt+secret-key\" \
             (or \"argon2id\")"
        );
        let alice = &fx.alice.username;
        let status = fx
            .alice
            .account
            .clone()
            .change_password(fx.alice.req(v1::ChangePasswordRequest {
                current: None,
                registration_upload: vec![],
                new_kdf: Some(v1::KdfParams {
                    algorithm: payload.into(),
                    ..kdf(alice)
                }),
                new_wrapped_vault_key: wrapped_key(alice),
                keep_other_sessions: false,
            }))
            .await
            .unwrap_err();
        assert_eq!(
            assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT"),
            "kdf algorithm must be \"argon2id-user-salt\", \"argon2id-user-salt+secret-key\" \
             (or \"argon2id\")"
        );
    }
    fx.assert_unchanged(&before).await;
}

/// A user name is free text: SQL in it is a legal name, stored as typed,
/// and only that exact name (not a `LIKE` match) finds the account.
#[tokio::test]
async fn sql_in_user_and_device_names_is_stored_as_text() {
    let fx = Fixture::new().await;
    for payload in PAYLOADS {
        let name = format!("{payload}{}", &Uuid::new_v4().to_string()[..8]);
        let key = auth_key(&name);
        fx.app.register(&name, &key).await.unwrap();
        let (start, finalization) = opaque_login_start(&fx.app.account, &name, &key)
            .await
            .unwrap();
        let login = fx
            .app
            .account
            .clone()
            .login_finish(v1::LoginFinishRequest {
                login_id: start.login_id,
                credential_finalization: finalization,
                device_name: payload.into(),
                second_factor: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let sessions = fx
            .app
            .account
            .clone()
            .list_sessions(bearer(
                v1::ListSessionsRequest {},
                &login.tokens.unwrap().access_token,
            ))
            .await
            .unwrap()
            .into_inner()
            .sessions;
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].device_name, payload.trim());
    }
    // Wildcards do not match: "a_c" exists, "abc" gets fake parameters.
    fx.app.register("a_c", &auth_key("a_c")).await.unwrap();
    let prelogin = |name: &str| {
        let mut account = fx.app.account.clone();
        let name = name.to_owned();
        async move {
            account
                .prelogin(v1::PreloginRequest { username: name })
                .await
                .unwrap()
                .into_inner()
                .kdf
                .unwrap()
        }
    };
    assert_eq!(prelogin("a_c").await, kdf("a_c"));
    assert_ne!(prelogin("abc").await.salt, kdf("a_c").salt);
    assert_ne!(prelogin("%").await.salt, kdf("a_c").salt);
    let status = fx.app.login("abc", &auth_key("a_c")).await.unwrap_err();
    assert_eq!(
        assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS"),
        "invalid user name or password"
    );
    // Every table is still there, with the rows the calls above made.
    let state = fx.state().await;
    assert_eq!(state.rows("auth.users").len(), 2 + PAYLOADS.len() + 1);
    assert_eq!(state.rows("vault.records").len(), 1);
}

/// Ciphertext is opaque bytes: SQL in it comes back byte for byte.
#[tokio::test]
async fn sql_in_ciphertext_is_stored_byte_for_byte() {
    let fx = Fixture::new().await;
    let body = PAYLOADS.join("\0").into_bytes();
    let (id, _) = fx.alice.create(v1::RecordKind::Text, &body).await;
    assert_eq!(fx.alice.get(&[&id]).await.unwrap()[0].ciphertext, body);
    let state = fx.state().await;
    assert_eq!(state.rows("vault.records").len(), 2);
    assert_eq!(state.rows("auth.users").len(), 2);
}

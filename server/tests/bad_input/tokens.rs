//! Access tokens that are expired, tampered with, signed with another key,
//! unsigned (`alg: none`) or aimed at another audience; a refresh token
//! replayed after rotation. Each is tried on a write (Submit) and a session
//! call, and the server state is compared afterwards.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gophkeeper_proto::v1;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tonic::Code;
use uuid::Uuid;

use crate::fixture::*;
use crate::helpers::*;

/// Tries `token` on a write aimed at Bob's record and on the session list;
/// both must fail with `reason` and `message`.
async fn assert_refused(fx: &Fixture, token: &str, reason: &str, message: &str) {
    let (id, revision, _) = &fx.bob_record;
    let status = fx
        .alice
        .vault
        .clone()
        .submit(bearer(
            v1::SubmitRequest {
                command: Some(update_cmd(id, *revision, b"overwritten")),
                wait_for_outcome: true,
            },
            token,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        assert_status(&status, Code::Unauthenticated, reason),
        message
    );
    let status = fx
        .alice
        .account
        .clone()
        .list_sessions(bearer(v1::ListSessionsRequest {}, token))
        .await
        .unwrap_err();
    assert_eq!(
        assert_status(&status, Code::Unauthenticated, reason),
        message
    );
}

fn claims(user: &str, session: &str, audience: &str) -> serde_json::Value {
    let now = now_secs();
    serde_json::json!({
        "sub": user, "sid": session, "iss": "gophkeeper", "aud": audience,
        "iat": now, "exp": now + 900,
    })
}

#[tokio::test]
async fn an_expired_access_token_is_refused_with_a_refresh_hint() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    // Issued by the server's own key an hour ago, valid for 15 minutes.
    let expired = mint(&fx.bob.user_id, &fx.bob.session_id, 3600, 900);
    assert_refused(
        &fx,
        &expired,
        "TOKEN_EXPIRED",
        "access token expired; refresh it",
    )
    .await;
    // One second past expiry is already too late (no leeway).
    let just = mint(&fx.bob.user_id, &fx.bob.session_id, 901, 900);
    assert_refused(
        &fx,
        &just,
        "TOKEN_EXPIRED",
        "access token expired; refresh it",
    )
    .await;
    fx.assert_unchanged(&before).await;
}

#[tokio::test]
async fn a_tampered_access_token_is_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    // Alice's header and signature around a payload naming Bob.
    let alice: Vec<&str> = fx.alice.tokens.access_token.split('.').collect();
    let payload = URL_SAFE_NO_PAD
        .encode(claims(&fx.bob.user_id, &fx.bob.session_id, "gophkeeper-vault").to_string());
    let swapped = format!("{}.{payload}.{}", alice[0], alice[2]);
    assert_refused(&fx, &swapped, "TOKEN_INVALID", "invalid access token").await;
    // One bit of Alice's own signature flipped.
    let mut signature = URL_SAFE_NO_PAD.decode(alice[2]).unwrap();
    signature[0] ^= 1;
    let flipped = format!(
        "{}.{}.{}",
        alice[0],
        alice[1],
        URL_SAFE_NO_PAD.encode(signature)
    );
    assert_refused(&fx, &flipped, "TOKEN_INVALID", "invalid access token").await;
    fx.assert_unchanged(&before).await;
}

#[tokio::test]
async fn an_access_token_signed_with_another_key_is_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let body = claims(&fx.bob.user_id, &fx.bob.session_id, "gophkeeper-vault");
    let other_key = [0x5A; 32];
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &body,
        &EncodingKey::from_secret(&other_key),
    )
    .unwrap();
    assert_refused(&fx, &token, "TOKEN_INVALID", "invalid access token").await;
    // The server's key under a stronger-sounding algorithm is still not
    // what the server issues.
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &body,
        &EncodingKey::from_secret(&access_token_key()),
    )
    .unwrap();
    assert_refused(&fx, &token, "TOKEN_INVALID", "invalid access token").await;
    fx.assert_unchanged(&before).await;
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let payload = URL_SAFE_NO_PAD
        .encode(claims(&fx.bob.user_id, &fx.bob.session_id, "gophkeeper-vault").to_string());
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"None"}"#,
        r#"{"alg":"NONE"}"#,
    ] {
        let header = URL_SAFE_NO_PAD.encode(header);
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert_refused(&fx, &token, "TOKEN_INVALID", "invalid access token").await;
        }
    }
    fx.assert_unchanged(&before).await;
}

/// The server's key, the right algorithm, a live session: but a token for
/// another audience, or for a user the session does not belong to.
#[tokio::test]
async fn a_correctly_signed_token_for_the_wrong_audience_or_user_is_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let key = EncodingKey::from_secret(&access_token_key());
    let header = Header::new(Algorithm::HS256);
    let audience = jsonwebtoken::encode(
        &header,
        &claims(&fx.bob.user_id, &fx.bob.session_id, "another-service"),
        &key,
    )
    .unwrap();
    assert_refused(&fx, &audience, "TOKEN_INVALID", "invalid access token").await;
    // Bob's session id under Alice's user id.
    let mixed = mint(&fx.alice.user_id, &fx.bob.session_id, 0, 900);
    assert_refused(&fx, &mixed, "TOKEN_INVALID", "invalid access token").await;
    let ghost = mint(&fx.bob.user_id, &Uuid::new_v4().to_string(), 0, 900);
    assert_refused(&fx, &ghost, "TOKEN_INVALID", "invalid access token").await;
    fx.assert_unchanged(&before).await;
}

#[tokio::test]
async fn a_missing_or_malformed_authorization_header_is_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let message = "missing access token (authorization: Bearer <token>)";
    let token = fx.alice.tokens.access_token.clone();
    for value in [
        format!("Basic {token}"),
        token.clone(),
        "Bearer ".into(),
        "Bearer    ".into(),
    ] {
        let mut request = tonic::Request::new(v1::ListSessionsRequest {});
        request
            .metadata_mut()
            .insert("authorization", value.parse().unwrap());
        let status = fx
            .alice
            .account
            .clone()
            .list_sessions(request)
            .await
            .unwrap_err();
        assert_eq!(
            assert_status(&status, Code::Unauthenticated, "TOKEN_MISSING"),
            message,
            "{value:?}"
        );
    }
    fx.assert_unchanged(&before).await;
}

/// A refresh token used twice means two parties hold it: the server
/// revokes that session (its refresh token family and its access tokens),
/// leaves the user's other sessions alone, and keeps refusing the family.
#[tokio::test]
async fn a_refresh_token_reused_after_rotation_revokes_the_session_family() {
    let fx = Fixture::new().await;
    let mut account = fx.app.account.clone();
    let phone = fx.app.device(&fx.bob.username).await;
    let first = phone.tokens.refresh_token.clone();
    let second = account
        .refresh(v1::RefreshRequest {
            refresh_token: first.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let third = account
        .refresh(v1::RefreshRequest {
            refresh_token: second.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();

    let status = account
        .refresh(v1::RefreshRequest {
            refresh_token: first.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        assert_status(&status, Code::Unauthenticated, "REFRESH_TOKEN_REUSED"),
        "refresh token was already used; the session has been revoked, log in again"
    );
    let after_reuse = fx.state().await;

    // Every member of the family is dead: the newest refresh token, an old
    // one, and every access token issued to the session.
    for token in [
        third.refresh_token.clone(),
        second.refresh_token.clone(),
        first,
    ] {
        let status = account
            .refresh(v1::RefreshRequest {
                refresh_token: token,
            })
            .await
            .unwrap_err();
        assert_eq!(
            assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED"),
            "session has been revoked; log in again"
        );
    }
    for access in [&third.access_token, &phone.tokens.access_token] {
        let status = fx
            .bob
            .vault
            .clone()
            .changes(bearer(v1::ChangesRequest::default(), access))
            .await
            .unwrap_err();
        assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED");
    }
    fx.assert_unchanged(&after_reuse).await;

    // Bob's first device still works and no longer lists the phone.
    let sessions = fx
        .bob
        .account
        .clone()
        .list_sessions(fx.bob.req(v1::ListSessionsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .sessions;
    let ids: Vec<&str> = sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(ids, [fx.bob.session_id.as_str()]);
    let revoked: Vec<&String> = after_reuse
        .rows("auth.sessions")
        .iter()
        .filter(|row| row.contains("'refresh token reused'"))
        .collect();
    assert_eq!(revoked.len(), 1, "{revoked:?}");
}

/// Every file the server keeps (SQLite databases with their write-ahead
/// logs, the generated secrets, the TLS material).
fn server_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(server_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// What a stolen server disk holds is not a credential: no auth key (only
/// its Argon2id hash), no refresh token (only its SHA-256), no access token.
/// So a copy of the database cannot be replayed to log in or refresh.
#[tokio::test]
async fn the_server_files_hold_no_usable_credential() {
    let fx = Fixture::new().await;
    let rotated = fx
        .app
        .account
        .clone()
        .refresh(v1::RefreshRequest {
            refresh_token: fx.alice.tokens.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    fx.state().await;
    let alice_key = auth_key(&fx.alice.username);
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("auth key", alice_key.clone()),
        ("auth key (hex)", hex::encode(&alice_key).into_bytes()),
        (
            "used refresh token",
            fx.alice.tokens.refresh_token.clone().into_bytes(),
        ),
        (
            "live refresh token",
            rotated.refresh_token.clone().into_bytes(),
        ),
        (
            "access token",
            fx.alice.tokens.access_token.clone().into_bytes(),
        ),
        (
            "rotated access token",
            rotated.access_token.clone().into_bytes(),
        ),
    ];
    let files = server_files(fx.app._data_dir.path());
    let mut scanned = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        scanned += bytes.len();
        for (name, needle) in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{name} found in {}",
                file.display()
            );
        }
    }
    assert!(scanned > 10_000 && files.len() >= 4, "{files:?}");
    // The stored refresh-token hash, presented as a token, is refused.
    let state = fx.state().await;
    let stored = &state.rows("auth.refresh_tokens")[0];
    let hash = stored.split('|').next().unwrap();
    let status = fx
        .app
        .account
        .clone()
        .refresh(v1::RefreshRequest {
            refresh_token: hash
                .trim_start_matches("X'")
                .trim_end_matches('\'')
                .to_owned(),
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "REFRESH_TOKEN_INVALID");
}

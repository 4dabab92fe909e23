//! Access and refresh tokens as a client meets them at the gateway.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gophkeeper_proto::v1;
use gophkeeper_server::auth::AccessTokens;
use gophkeeper_server::ids::{SessionId, UserId};
use gophkeeper_server::secrets::ServerSecret;
use tonic::Code;

use crate::helpers::*;

/// Mints an access token the way the server does, with its secret.
fn mint(user: &str, session: &str, issued_secs_ago: u64, ttl: u64) -> String {
    let dir = tempfile::tempdir().unwrap();
    let secret = ServerSecret::load_or_create(&TEST_SECRET.to_owned().into(), dir.path()).unwrap();
    let tokens = AccessTokens::new(secret.derive("access-token").as_ref(), ttl);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    tokens
        .issue(
            UserId::parse("u", user).unwrap(),
            SessionId::parse("s", session).unwrap(),
            now - issued_secs_ago,
        )
        .unwrap()
        .0
}

#[tokio::test]
async fn expired_access_token_is_refused_with_a_refresh_hint() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    // A token the server itself would have issued an hour ago, valid 15 min.
    let fresh = mint(&device.user_id, &device.session_id, 0, 900);
    device
        .vault
        .clone()
        .changes(bearer(v1::ChangesRequest::default(), &fresh))
        .await
        .unwrap();
    let expired = mint(&device.user_id, &device.session_id, 3600, 900);
    let status = device
        .vault
        .clone()
        .changes(bearer(v1::ChangesRequest::default(), &expired))
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::Unauthenticated, "TOKEN_EXPIRED");
    assert!(message.contains("refresh"), "{message}");
}

#[tokio::test]
async fn missing_tampered_foreign_and_unsigned_tokens_are_refused() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let other = app.new_user().await;
    let mut vault = device.vault.clone();

    let status = vault
        .changes(v1::ChangesRequest::default())
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "TOKEN_MISSING");

    let parts: Vec<&str> = device.tokens.access_token.split('.').collect();
    // Payload swapped for one naming the other user, signature kept.
    let other_parts: Vec<&str> = other.tokens.access_token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let hs512 = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS512","typ":"JWT"}"#),
        parts[1],
        parts[2]
    );
    // Right shape, right claims, signed with a key that is not the server's.
    let foreign = {
        let tokens = AccessTokens::new(b"some other server's key.........", 900);
        tokens
            .issue(
                UserId::parse("u", &device.user_id).unwrap(),
                SessionId::parse("s", &device.session_id).unwrap(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs(),
            )
            .unwrap()
            .0
    };
    for token in [
        tampered,
        unsigned,
        hs512,
        foreign,
        "garbage".into(),
        "a.b.c".into(),
    ] {
        let status = vault
            .changes(bearer(v1::ChangesRequest::default(), &token))
            .await
            .unwrap_err();
        assert_status(&status, Code::Unauthenticated, "TOKEN_INVALID");
    }
    // A valid token for a session that never existed is invalid too.
    let ghost = mint(&device.user_id, &uuid::Uuid::new_v4().to_string(), 0, 900);
    let status = vault
        .changes(bearer(v1::ChangesRequest::default(), &ghost))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "TOKEN_INVALID");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_session() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    let mut account = app.account.clone();

    let first = device.tokens.refresh_token.clone();
    let rotated = account
        .refresh(v1::RefreshRequest {
            refresh_token: first.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(rotated.refresh_token, first);
    device
        .vault
        .clone()
        .changes(bearer(v1::ChangesRequest::default(), &rotated.access_token))
        .await
        .unwrap();

    // The first token again: a thief (or a bug) replays it.
    let status = account
        .refresh(v1::RefreshRequest {
            refresh_token: first,
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "REFRESH_TOKEN_REUSED");
    // The whole family is dead: the rotated refresh token and its access token.
    let status = account
        .refresh(v1::RefreshRequest {
            refresh_token: rotated.refresh_token,
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = device
        .vault
        .clone()
        .changes(bearer(v1::ChangesRequest::default(), &rotated.access_token))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

//! Registration, prelogin, login, sessions, password change, login limits.

use gophkeeper_proto::v1;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn register_then_login_returns_tokens_and_the_wrapped_key() {
    let app = spawn_app().await;
    let user_id = app.register("Alice", &auth_key("Alice")).await.unwrap();
    let login = app.login("alice", &auth_key("Alice")).await.unwrap();
    assert_eq!(login.user_id, user_id, "names compare case-insensitively");
    assert_eq!(login.wrapped_vault_key, wrapped_key("Alice"));
    assert_eq!(login.kdf.unwrap(), kdf("Alice"));
    let tokens = login.tokens.unwrap();
    assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
    assert!(tokens.access_expires_at_ms < tokens.refresh_expires_at_ms);
}

#[tokio::test]
async fn wrong_key_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("bob", &auth_key("bob")).await.unwrap();
    let wrong = app.login("bob", &[0u8; 32]).await.unwrap_err();
    let unknown = app.login("nobody", &[0u8; 32]).await.unwrap_err();
    let m1 = assert_status(&wrong, Code::Unauthenticated, "BAD_CREDENTIALS");
    let m2 = assert_status(&unknown, Code::Unauthenticated, "BAD_CREDENTIALS");
    assert_eq!(m1, m2);
}

#[tokio::test]
async fn prelogin_answers_unknown_names_with_stable_same_shaped_parameters() {
    let app = spawn_app().await;
    app.register("carol", &auth_key("carol")).await.unwrap();
    let prelogin = |name: &str| {
        let mut account = app.account.clone();
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
    let known = prelogin("carol").await;
    assert_eq!(known, kdf("carol"));
    let fake = prelogin("mallory").await;
    assert_eq!(fake, prelogin("Mallory").await, "stable per name");
    assert_ne!(fake.salt, prelogin("trent").await.salt);
    // Either name a real account can have; which one is the name's MAC.
    assert!(
        [known.algorithm.as_str(), "argon2id-user-salt+secret-key"]
            .contains(&fake.algorithm.as_str()),
        "{}",
        fake.algorithm
    );
    assert_eq!(fake.memory_kib, known.memory_kib);
    assert_eq!(fake.iterations, known.iterations);
    assert_eq!(fake.parallelism, known.parallelism);
    assert_eq!(fake.salt.len(), known.salt.len());
}

#[tokio::test]
async fn bad_registrations_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    app.register("dave", &auth_key("dave")).await.unwrap();
    let taken = app.register("DAVE", &auth_key("x")).await.unwrap_err();
    assert_status(&taken, Code::AlreadyExists, "USERNAME_TAKEN");

    let mut account = app.account.clone();
    let good = v1::RegisterRequest {
        username: "erin".into(),
        kdf: Some(kdf("erin")),
        registration_upload: opaque_upload(&account, "erin", &auth_key("erin"))
            .await
            .unwrap(),
        wrapped_vault_key: wrapped_key("erin"),
    };
    let mut cases = Vec::new();
    let mut r = good.clone();
    r.username = String::new();
    cases.push((r, "user name is empty"));
    let mut r = good.clone();
    r.username = "x".repeat(1_000_000);
    cases.push((r, "longer than 64"));
    let mut r = good.clone();
    r.username = "er\u{200B}in".into();
    cases.push((r, "invisible"));
    let mut r = good.clone();
    r.registration_upload = vec![1; 16];
    cases.push((r, "registration_upload is not a valid OPAQUE message"));
    let mut r = good.clone();
    r.registration_upload = vec![];
    cases.push((r, "registration_upload is not a valid OPAQUE message"));
    let mut r = good.clone();
    r.wrapped_vault_key = vec![];
    cases.push((r, "wrapped_vault_key"));
    let mut r = good.clone();
    r.kdf.as_mut().unwrap().memory_kib = 1024;
    cases.push((r, "kdf memory"));
    let mut r = good.clone();
    r.kdf = None;
    cases.push((r, "kdf is required"));
    for (request, expected) in cases {
        let status = account.register(request).await.unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
    // Nothing was stored: erin cannot log in, and her prelogin is the fake one.
    let status = app.login("erin", &auth_key("erin")).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    account.register(good).await.unwrap();
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_per_user() {
    let app = spawn_app().await;
    let laptop = app.new_user().await;
    let phone = app.device(&laptop.username).await;
    let stranger = app.new_user().await;

    let sessions = laptop
        .account
        .clone()
        .list_sessions(laptop.req(v1::ListSessionsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].session_id, laptop.session_id);
    assert!(sessions.iter().all(|s| s.device_name == "test device"));

    // A stranger cannot revoke laptop's sessions: they are "not found".
    let status = stranger
        .account
        .clone()
        .revoke_session(stranger.req(v1::RevokeSessionRequest {
            session_id: phone.session_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, "SESSION_NOT_FOUND");
    phone.changes(0).await.unwrap();

    laptop
        .account
        .clone()
        .revoke_session(laptop.req(v1::RevokeSessionRequest {
            session_id: phone.session_id.clone(),
        }))
        .await
        .unwrap();
    let status = phone.changes(0).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = phone
        .account
        .clone()
        .refresh(v1::RefreshRequest {
            refresh_token: phone.tokens.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED");
    laptop.changes(0).await.unwrap();

    for bad in ["not-a-uuid", &Uuid::new_v4().to_string()] {
        let status = laptop
            .account
            .clone()
            .revoke_session(laptop.req(v1::RevokeSessionRequest {
                session_id: bad.to_owned(),
            }))
            .await
            .unwrap_err();
        assert!(matches!(
            status.code(),
            Code::InvalidArgument | Code::NotFound
        ));
    }
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let device = app.new_user().await;
    device
        .account
        .clone()
        .logout(device.req(v1::LogoutRequest {}))
        .await
        .unwrap();
    let status = device.changes(0).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

#[tokio::test]
async fn password_change_rewraps_and_revokes_other_sessions() {
    let app = spawn_app().await;
    let a = app.new_user().await;
    let b = app.device(&a.username).await;
    let (record, _) = a.create(v1::RecordKind::Text, b"sealed").await;

    let new_key = vec![0xEE; 32];
    let mut new_kdf = kdf(&a.username);
    new_kdf.salt = vec![0x42; 16];
    let upload = a.new_password_upload(&new_key).await;
    let change = |current: v1::PasswordProof| v1::ChangePasswordRequest {
        current: Some(current),
        registration_upload: upload.clone(),
        new_kdf: Some(new_kdf.clone()),
        new_wrapped_vault_key: b"re-wrapped vault key, 40 bytes or so....".to_vec(),
        keep_other_sessions: false,
    };
    let status = a
        .account
        .clone()
        .change_password(a.req(change(a.proof(&[0; 32]).await)))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    b.changes(0).await.unwrap();
    // A proof is one login: used once, and only by its own account.
    let proof = a.proof(&auth_key(&a.username)).await;
    let other = app.new_user().await;
    let status = other
        .account
        .clone()
        .change_password(other.req(change(proof.clone())))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    let status = a
        .account
        .clone()
        .change_password(a.req(change(proof)))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "LOGIN_EXPIRED");

    a.account
        .clone()
        .change_password(a.req(change(a.proof(&auth_key(&a.username)).await)))
        .await
        .unwrap();
    // The other device must log in again; this one goes on.
    let status = b.changes(0).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED");
    assert_eq!(a.get(&[&record]).await.unwrap().len(), 1);

    let status = app
        .login(&a.username, &auth_key(&a.username))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    let login = app.login(&a.username, &new_key).await.unwrap();
    assert_eq!(login.kdf.unwrap(), new_kdf);
    assert_eq!(
        login.wrapped_vault_key,
        b"re-wrapped vault key, 40 bytes or so....".to_vec()
    );

    // Asked to keep them (a legacy account moving to OPAQUE with the same
    // password), the other sessions stay.
    let c = app.device_with_key(&a.username, &new_key).await;
    let mut bound_kdf = new_kdf.clone();
    bound_kdf.salt = vec![0x43; 16];
    a.account
        .clone()
        .change_password(a.req(v1::ChangePasswordRequest {
            current: Some(a.proof(&new_key).await),
            registration_upload: a.new_password_upload(&[0xEF; 32]).await,
            new_kdf: Some(bound_kdf.clone()),
            new_wrapped_vault_key: b"re-wrapped again, under the bound salt..".to_vec(),
            keep_other_sessions: true,
        }))
        .await
        .unwrap();
    c.changes(0).await.unwrap();
    let login = app.login(&a.username, &[0xEF; 32]).await.unwrap();
    assert_eq!(login.kdf.unwrap(), bound_kdf);
}

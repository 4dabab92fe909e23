//! OPAQUE login (docs/design.md, "OPAQUE"): what a stolen auth database is
//! worth without the server secret, unknown names answered like real ones,
//! a login finished once, the second factor after a proven password.

use std::time::{Duration, Instant};

use gophkeeper_proto::opaque::opaque_ke::errors::ProtocolError;
use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use gophkeeper_server::roles::all as single_node;
use tonic::Code;

use crate::helpers::*;
use crate::two_factor::{now_secs, totp_code};

fn copy_dir(from: &std::path::Path, to: &std::path::Path, skip: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == skip {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target, skip);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The stolen-database case: the data directory copied without the server
/// secret and a server started on it. The account is there (its KDF
/// parameters come back, not the fake ones), yet the right password fails
/// exactly as a wrong one does, on the client and at the server; and no
/// file holds a password hash to test guesses against.
#[tokio::test]
async fn a_copy_of_the_databases_without_the_secret_cannot_confirm_the_password() {
    let mut app = spawn_app_with(|s| s.auth.secret = String::new().into()).await;
    let a = app.new_user().await;
    let name = a.username.clone();
    let password = auth_key(&name);
    a.create(v1::RecordKind::Text, b"sealed").await;
    let (original, _) = client_finish(&app.account, &name, &password).await.unwrap();
    app.server.take().unwrap().shutdown().await.unwrap();
    assert!(app._data_dir.path().join("secrets/auth.key").exists());

    let stolen = tempfile::tempdir().unwrap();
    copy_dir(app._data_dir.path(), stolen.path(), "secrets");
    let mut settings = test_settings(stolen.path().to_owned());
    settings.auth.secret = String::new().into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = single_node::start(settings, listener).await.unwrap();
    let account = AccountClient::new(connect(&server).await);

    let (answer, right) = client_finish(&account, &name, &password).await.unwrap();
    assert!(!answer.legacy);
    assert_eq!(answer.kdf, original.kdf, "the account itself was copied");
    let (_, wrong) = client_finish(&account, &name, &[0; 32]).await.unwrap();
    assert!(
        matches!(right, Err(ProtocolError::InvalidLoginError)),
        "{right:?}"
    );
    assert!(
        matches!(wrong, Err(ProtocolError::InvalidLoginError)),
        "{wrong:?}"
    );
    let right = login_on(&account, &name, &password, "").await.unwrap_err();
    let wrong = login_on(&account, &name, &[0; 32], "").await.unwrap_err();
    assert_eq!(
        assert_status(&right, Code::Unauthenticated, "BAD_CREDENTIALS"),
        assert_status(&wrong, Code::Unauthenticated, "BAD_CREDENTIALS")
    );
    server.shutdown().await.unwrap();
    for file in walk(stolen.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(9).any(|w| w == b"$argon2id"),
            "{} holds a password hash",
            file.display()
        );
    }
}

/// A name with no account gets an answer of the same shape (fake KDF
/// parameters, a response of the same length, a login id), runs the same
/// steps (its login is kept and taken like a real one) and fails at the
/// finish with the same error as a wrong password. Timing, coarsely: the
/// median start for either stays within a factor of three of the other.
#[tokio::test]
async fn an_unknown_name_is_answered_like_an_account() {
    let app = spawn_app().await;
    let a = app.new_user().await;
    let (real, _) = client_finish(&app.account, &a.username, &[0; 32])
        .await
        .unwrap();
    let (ghost, finish) = client_finish(&app.account, "nobody-here", &[0; 32])
        .await
        .unwrap();
    assert!(matches!(finish, Err(ProtocolError::InvalidLoginError)));
    assert!(!ghost.legacy);
    assert_eq!(ghost.login_id.len(), real.login_id.len());
    assert_eq!(
        ghost.credential_response.len(),
        real.credential_response.len()
    );
    let (ghost_kdf, real_kdf) = (ghost.kdf.unwrap(), real.kdf.unwrap());
    // With a Secret Key or not, as real accounts are (per name).
    assert_eq!(
        ghost_kdf.algorithm.trim_end_matches("+secret-key"),
        real_kdf.algorithm
    );
    assert_eq!(ghost_kdf.salt.len(), real_kdf.salt.len());
    // Both logins were kept: each finishes once, with the same refusal.
    let finish = |login_id: Vec<u8>| v1::LoginFinishRequest {
        login_id,
        credential_finalization: vec![0; 64],
        device_name: "probe".into(),
        second_factor: String::new(),
    };
    let mut account = app.account.clone();
    for id in [real.login_id, ghost.login_id] {
        let status = account.login_finish(finish(id.clone())).await.unwrap_err();
        assert_eq!(
            assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS"),
            "invalid user name or password"
        );
        let status = account.login_finish(finish(id)).await.unwrap_err();
        assert_status(&status, Code::Unauthenticated, "LOGIN_EXPIRED");
    }

    let timings = |name: String| {
        let account = app.account.clone();
        async move {
            let mut took = Vec::new();
            for _ in 0..15 {
                let started = Instant::now();
                let _ = client_finish(&account, &name, &[0; 32]).await.unwrap();
                took.push(started.elapsed());
            }
            took.sort();
            took[took.len() / 2]
        }
    };
    let real = timings(a.username.clone()).await;
    let ghost = timings("nobody-here".into()).await;
    let ratio = real.as_secs_f64() / ghost.as_secs_f64();
    assert!(
        (1.0 / 3.0..=3.0).contains(&ratio),
        "median start: account {real:?}, no account {ghost:?}"
    );
    assert!(real < Duration::from_secs(1));
}

/// The server's state between the round trips is good once: a replayed
/// finish is refused and starts no session.
#[tokio::test]
async fn a_login_finish_is_good_once() {
    let app = spawn_app().await;
    let a = app.new_user().await;
    let (start, finalization) =
        opaque_login_start(&app.account, &a.username, &auth_key(&a.username))
            .await
            .unwrap();
    let request = v1::LoginFinishRequest {
        login_id: start.login_id,
        credential_finalization: finalization,
        device_name: "once".into(),
        second_factor: String::new(),
    };
    let mut account = app.account.clone();
    account.login_finish(request.clone()).await.unwrap();
    let status = account.login_finish(request).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "LOGIN_EXPIRED");
    let sessions = account
        .list_sessions(a.req(v1::ListSessionsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 2, "the fixture's device and one login");
}

/// The finish of `start`'s login with `code`.
fn finish_with(
    start: &v1::LoginStartResponse,
    finalization: &[u8],
    code: &str,
) -> v1::LoginFinishRequest {
    v1::LoginFinishRequest {
        login_id: start.login_id.clone(),
        credential_finalization: finalization.to_vec(),
        device_name: "with a code".into(),
        second_factor: code.into(),
    }
}

/// An account with two-factor login on: a finish without a code proves the
/// password and keeps the login, so the code can follow on the same login
/// (the client stretches the password once); a wrong code spends it.
#[tokio::test]
async fn the_second_factor_follows_on_the_same_login() {
    let app = spawn_app().await;
    let a = app.new_user().await;
    let (secret, _) = a.enable_two_factor().await;
    let password = auth_key(&a.username);
    let mut account = app.account.clone();
    let (start, finalization) = opaque_login_start(&account, &a.username, &password)
        .await
        .unwrap();
    let finish = |code: &str| finish_with(&start, &finalization, code);
    for _ in 0..2 {
        let status = account.login_finish(finish("")).await.unwrap_err();
        assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_REQUIRED");
    }
    let code = totp_code(&secret, now_secs() + 30);
    account.login_finish(finish(&code)).await.unwrap();
    let status = account.login_finish(finish(&code)).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "LOGIN_EXPIRED");

    // A wrong password never gets as far as the code.
    let (start, _) = opaque_login_start(&account, &a.username, &[0; 32])
        .await
        .unwrap();
    let status = account
        .login_finish(v1::LoginFinishRequest {
            login_id: start.login_id,
            credential_finalization: vec![0; 64],
            device_name: "thief".into(),
            second_factor: String::new(),
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    // A wrong code spends the kept login.
    let (start, finalization) = opaque_login_start(&account, &a.username, &password)
        .await
        .unwrap();
    let finish = |code: &str| finish_with(&start, &finalization, code);
    let status = account.login_finish(finish("")).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_REQUIRED");
    let status = account.login_finish(finish("000000x")).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_INVALID");
    let code = totp_code(&secret, now_secs() - 30);
    let status = account.login_finish(finish(&code)).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "LOGIN_EXPIRED");
}

/// An account from before OPAQUE logs in with its auth key; moving it is a
/// password change proven by that key, after which the legacy login is
/// refused like a wrong password and OPAQUE works; the move keeps sessions.
#[tokio::test]
async fn a_legacy_account_logs_in_and_moves_to_opaque() {
    let app = spawn_app().await;
    let key = auth_key("old-timer");
    app.plant_legacy_user("old-timer", &key, 1024).await;
    let (start, _) = opaque_login_start(&app.account, "old-timer", &key)
        .await
        .unwrap();
    assert!(start.legacy);
    assert!(start.login_id.is_empty() && start.credential_response.is_empty());
    // There is no OPAQUE login to finish for it.
    let status = app.login("old-timer", &key).await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    let old = app.legacy_login("old-timer", &key).await.unwrap();
    let device = Device {
        username: "old-timer".into(),
        user_id: old.user_id,
        session_id: old.session_id,
        tokens: old.tokens.unwrap(),
        vault: app.vault.clone(),
        account: app.account.clone(),
        known: std::sync::Arc::default(),
    };
    let wrong = v1::PasswordProof {
        proof: Some(v1::password_proof::Proof::LegacyAuthKey(vec![0; 32])),
    };
    let right = v1::PasswordProof {
        proof: Some(v1::password_proof::Proof::LegacyAuthKey(key.clone())),
    };
    let mut moved = v1::ChangePasswordRequest {
        current: Some(wrong),
        registration_upload: device.new_password_upload(&key).await,
        new_kdf: Some(kdf("old-timer")),
        new_wrapped_vault_key: wrapped_key("old-timer"),
        keep_other_sessions: true,
    };
    let mut account = app.account.clone();
    let status = account
        .change_password(device.req(moved.clone()))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    moved.current = Some(right);
    account.change_password(device.req(moved)).await.unwrap();
    device.changes(0).await.unwrap();
    let status = app.legacy_login("old-timer", &key).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    app.login("old-timer", &key).await.unwrap();
    // An OPAQUE account's proof cannot be a legacy key either.
    let status = account
        .begin_two_factor(device.req(v1::BeginTwoFactorRequest {
            current: Some(v1::PasswordProof {
                proof: Some(v1::password_proof::Proof::LegacyAuthKey(key.clone())),
            }),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
}

//! Cases that need their own server settings (short token lifetimes, tight
//! limits), so they run on a single node started for each test.

use gophkeeper_proto::v1;
use tonic::Code;

use crate::helpers::*;
use crate::sync::watch;
use crate::two_factor::{login_with, now_secs, totp_code};

#[tokio::test]
async fn login_attempts_are_limited_per_name_and_others_still_get_in() {
    let app = spawn_app_with(|s| s.auth.login_attempts_per_minute_per_user = 3).await;
    app.register("frank", &auth_key("frank")).await.unwrap();
    app.register("grace", &auth_key("grace")).await.unwrap();
    for _ in 0..3 {
        let status = app.login("frank", &[1; 32]).await.unwrap_err();
        assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    }
    // Even the right key is refused now: the limit counts attempts.
    let status = app.login("frank", &auth_key("frank")).await.unwrap_err();
    let message = assert_status(&status, Code::ResourceExhausted, "RATE_LIMITED");
    assert!(message.contains("retry in"), "{message}");
    let retry: u64 = status
        .metadata()
        .get("retry-after-ms")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 60_000, "{retry}");
    app.login("grace", &auth_key("grace")).await.unwrap();
}

#[tokio::test]
async fn login_flood_from_one_address_is_limited() {
    let app = spawn_app_with(|s| s.auth.login_attempts_per_minute_per_peer = 5).await;
    for i in 0..5 {
        let status = app.login(&format!("ghost{i}"), &[1; 32]).await.unwrap_err();
        assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    }
    let status = app.login("ghost-next", &[1; 32]).await.unwrap_err();
    let message = assert_status(&status, Code::ResourceExhausted, "RATE_LIMITED");
    assert!(message.contains("address"), "{message}");
}

#[tokio::test]
async fn unknown_and_expired_refresh_tokens_are_refused() {
    let app = spawn_app_with(|s| s.auth.refresh_token_ttl_secs = 1).await;
    let device = app.new_user().await;
    let mut account = app.account.clone();
    for token in ["", "made-up", &"x".repeat(10_000)] {
        let status = account
            .refresh(v1::RefreshRequest {
                refresh_token: token.into(),
            })
            .await
            .unwrap_err();
        assert_status(&status, Code::Unauthenticated, "REFRESH_TOKEN_INVALID");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let status = account
        .refresh(v1::RefreshRequest {
            refresh_token: device.tokens.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "REFRESH_TOKEN_EXPIRED");
}

#[tokio::test]
async fn watch_streams_per_user_are_limited() {
    let app = spawn_app_with(|s| s.gateway.max_watch_streams_per_user = 2).await;
    let device = app.new_user().await;
    let _a = watch(&device).await;
    let b = watch(&device).await;
    let status = device
        .vault
        .clone()
        .watch(device.req(v1::WatchRequest {}))
        .await
        .unwrap_err();
    assert_status(&status, Code::ResourceExhausted, "TOO_MANY_STREAMS");
    // Closing one frees a slot.
    drop(b);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _c = watch(&device).await;
}

#[tokio::test]
async fn a_watch_stream_ends_when_its_session_is_revoked() {
    let app = spawn_app_with(|s| s.gateway.watch_revalidate_secs = 1).await;
    let laptop = app.new_user().await;
    let phone = app.device(&laptop.username).await;
    let mut events = watch(&phone).await;
    laptop
        .account
        .clone()
        .revoke_session(laptop.req(v1::RevokeSessionRequest {
            session_id: phone.session_id.clone(),
        }))
        .await
        .unwrap();
    let ended = tokio::time::timeout(WAIT, events.message())
        .await
        .expect("the stream ends within the revalidation period");
    let status = ended.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

/// Wrong two-factor codes are login attempts: they use up the account's
/// limit like wrong passwords, and then even the right code waits.
#[tokio::test]
async fn wrong_two_factor_codes_count_toward_the_login_limit() {
    let app = spawn_app_with(|s| s.auth.login_attempts_per_minute_per_user = 6).await;
    // Logging in, beginning and confirming: three attempts.
    let a = app.new_user().await;
    let (secret, _) = a.enable_two_factor().await;
    for _ in 0..3 {
        let status = login_with(&app, &a.username, "abcd-efgh-jkmn")
            .await
            .unwrap_err();
        assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_INVALID");
    }
    let right = totp_code(&secret, now_secs() + 30);
    let status = login_with(&app, &a.username, &right).await.unwrap_err();
    assert_status(&status, Code::ResourceExhausted, "RATE_LIMITED");
}

/// The auth database holds the TOTP secret only sealed and the recovery
/// codes only as HMACs: neither appears in any file of the data directory.
#[tokio::test]
async fn two_factor_secrets_are_not_on_disk_in_the_clear() {
    let app = spawn_app().await;
    let a = app.new_user().await;
    let (secret, recovery) = a.enable_two_factor().await;
    let raw = totp_rs::Secret::try_from_base32(&secret)
        .unwrap()
        .as_ref()
        .to_vec();
    let mut needles: Vec<Vec<u8>> = vec![raw, secret.into_bytes()];
    needles.extend(recovery.iter().map(|c| c.clone().into_bytes()));
    needles.extend(recovery.iter().map(|c| c.replace('-', "").into_bytes()));
    let mut scanned = 0;
    for entry in walk(app._data_dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        scanned += bytes.len();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} holds a two-factor secret",
                entry.display()
            );
        }
    }
    assert!(scanned > 0);
}

/// A flood of legacy sign-ins (the server hashes only for accounts not yet
/// moved to OPAQUE) queues for the server-side hash instead of running all
/// at once: with one slot and no time to wait, the logins that find it
/// taken are told to retry (RESOURCE_EXHAUSTED, SERVER_BUSY, a retry
/// time), and the flood over, a login goes through.
#[tokio::test]
async fn a_login_flood_waits_for_hash_slots_and_the_rest_are_told_to_retry() {
    let app = spawn_app_with(|s| {
        s.auth.max_concurrent_hashes = 1;
        s.auth.hash_queue_ms = 10;
    })
    .await;
    let names: Vec<String> = (0..8).map(|i| format!("flood-{i}")).collect();
    for name in &names {
        // Long enough (tens of milliseconds) that the logins overlap.
        app.plant_legacy_user(name, &auth_key(name), 65_536).await;
    }
    let keys: Vec<Vec<u8>> = names.iter().map(|name| auth_key(name)).collect();
    let logins = names
        .iter()
        .zip(&keys)
        .map(|(name, key)| app.legacy_login(name, key));
    let results = futures::future::join_all(logins).await;
    let busy: Vec<&tonic::Status> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(results.iter().any(Result::is_ok), "one login had the slot");
    assert!(!busy.is_empty(), "the others found it taken");
    for status in busy {
        let message = assert_status(status, Code::ResourceExhausted, "SERVER_BUSY");
        assert!(message.contains("busy"), "{message}");
        assert!(status.metadata().get("retry-after-ms").is_some());
    }
    app.legacy_login(&names[0], &auth_key(&names[0]))
        .await
        .unwrap();
}

/// OPAQUE's server steps take the same turns: while a legacy login's slow
/// hash holds the only one, a login start waits out the queue and is told
/// to retry; once the turn is free, it goes through.
#[tokio::test]
async fn an_opaque_login_waits_for_the_same_turns() {
    let app = spawn_app_with(|s| {
        s.auth.max_concurrent_hashes = 1;
        s.auth.hash_queue_ms = 10;
    })
    .await;
    let a = app.new_user().await;
    // 256 MiB: a few hundred milliseconds of the only turn.
    app.plant_legacy_user("slow-hash", &auth_key("slow-hash"), 262_144)
        .await;
    let key = auth_key("slow-hash");
    let hashed = std::sync::atomic::AtomicBool::new(false);
    let legacy = async {
        let login = app.legacy_login("slow-hash", &key).await;
        hashed.store(true, std::sync::atomic::Ordering::SeqCst);
        login
    };
    // Starts until one finds the turn taken, as long as the hash runs.
    let opaque = async {
        while !hashed.load(std::sync::atomic::Ordering::SeqCst) {
            if let Err(status) =
                opaque_login_start(&app.account, &a.username, &auth_key(&a.username)).await
            {
                return Some(status);
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        None
    };
    let (legacy, busy) = tokio::join!(legacy, opaque);
    legacy.unwrap();
    let status = busy.expect("no login start found the turn taken");
    let message = assert_status(&status, Code::ResourceExhausted, "SERVER_BUSY");
    assert!(message.contains("busy"), "{message}");
    app.login(&a.username, &auth_key(&a.username))
        .await
        .unwrap();
}

/// However often it refreshes, a session ends its lifetime after its
/// login: then its access token and its refresh token are both refused and
/// the device must log in again.
#[tokio::test]
async fn a_session_ends_after_its_lifetime_however_often_it_refreshes() {
    let app = spawn_app_with(|s| s.auth.session_lifetime_secs = 2).await;
    let device = app.new_user().await;
    assert!(device.tokens.refresh_expires_at_ms <= now_ms() + 2_000);
    let mut account = app.account.clone();
    let pair = account
        .refresh(v1::RefreshRequest {
            refresh_token: device.tokens.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    device.changes(0).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let status = device.changes(0).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "TOKEN_EXPIRED");
    let status = account
        .refresh(v1::RefreshRequest {
            refresh_token: pair.refresh_token,
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "REFRESH_TOKEN_EXPIRED");
    app.login(&device.username, &auth_key(&device.username))
        .await
        .unwrap();
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

//! Registration, login, offline unlock, sessions, token refresh, password
//! change.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gophkeeper_client::internals::{
    KdfParams, LoginStart, MasterKey, MasterSecret, OpaqueLogin, SaltBinding, Session, Transport,
    VaultKey, VaultKeys,
};
use gophkeeper_client::vault::{
    ApiError, CryptoError, EntryState, LoginReason, SecondFactor, Trust, Vault, VaultError,
    profile_status, stored_profile,
};
use gophkeeper_server::auth::AuthKeyHasher;
use gophkeeper_server::auth::sqlite::SqliteAuthStore;
use gophkeeper_server::auth::store::{AuthStore, Credential, NewUser, StoredKdf};
use gophkeeper_server::ids::UserId;
use secrecy::{ExposeSecret, SecretString};
use sqlx::Connection;

use crate::helpers::{Device, TestServer, execute_on, item_names, note, password, text_of};

/// What `status` shows comes from the client, read without the password:
/// the session, the queue, and whether the server answers.
#[tokio::test]
async fn a_profile_status_needs_no_password_and_follows_the_server() {
    const PING: Duration = Duration::from_secs(3);
    let mut server = TestServer::start().await;
    let laptop = Device::new();
    assert!(
        profile_status(laptop.profile(), PING)
            .await
            .unwrap()
            .is_none()
    );
    assert!(stored_profile(laptop.profile()).await.unwrap().is_none());

    let vault = laptop.register(&server, "erin").await;
    vault.add(&note("a", "b")).await.unwrap();
    drop(vault);
    let status = profile_status(laptop.profile(), PING)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.profile.username, "erin");
    assert!(status.logged_in && status.online, "{status:?}");
    assert_eq!((status.pending, status.conflicts), (0, 0));
    assert!(status.last_sync_ms.is_some());

    server.stop().await;
    let status = profile_status(laptop.profile(), PING)
        .await
        .unwrap()
        .unwrap();
    assert!(status.logged_in && !status.online, "{status:?}");
    assert_eq!(
        stored_profile(laptop.profile())
            .await
            .unwrap()
            .unwrap()
            .user_id,
        status.profile.user_id
    );
}

#[tokio::test]
async fn register_login_and_unlock_offline_with_the_right_password_only() {
    let mut server = TestServer::start().await;
    let laptop = Device::new();
    let vault = laptop.register(&server, "alice").await;
    let saved = vault.add(&note("diary", "dear diary")).await.unwrap();
    assert_eq!(saved.report.applied, 1);
    assert!(saved.report.offline.is_none());
    let status = vault.status().await.unwrap();
    assert_eq!((status.pending, status.username.as_str()), (0, "alice"));
    assert!(status.online && status.logged_in && status.last_sync_ms.is_some());
    vault.lock();

    // Registering the same name again is refused, in a clear way.
    let err = Vault::register(
        &server.options(),
        Device::new().profile(),
        "alice",
        &password(),
        &mut |_| true,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, VaultError::Api(ApiError::UsernameTaken)),
        "{err}"
    );

    server.stop().await;
    let vault = laptop.unlock().await;
    let entry = vault.get("diary").await.unwrap();
    assert_eq!(text_of(&entry.item), "dear diary");
    assert_eq!(entry.state, EntryState::Synced);
    assert!(entry.revision > 0);
    assert_eq!(vault.get(&entry.id.to_string()).await.unwrap().id, entry.id);
    assert!(matches!(
        vault.get("nope").await,
        Err(VaultError::NotFound(_))
    ));
    drop(vault);

    let err = Vault::unlock(laptop.profile(), &SecretString::from("wrong"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::WrongPassword));
    assert_eq!(err.to_string(), "wrong master password");
    let err = Vault::unlock(Device::new().profile(), &password())
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NoProfile { .. }), "{err}");

    // A second device logs in with the password and gets the same vault.
    server.restart().await;
    let phone = Device::new();
    let err = Vault::login(
        &server.options(),
        phone.profile(),
        "alice",
        &SecretString::from("wrong"),
        &mut |_| true,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, VaultError::Api(ApiError::BadCredentials)),
        "{err}"
    );
    let vault = phone.login(&server, "alice").await;
    assert_eq!(
        text_of(&vault.get("diary").await.unwrap().item),
        "dear diary"
    );
    let sessions = vault.sessions().await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
}

#[tokio::test]
async fn tokens_refresh_by_themselves_and_the_rotated_one_is_kept() {
    // Access tokens that live one second: every call needs a refresh.
    let server = TestServer::start_with(|s| s.auth.access_token_ttl_secs = 1).await;
    let device = Device::new();
    let vault = device.register(&server, "dave").await;
    let first = vault.token_store().load().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    vault.add(&note("a", "1")).await.unwrap();
    vault.sync().await.unwrap();
    let rotated = vault.token_store().load().await.unwrap();
    assert_ne!(first, rotated, "the rotated refresh token must be stored");
    drop(vault);

    // A fresh process continues with the stored token: had an old one been
    // kept, the server would see a reuse and revoke the session.
    let vault = device.unlock().await;
    let report = vault.sync().await.unwrap();
    assert!(report.offline.is_none());
    assert_eq!(vault.list().await.unwrap().len(), 1);
    vault.logout().await.unwrap();
    let vault = device.unlock().await;
    let err = vault.sync().await.unwrap_err();
    assert!(
        matches!(
            err,
            VaultError::Api(ApiError::LoginRequired {
                reason: LoginReason::NotLoggedIn,
                ..
            })
        ),
        "{err}"
    );
    // Reading still works after logout.
    assert_eq!(vault.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_password_change_sends_other_devices_to_log_in_again() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let mut vault_a = a.register(&server, "erin").await;
    vault_a.add(&note("one", "first")).await.unwrap();
    let vault_b = b.login(&server, "erin").await;
    vault_b.add(&note("two", "second")).await.unwrap();

    let new_password = SecretString::from("a much better passphrase");
    let err = vault_a
        .change_password(&SecretString::from("not it"), &new_password)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::WrongPassword));
    vault_a
        .change_password(&password(), &new_password)
        .await
        .unwrap();
    // Device A goes on; its cache now unlocks with the new password only.
    vault_a.sync().await.unwrap();
    drop(vault_a);
    assert!(matches!(
        Vault::unlock(a.profile(), &password()).await,
        Err(VaultError::WrongPassword)
    ));
    let vault_a = Vault::unlock(a.profile(), &new_password).await.unwrap();
    assert_eq!(vault_a.list().await.unwrap().len(), 2);

    // Device B is told to log in again, clearly.
    let err = vault_b.sync().await.unwrap_err();
    match &err {
        VaultError::Api(api) => assert!(api.needs_login(), "{err}"),
        other => panic!("expected log in again, got {other}"),
    }
    drop(vault_b);
    let old = Vault::login(
        &server.options(),
        b.profile(),
        "erin",
        &password(),
        &mut |_| true,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(old, VaultError::Api(ApiError::BadCredentials)),
        "{old}"
    );
    let vault_b = Vault::login(
        &server.options(),
        b.profile(),
        "erin",
        &new_password,
        &mut |_| true,
    )
    .await
    .unwrap();
    assert_eq!(item_names(&vault_b).await, ["one", "two"]);
    // Sessions: A and B's new one are live; revoking B ends it.
    let sessions = vault_a.sessions().await.unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let other = sessions.iter().find(|s| !s.current).unwrap();
    vault_a.revoke_session(&other.session_id).await.unwrap();
    let err = vault_b.sync().await.unwrap_err();
    assert!(err.to_string().contains("log in again"), "{err}");
}

/// A server that answers prelogin with cheaper KDF costs than this device
/// already used for the account is refused before any hashing (issue 16,
/// item 3); the device's profile stays as it was.
#[tokio::test]
async fn a_login_refuses_kdf_costs_lower_than_the_profile_knows() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let _vault_a = a.register(&server, "costs").await;
    drop(b.login(&server, "costs").await);
    // As if another device had raised the costs and this one had seen it:
    // the server's 64 MiB is now lower than what the profile knows.
    execute_on(
        &b.profile().join("cache.db"),
        "UPDATE profile SET kdf_memory_kib = 131072",
    )
    .await;
    let err = failed_login(&server, &b, "costs").await;
    assert!(
        matches!(
            err,
            VaultError::Crypto(CryptoError::KdfLowered {
                value: 65536,
                known: 131072,
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("lower than the 131072"), "{err}");
    let kept = stored_profile(b.profile()).await.unwrap().unwrap();
    assert_eq!(kept.kdf.memory_kib, 131_072);
}

/// The master-password rule lives in the library, so every interface
/// gets it: a weak password is refused by `register` and
/// `change_password` before anything is written or sent.
#[tokio::test]
async fn weak_master_passwords_are_refused_before_anything_happens() {
    let server = TestServer::start().await;
    let laptop = Device::new();
    for weak in ["hunter2", "passwordpassword", "frank2026frank"] {
        let err = Vault::register(
            &server.options(),
            laptop.profile(),
            "frank",
            &SecretString::from(weak),
            &mut |_| true,
        )
        .await
        .unwrap_err();
        let VaultError::WeakPassword(weakness) = &err else {
            panic!("expected a weak-password refusal, got {err}");
        };
        assert!(weakness.too_short || weakness.score < 3, "{weakness:?}");
        assert!(!err.to_string().contains(weak), "{err}");
        // Nothing on disk, nothing on the server.
        assert_eq!(std::fs::read_dir(laptop.profile()).unwrap().count(), 0);
        assert!(stored_profile(laptop.profile()).await.unwrap().is_none());
    }
    let mut vault = laptop.register(&server, "frank").await;

    let err = vault
        .change_password(&password(), &SecretString::from("frank2026frank"))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::WeakPassword(_)), "{err}");
    drop(vault);
    // Unchanged: the old password still opens it and still logs in.
    Vault::unlock(laptop.profile(), &password()).await.unwrap();
    Device::new().login(&server, "frank").await;
}

/// The code an authenticator app shows for this secret `ahead` seconds
/// from now.
fn totp_code(secret_base32: &SecretString, ahead: u64) -> SecretString {
    let secret = totp_rs::Secret::try_from_base32(secret_base32.expose_secret()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .build_noncompliant();
    SecretString::from(totp.generate(now + ahead).to_string())
}

/// With two-factor login on, a new device's login asks for a code only
/// when the server says the account needs one (the master password is
/// stretched once), or sends the one given; without one it fails and
/// keeps no profile. Signed-in devices are not asked.
#[tokio::test]
async fn a_second_factor_is_asked_only_when_the_account_needs_it() {
    // Each login here is an attempt against the account's limit.
    let server = TestServer::start_with(|s| s.auth.login_attempts_per_minute_per_user = 100).await;
    let laptop = Device::new();
    let vault = laptop.register(&server, "second").await;
    assert!(!vault.two_factor_status().await.unwrap().enabled);
    let wrong = SecretString::from("not the master password");
    assert!(matches!(
        vault.begin_two_factor(&wrong).await.unwrap_err(),
        VaultError::WrongPassword
    ));
    let setup = vault.begin_two_factor(&password()).await.unwrap();
    assert!(!format!("{setup:?}").contains(setup.secret_base32.expose_secret()));
    let recovery = vault
        .enable_two_factor(totp_code(&setup.secret_base32, 0).expose_secret())
        .await
        .unwrap();
    assert_eq!(recovery.len(), 10);
    let status = vault.two_factor_status().await.unwrap();
    assert_eq!((status.enabled, status.recovery_codes_left), (true, 10));

    let login = |device: &Device, second_factor: SecondFactor| {
        let mut options = server.options();
        options.second_factor = second_factor;
        let dir = device.profile().to_owned();
        async move { Vault::login(&options, &dir, "second", &password(), &mut |_| false).await }
    };
    let phone = Device::new();
    let err = login(&phone, SecondFactor::None).await.unwrap_err();
    assert!(
        matches!(err, VaultError::Api(ApiError::SecondFactorRequired)),
        "{err}"
    );
    assert!(stored_profile(phone.profile()).await.unwrap().is_none());
    let err = login(&phone, SecondFactor::Ask(Arc::new(|| None)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Api(ApiError::SecondFactorRequired)),
        "{err}"
    );
    let asked = Arc::new(AtomicUsize::new(0));
    let next_code = totp_code(&setup.secret_base32, 30);
    let ask = {
        let asked = asked.clone();
        Arc::new(move || {
            asked.fetch_add(1, Ordering::SeqCst);
            Some(next_code.clone())
        })
    };
    login(&phone, SecondFactor::Ask(ask)).await.unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 1);

    let tablet = Device::new();
    let spent = SecondFactor::Code(recovery[0].clone());
    login(&tablet, spent.clone()).await.unwrap();
    let err = login(&Device::new(), spent).await.unwrap_err();
    assert!(
        matches!(err, VaultError::Api(ApiError::SecondFactorInvalid)),
        "{err}"
    );
    // Signed-in devices go on without a code.
    vault.sync().await.unwrap();

    vault
        .disable_two_factor(&password(), recovery[1].expose_secret())
        .await
        .unwrap();
    assert!(!vault.two_factor_status().await.unwrap().enabled);
    login(&Device::new(), SecondFactor::None).await.unwrap();
}

/// An account from before OPAQUE (its auth-key hash, unbound salt and
/// wrapped key as an old server kept them) keeps working: its next login
/// moves it to OPAQUE with the salt bound to the user name and drops the
/// legacy hash, so the legacy login is refused from then on; the old
/// client's session goes on; the profile unlocks offline; another device
/// logs in with OPAQUE; and a device that knows the account bound refuses
/// a server that asks for the unbound salt again.
#[tokio::test]
async fn a_legacy_account_moves_to_opaque_at_its_next_login() {
    let server = TestServer::start().await;
    let trust = Trust::CaFile(server.ca());
    let raw_session =
        async || Session::new(Transport::open(server.url(), trust.clone()).await.unwrap());
    let legacy = KdfParams::generate_default();
    let master = MasterKey::derive(&password(), &legacy).unwrap();
    let vault_key = VaultKey::generate();
    let auth_db = server.data.path().join("auth.db");
    plant_legacy_account(
        &auth_db,
        "legacy",
        &legacy,
        master.auth_key().as_bytes(),
        master
            .key_encryption_key()
            .wrap(&VaultKeys::first(vault_key)),
    )
    .await;
    let old_client = raw_session().await;
    old_client
        .legacy_login("legacy", &master.auth_key(), "old client", None)
        .await
        .unwrap();
    let start = login_start(&raw_session().await, "legacy").await;
    assert!(start.legacy);
    assert_eq!(start.kdf.binding, SaltBinding::Unbound);

    let laptop = Device::new();
    let vault = laptop.login(&server, "legacy").await;
    vault.add(&note("kept", "through the move")).await.unwrap();
    let start = login_start(&raw_session().await, "legacy").await;
    assert!(!start.legacy);
    assert_eq!(start.kdf.binding, SaltBinding::User("legacy".into()));
    assert_ne!(start.kdf.salt, legacy.salt);
    // The legacy verifier is gone; its login now fails as a wrong password.
    assert_eq!(
        query_text(
            &auth_db,
            "SELECT auth_hash || ':' || length(opaque_record) FROM users"
        )
        .await
        .split_once(':')
        .map(|(hash, len)| (hash.to_owned(), len.parse::<usize>().unwrap() > 0)),
        Some((String::new(), true))
    );
    let err = raw_session()
        .await
        .legacy_login("legacy", &master.auth_key(), "old client", None)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::BadCredentials), "{err}");
    let profile = stored_profile(laptop.profile()).await.unwrap().unwrap();
    assert_eq!(profile.kdf, start.kdf);
    // The old client's session was kept.
    assert_eq!(old_client.list_sessions().await.unwrap().len(), 2);
    drop(vault);
    let unlocked = laptop.unlock().await;
    assert_eq!(
        text_of(&unlocked.get("kept").await.unwrap().item),
        "through the move"
    );
    drop(unlocked);
    // A second device logs in with OPAQUE and reads the same.
    let phone = Device::new();
    let vault = phone.login(&server, "legacy").await;
    assert_eq!(vault.list().await.unwrap().len(), 1);
    drop(vault);

    // The server asks for the unbound salt again: refused before hashing.
    execute_on(&auth_db, "UPDATE users SET kdf_algorithm = 'argon2id'").await;
    let err = failed_login(&server, &laptop, "legacy").await;
    assert!(
        matches!(err, VaultError::Crypto(CryptoError::SaltUnbound)),
        "{err}"
    );
}

/// A login's first round trip for `username`, as a client starts it.
async fn login_start(session: &Session, username: &str) -> LoginStart {
    let (_, request) = OpaqueLogin::start(&MasterSecret::new(password(), None)).unwrap();
    session.login_start(username, request).await.unwrap()
}

/// Writes an account as a server from before OPAQUE stored it: an
/// Argon2id hash of the auth key, no OPAQUE record.
async fn plant_legacy_account(
    auth_db: &std::path::Path,
    username: &str,
    kdf: &KdfParams,
    auth_key: &[u8],
    wrapped_vault_key: Vec<u8>,
) {
    let store = SqliteAuthStore::open(auth_db).await.unwrap();
    let hash = AuthKeyHasher::new(1024, 1).unwrap().hash(auth_key).unwrap();
    store
        .create_user(
            &NewUser {
                user_id: UserId::new_random(),
                username: username.into(),
                username_key: username.into(),
                credential: Credential::Legacy(hash),
                kdf: StoredKdf {
                    algorithm: kdf.algorithm().into(),
                    memory_kib: kdf.memory_kib,
                    iterations: kdf.iterations,
                    parallelism: kdf.parallelism,
                    salt: kdf.salt.to_vec(),
                },
                wrapped_vault_key,
            },
            0,
        )
        .await
        .unwrap();
    store.close().await;
}

/// One text value a query on a SQLite file gives.
async fn query_text(file: &std::path::Path, query: &'static str) -> String {
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let value: String = sqlx::query_scalar(query).fetch_one(&mut db).await.unwrap();
    db.close().await.unwrap();
    value
}

/// A login of `device` that must fail; its error.
async fn failed_login(server: &TestServer, device: &Device, user: &str) -> VaultError {
    Vault::login(
        &server.options(),
        device.profile(),
        user,
        &password(),
        &mut |_| false,
    )
    .await
    .expect_err("the login must fail")
}

/// The stolen-database case through the real client: the server's files
/// without its secret (the secrets directory deleted, a fresh secret made
/// on start). The right password then fails exactly like a wrong one; the
/// device that had logged in still unlocks offline from its own copy.
#[tokio::test]
async fn a_server_without_its_secret_cannot_confirm_the_right_password() {
    let mut server = TestServer::start().await;
    let laptop = Device::new();
    let vault = laptop.register(&server, "stolen").await;
    vault.add(&note("kept", "on the laptop")).await.unwrap();
    drop(vault);
    server.stop().await;
    std::fs::remove_dir_all(server.data.path().join("secrets")).unwrap();
    server.restart().await;

    let right = failed_login(&server, &Device::new(), "stolen").await;
    let wrong = Vault::login(
        &server.options(),
        Device::new().profile(),
        "stolen",
        &SecretString::from("not the password at all"),
        &mut |_| false,
    )
    .await
    .expect_err("a wrong password must fail");
    assert!(
        matches!(right, VaultError::Api(ApiError::BadCredentials)),
        "{right}"
    );
    assert_eq!(right.to_string(), wrong.to_string());
    let unlocked = laptop.unlock().await;
    assert_eq!(
        text_of(&unlocked.get("kept").await.unwrap().item),
        "on the laptop"
    );
}

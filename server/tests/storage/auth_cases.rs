//! Auth store cases for every engine: users, sessions, refresh-token
//! rotation and theft detection, credential changes, OPAQUE logins in
//! flight.

use gophkeeper_server::auth::store::{
    AuthStoreError, Credential, NewRefreshToken, NewUser, OtherSessions, PendingLogin, Rotation,
    SessionRow, StoredKdf,
};
use gophkeeper_server::auth::username;
use gophkeeper_server::ids::{SessionId, UserId};
use rand::RngCore;

use crate::engines::{Case, Stores, case};

pub fn cases() -> Vec<Case> {
    vec![
        case!(create_user_and_name_taken_in_any_case),
        case!(sessions_are_listed_and_revoked),
        case!(rotation_uses_each_token_once_and_reuse_revokes),
        case!(no_refresh_token_outlives_its_sessions_lifetime),
        case!(change_credentials_revokes_other_sessions),
        case!(a_pending_login_is_taken_once_and_expires),
    ]
}

/// A session lifetime beyond every time used here.
const FOREVER: i64 = i64::MAX / 2;

fn kdf(salt: u8) -> StoredKdf {
    StoredKdf {
        algorithm: "argon2id".into(),
        memory_kib: 65_536,
        iterations: 3,
        parallelism: 4,
        salt: vec![salt; 16],
    }
}

/// A user with a name no other case uses (the stores are shared).
fn new_user(display: &str) -> NewUser {
    let username = format!("{display}-{}", uuid::Uuid::new_v4().simple());
    NewUser {
        user_id: UserId::new_random(),
        username_key: username::key(&username).unwrap(),
        username,
        credential: Credential::Legacy("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        kdf: kdf(1),
        wrapped_vault_key: vec![9; 72],
    }
}

async fn registered(stores: &Stores) -> UserId {
    let user = new_user("user");
    stores.auth.create_user(&user, 1_000).await.unwrap();
    user.user_id
}

fn token_hash() -> [u8; 32] {
    let mut hash = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut hash);
    hash
}

/// Starts a session at `at_ms` whose first token is live until `expires_at_ms`.
async fn session(
    stores: &Stores,
    user: UserId,
    at_ms: i64,
    expires_at_ms: i64,
) -> (SessionRow, [u8; 32]) {
    let row = SessionRow {
        session_id: SessionId::new_random(),
        user_id: user,
        device_name: format!("device at {at_ms}"),
        created_at_ms: at_ms,
        last_seen_at_ms: at_ms,
        revoked_at_ms: None,
    };
    let hash = token_hash();
    let token = NewRefreshToken {
        token_hash: hash,
        session_id: row.session_id,
        expires_at_ms,
    };
    stores.auth.create_session(&row, &token).await.unwrap();
    (row, hash)
}

async fn create_user_and_name_taken_in_any_case(stores: Stores) {
    let user = new_user("Alice");
    stores.auth.create_user(&user, 1_000).await.unwrap();

    let found = stores
        .auth
        .find_user_by_key(&user.username_key)
        .await
        .unwrap()
        .expect("found by key");
    assert_eq!(found.user_id, user.user_id);
    assert_eq!(found.username, user.username);
    assert_eq!(found.credential, user.credential);
    assert_eq!(found.kdf, user.kdf);
    assert_eq!(found.wrapped_vault_key, user.wrapped_vault_key);
    let by_id = stores.auth.find_user(user.user_id).await.unwrap().unwrap();
    assert_eq!(by_id.username, user.username);

    // The same name in other letters has the same key: taken.
    let shouting = user.username.to_uppercase();
    let mut twin = new_user("x");
    twin.username_key = username::key(&shouting).unwrap();
    twin.username = shouting;
    assert_eq!(twin.username_key, user.username_key);
    let err = stores.auth.create_user(&twin, 2_000).await.unwrap_err();
    assert!(matches!(err, AuthStoreError::UsernameTaken), "{err:?}");
    assert!(stores.auth.find_user(twin.user_id).await.unwrap().is_none());
    let still = stores
        .auth
        .find_user_by_key(&user.username_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.user_id, user.user_id);

    assert!(
        stores
            .auth
            .find_user_by_key("nobody-by-this-name")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        stores
            .auth
            .find_user(UserId::new_random())
            .await
            .unwrap()
            .is_none()
    );
}

async fn sessions_are_listed_and_revoked(stores: Stores) {
    let user = registered(&stores).await;
    let other = registered(&stores).await;
    let (first, _) = session(&stores, user, 1_000, 100_000).await;
    let (second, _) = session(&stores, user, 2_000, 100_000).await;

    assert_eq!(
        stores.auth.find_session(first.session_id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        stores.auth.list_sessions(user).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert!(stores.auth.list_sessions(other).await.unwrap().is_empty());

    // Only the owner can revoke, and only once.
    assert!(
        !stores
            .auth
            .revoke_session(other, first.session_id, "not yours", 2_500)
            .await
            .unwrap()
    );
    assert!(
        stores
            .auth
            .revoke_session(user, second.session_id, "signed out", 3_000)
            .await
            .unwrap()
    );
    assert!(
        !stores
            .auth
            .revoke_session(user, second.session_id, "again", 4_000)
            .await
            .unwrap()
    );

    assert_eq!(
        stores.auth.list_sessions(user).await.unwrap(),
        vec![first.clone()]
    );
    let revoked = stores
        .auth
        .find_session(second.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at_ms, Some(3_000));
    assert!(
        stores
            .auth
            .find_session(SessionId::new_random())
            .await
            .unwrap()
            .is_none()
    );
}

async fn rotation_uses_each_token_once_and_reuse_revokes(stores: Stores) {
    let user = registered(&stores).await;
    let (row, t1) = session(&stores, user, 1_000, 10_000).await;
    let rotated = |expires_at_ms| Rotation::Rotated {
        user_id: user,
        session_id: row.session_id,
        expires_at_ms,
    };

    let t2 = token_hash();
    let result = stores
        .auth
        .rotate_refresh_token(&t1, &t2, 20_000, FOREVER, 5_000)
        .await
        .unwrap();
    assert_eq!(result, rotated(20_000));
    let seen = stores
        .auth
        .find_session(row.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.last_seen_at_ms, 5_000);

    let t3 = token_hash();
    let result = stores
        .auth
        .rotate_refresh_token(&t2, &t3, 30_000, FOREVER, 6_000)
        .await
        .unwrap();
    assert_eq!(result, rotated(30_000));

    // t1 again: someone replays a used token, so the session is revoked...
    let result = stores
        .auth
        .rotate_refresh_token(&t1, &token_hash(), 40_000, FOREVER, 7_000)
        .await
        .unwrap();
    assert_eq!(
        result,
        Rotation::Reused {
            session_id: row.session_id
        }
    );
    let revoked = stores
        .auth
        .find_session(row.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at_ms, Some(7_000));
    assert!(stores.auth.list_sessions(user).await.unwrap().is_empty());
    // ...and the live token of that session is dead too.
    let result = stores
        .auth
        .rotate_refresh_token(&t3, &token_hash(), 40_000, FOREVER, 8_000)
        .await
        .unwrap();
    assert_eq!(result, Rotation::Revoked);

    let result = stores
        .auth
        .rotate_refresh_token(&token_hash(), &token_hash(), 40_000, FOREVER, 8_000)
        .await
        .unwrap();
    assert_eq!(result, Rotation::Unknown);

    let (other, old) = session(&stores, user, 1_000, 2_000).await;
    let result = stores
        .auth
        .rotate_refresh_token(&old, &token_hash(), 40_000, FOREVER, 2_000)
        .await
        .unwrap();
    assert_eq!(result, Rotation::Expired);
    let still = stores
        .auth
        .find_session(other.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.revoked_at_ms, None, "expiry alone revokes nothing");
}

/// A session that logged in at 1 s and lives 15 s: a refresh at 5 s asking
/// for 40 s gets a token that ends with the session, and at 16 s even a
/// live token is refused, however recently it was rotated.
async fn no_refresh_token_outlives_its_sessions_lifetime(stores: Stores) {
    let user = registered(&stores).await;
    let (row, t1) = session(&stores, user, 1_000, 10_000).await;
    let t2 = token_hash();
    let result = stores
        .auth
        .rotate_refresh_token(&t1, &t2, 40_000, 15_000, 5_000)
        .await
        .unwrap();
    assert_eq!(
        result,
        Rotation::Rotated {
            user_id: user,
            session_id: row.session_id,
            expires_at_ms: 16_000,
        }
    );
    let result = stores
        .auth
        .rotate_refresh_token(&t2, &token_hash(), 40_000, 15_000, 16_000)
        .await
        .unwrap();
    assert_eq!(result, Rotation::Expired);
}

async fn change_credentials_revokes_other_sessions(stores: Stores) {
    let user = new_user("changer");
    stores.auth.create_user(&user, 1_000).await.unwrap();
    let (s1, _) = session(&stores, user.user_id, 1_000, 100_000).await;
    let (s2, t2) = session(&stores, user.user_id, 2_000, 100_000).await;
    let (s3, t3) = session(&stores, user.user_id, 3_000, 100_000).await;

    let new_kdf = kdf(2);
    stores
        .auth
        .change_credentials(
            user.user_id,
            b"opaque record, new",
            &new_kdf,
            &[5; 72],
            OtherSessions::RevokeAllBut(s2.session_id),
            9_000,
        )
        .await
        .unwrap();

    assert_eq!(
        stores.auth.list_sessions(user.user_id).await.unwrap(),
        vec![s2.clone()]
    );
    for gone in [&s1, &s3] {
        let row = stores
            .auth
            .find_session(gone.session_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.revoked_at_ms, Some(9_000));
    }
    let row = stores
        .auth
        .find_user_by_key(&user.username_key)
        .await
        .unwrap()
        .unwrap();
    // A legacy account's hash is replaced by the OPAQUE record.
    assert_eq!(
        row.credential,
        Credential::Opaque(b"opaque record, new".to_vec())
    );
    assert_eq!(row.kdf, new_kdf);
    assert_eq!(row.wrapped_vault_key, vec![5; 72]);

    // The kept session goes on; a revoked one cannot refresh.
    let result = stores
        .auth
        .rotate_refresh_token(&t2, &token_hash(), 200_000, FOREVER, 10_000)
        .await
        .unwrap();
    assert!(matches!(result, Rotation::Rotated { .. }), "{result:?}");
    let result = stores
        .auth
        .rotate_refresh_token(&t3, &token_hash(), 200_000, FOREVER, 10_000)
        .await
        .unwrap();
    assert_eq!(result, Rotation::Revoked);

    // The same password under new parameters: every live session stays.
    let upgraded = kdf(3);
    stores
        .auth
        .change_credentials(
            user.user_id,
            b"opaque record, upgraded",
            &upgraded,
            &[6; 72],
            OtherSessions::Keep,
            11_000,
        )
        .await
        .unwrap();
    let (s4, _) = session(&stores, user.user_id, 12_000, 100_000).await;
    stores
        .auth
        .change_credentials(
            user.user_id,
            b"opaque record, again",
            &kdf(4),
            &[7; 72],
            OtherSessions::Keep,
            13_000,
        )
        .await
        .unwrap();
    assert_eq!(
        stores.auth.list_sessions(user.user_id).await.unwrap().len(),
        2,
        "{s4:?} and the changing session stay"
    );
}

/// A login started on one auth process may be finished on another, once:
/// taking it removes it; an expired one is not given out and is dropped.
async fn a_pending_login_is_taken_once_and_expires(stores: Stores) {
    let user = new_user("pending");
    stores.auth.create_user(&user, 1_000).await.unwrap();
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let login = PendingLogin {
        login_id: id,
        user_id: Some(user.user_id),
        sealed_state: vec![3; 200],
        password_verified_at_ms: None,
        expires_at_ms: 5_000,
    };
    stores.auth.put_login(&login).await.unwrap();
    let taken = stores.auth.take_login(&id, 4_999).await.unwrap().unwrap();
    assert_eq!(taken.user_id, Some(user.user_id));
    assert_eq!(taken.sealed_state, vec![3; 200]);
    assert_eq!(taken.password_verified_at_ms, None);
    assert!(stores.auth.take_login(&id, 4_999).await.unwrap().is_none());

    // Kept for a second factor; then past its time.
    let kept = PendingLogin {
        password_verified_at_ms: Some(4_000),
        ..login.clone()
    };
    stores.auth.put_login(&kept).await.unwrap();
    assert!(stores.auth.take_login(&id, 5_000).await.unwrap().is_none());
    // A name with no account has its login kept the same way.
    let ghost = PendingLogin {
        user_id: None,
        ..login
    };
    stores.auth.put_login(&ghost).await.unwrap();
    assert!(stores.auth.forget_expired_logins(4_000).await.unwrap() == 0);
    assert!(stores.auth.forget_expired_logins(6_000).await.unwrap() >= 1);
    assert!(stores.auth.take_login(&id, 0).await.unwrap().is_none());
}

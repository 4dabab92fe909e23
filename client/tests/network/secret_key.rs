//! The optional Secret Key (issue 16, item 2; docs/design.md, "Secret
//! Key"): a new device needs it, typos and wrong keys are told apart, the
//! server's files and secrets without it confirm nothing, a laptop's files
//! without it give nothing to guess against, and turning it on signs the
//! other devices out until they log in with it.

use std::path::Path;
use std::sync::Arc;

use gophkeeper_client::internals::{
    KdfParams, MasterKey, MasterSecret, OpaqueError, OpaqueLogin, Session, Transport,
};
use gophkeeper_client::vault::{
    ApiError, CryptoError, SecretKey, SecretKeyInput, Vault, VaultError, stored_profile,
};
use secrecy::{ExposeSecret, SecretString};

use crate::helpers::{Device, TestServer, execute_on, note, password, text_of};

fn with_key(server: &TestServer, key: SecretKeyInput) -> gophkeeper_client::vault::ConnectOptions {
    let mut options = server.options();
    options.secret_key = key;
    options
}

/// Answers the Secret Key question with `text`.
fn answer(text: String) -> SecretKeyInput {
    SecretKeyInput::Ask(Arc::new(move || Some(SecretString::from(text.as_str()))))
}

async fn login_with(
    server: &TestServer,
    device: &Device,
    user: &str,
    key: SecretKeyInput,
) -> Result<Vault, VaultError> {
    Vault::login(
        &with_key(server, key),
        device.profile(),
        user,
        &password(),
        &mut |_| false,
    )
    .await
}

async fn register_with_key(server: &TestServer, device: &Device, user: &str) -> (Vault, SecretKey) {
    let key = SecretKey::generate();
    let vault = Vault::register(
        &with_key(server, SecretKeyInput::Given(key.clone())),
        device.profile(),
        user,
        &password(),
        &mut |_| false,
    )
    .await
    .unwrap();
    (vault, key)
}

fn assert_needs_key(err: &VaultError) {
    assert!(
        matches!(err, VaultError::Crypto(CryptoError::SecretKeyNeeded)),
        "{err}"
    );
}

#[tokio::test]
async fn a_new_device_needs_the_secret_key_and_keeps_it() {
    let server = TestServer::start().await;
    let laptop = Device::new();
    let (vault, key) = register_with_key(&server, &laptop, "two-secrets").await;
    assert!(vault.has_secret_key());
    assert_eq!(vault.kept_secret_key().await.unwrap().as_ref(), Some(&key));
    vault.add(&note("n", "both secrets")).await.unwrap();
    drop(vault);

    let phone = Device::new();
    let none = login_with(&server, &phone, "two-secrets", SecretKeyInput::Stored)
        .await
        .unwrap_err();
    assert_needs_key(&none);
    assert!(none.to_string().contains("GOPHKEEPER_SECRET_KEY"), "{none}");
    let text = key.to_text().expose_secret().to_owned();
    // One character off: a typo, named as such, before any guess is spent.
    // (About 1 typo in 256 passes the check byte; take one that does not.)
    let typo = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        .chars()
        .map(|c| format!("{}{c}{}", &text[..5], &text[6..]))
        .find(|typo| *typo != text && SecretKey::parse(typo).is_err())
        .unwrap();
    let typed = login_with(&server, &phone, "two-secrets", answer(typo))
        .await
        .unwrap_err();
    assert!(
        matches!(typed, VaultError::Crypto(CryptoError::SecretKeyMistyped)),
        "{typed}"
    );
    // A well-formed key of another account: as a wrong password.
    let other = SecretKey::generate().to_text().expose_secret().to_owned();
    let wrong = login_with(&server, &phone, "two-secrets", answer(other))
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, VaultError::Api(ApiError::BadCredentials)),
        "{wrong}"
    );
    // Typed as people copy it: lower case, spaces.
    let sloppy = text.to_lowercase().replace('-', " ");
    let vault = login_with(&server, &phone, "two-secrets", answer(sloppy))
        .await
        .unwrap();
    assert_eq!(text_of(&vault.get("n").await.unwrap().item), "both secrets");
    assert_eq!(vault.kept_secret_key().await.unwrap().as_ref(), Some(&key));
    drop(vault);
    // Kept: the next unlock and login on this device ask nothing.
    phone.unlock().await;
    phone.login(&server, "two-secrets").await;
    laptop.unlock().await;
}

/// The server's databases and its secrets directory, all of it: the right
/// password without the Secret Key still fails at the OPAQUE step itself,
/// so nothing there lets a guess of the password alone be tested.
#[tokio::test]
async fn the_whole_server_without_the_key_cannot_confirm_the_password() {
    let server = TestServer::start().await;
    let (vault, key) = register_with_key(&server, &Device::new(), "whole-server").await;
    drop(vault);
    let transport = Transport::open(
        server.url(),
        gophkeeper_client::vault::Trust::CaFile(server.ca()),
    )
    .await
    .unwrap();
    let session = Session::new(transport);
    // An attacker who runs the server's own code on its own files tries
    // the right password alone, as if the account had no Secret Key.
    let alone = MasterSecret::new(password(), None);
    let (state, request) = OpaqueLogin::start(&alone).unwrap();
    let start = session.login_start("whole-server", request).await.unwrap();
    assert!(start.kdf.secret_key, "the account says it has a Secret Key");
    let as_if_none = KdfParams {
        secret_key: false,
        ..start.kdf.clone()
    };
    let refused = state
        .finish(&alone, &start.credential_response, &as_if_none)
        .unwrap_err();
    assert!(matches!(refused, OpaqueError::Refused), "{refused:?}");
    // With the key the same steps succeed: the failure above was the key.
    let both = MasterSecret::new(password(), Some(key));
    let (state, request) = OpaqueLogin::start(&both).unwrap();
    let start = session.login_start("whole-server", request).await.unwrap();
    state
        .finish(&both, &start.credential_response, &start.kdf)
        .unwrap();
}

/// A laptop's files without the Secret Key (kept in the OS keyring, which
/// a copy of the disk does not open): the right password neither unlocks
/// the profile nor opens its copy of the vault key.
#[tokio::test]
async fn a_laptops_files_without_the_key_give_nothing_to_guess_against() {
    let server = TestServer::start().await;
    let laptop = Device::new();
    let (vault, _key) = register_with_key(&server, &laptop, "stolen-laptop").await;
    drop(vault);
    let copy = tempfile::tempdir().unwrap();
    copy_profile(laptop.profile(), copy.path());
    std::fs::remove_file(copy.path().join("secret-key")).unwrap();

    let err = Vault::unlock(copy.path(), &password()).await.unwrap_err();
    assert_needs_key(&err);
    let profile = stored_profile(copy.path()).await.unwrap().unwrap();
    assert!(profile.kdf.secret_key);
    let as_if_none = KdfParams {
        secret_key: false,
        ..profile.kdf.clone()
    };
    let guess = MasterKey::derive(&password(), &as_if_none).unwrap();
    assert!(
        guess
            .key_encryption_key()
            .unwrap(&profile.wrapped_vault_key)
            .is_err(),
        "the right password alone must not open the laptop's copy"
    );
}

fn copy_profile(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[tokio::test]
async fn turning_the_key_on_signs_other_devices_out_until_they_bring_it() {
    let server = TestServer::start().await;
    let laptop = Device::new();
    let mut vault = laptop.register(&server, "later-key").await;
    assert!(!vault.has_secret_key());
    assert_eq!(vault.kept_secret_key().await.unwrap(), None);
    let phone = Device::new();
    let phone_vault = phone.login(&server, "later-key").await;

    let wrong = vault
        .enable_secret_key(&SecretString::from("not the password"))
        .await
        .unwrap_err();
    assert!(matches!(wrong, VaultError::WrongPassword), "{wrong}");
    assert!(!vault.has_secret_key());
    let key = vault.enable_secret_key(&password()).await.unwrap();
    assert!(vault.has_secret_key());
    let again = vault.enable_secret_key(&password()).await.unwrap_err();
    assert!(matches!(again, VaultError::SecretKeyAlreadyOn), "{again}");
    // This device goes on, online and offline.
    vault.add(&note("after", "the key")).await.unwrap();
    vault.sync().await.unwrap();
    drop(vault);
    laptop.unlock().await;

    // The phone's session ended; its next login needs the key.
    let ended = phone_vault.sync().await.unwrap_err();
    assert!(ended.needs_login(), "{ended}");
    drop(phone_vault);
    let none = login_with(&server, &phone, "later-key", SecretKeyInput::Stored)
        .await
        .unwrap_err();
    assert_needs_key(&none);
    let vault = login_with(
        &server,
        &phone,
        "later-key",
        SecretKeyInput::Given(key.clone()),
    )
    .await
    .unwrap();
    assert_eq!(text_of(&vault.get("after").await.unwrap().item), "the key");
    drop(vault);

    // A password change keeps the key: a new device needs both still.
    let mut vault = laptop.unlock().await;
    let new_password = SecretString::from("plinth marmot saffron quiver");
    vault
        .change_password(&password(), &new_password)
        .await
        .unwrap();
    assert!(vault.has_secret_key());
    drop(vault);
    let tablet = Device::new();
    let login = |key| {
        let options = with_key(&server, key);
        let dir = tablet.profile().to_owned();
        let password = new_password.clone();
        async move { Vault::login(&options, &dir, "later-key", &password, &mut |_| false).await }
    };
    let none = login(SecretKeyInput::Stored).await.unwrap_err();
    assert_needs_key(&none);
    login(SecretKeyInput::Given(key)).await.unwrap();
}

/// A server that answers for an account this device knows with a Secret
/// Key as if it had none wants the password alone: refused before any
/// hashing.
#[tokio::test]
async fn a_server_dropping_the_key_is_refused() {
    let server = TestServer::start().await;
    let laptop = Device::new();
    let (vault, _key) = register_with_key(&server, &laptop, "dropped").await;
    drop(vault);
    execute_on(
        &server.data.path().join("auth.db"),
        "UPDATE users SET kdf_algorithm = 'argon2id-user-salt'",
    )
    .await;
    let err = login_with(&server, &laptop, "dropped", SecretKeyInput::Stored)
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Crypto(CryptoError::SecretKeyDropped)),
        "{err}"
    );
}

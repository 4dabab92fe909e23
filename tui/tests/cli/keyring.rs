//! The refresh token in a real OS keyring: GNOME Keyring, the Secret
//! Service a Linux desktop runs, on a private D-Bus session bus that
//! `scripts/session-keyring` starts for this test (the keyring itself is
//! installed by `scripts/provision`). The binary is built with the default
//! `os-keyring` feature; the other tests turn the keyring off.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

use crate::helpers::{Device, Gk, TestServer};

/// A GNOME Keyring of this test's own, stopped on drop.
struct SessionKeyring {
    dir: TempDir,
    bus: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/session-keyring")
}

impl SessionKeyring {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(script())
            .arg("up")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/session-keyring up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8(out.stdout).unwrap();
        let bus = line
            .trim()
            .strip_prefix("DBUS_SESSION_BUS_ADDRESS=")
            .unwrap()
            .to_owned();
        Self { dir, bus }
    }

    /// `secret-tool` against this keyring; its raw stdout.
    fn secret_tool(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("secret-tool")
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .output()
            .unwrap();
        out.stdout
    }

    /// The sealed token stored for `account`, if any.
    fn lookup(&self, account: &str) -> Vec<u8> {
        self.secret_tool(&["lookup", "service", "gophkeeper", "username", account])
    }

    /// A run of the binary that sees this keyring.
    fn on(&self, gk: Gk) -> Gk {
        gk.env_remove("GOPHKEEPER_KEYRING")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
    }
}

impl Drop for SessionKeyring {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("down")
            .arg(self.dir.path())
            .output();
    }
}

/// Neither the keyring nor the file, or the JWT would show its header.
fn assert_sealed(stored: &[u8]) {
    assert!(!stored.is_empty());
    assert!(
        !stored.windows(3).any(|w| w == b"eyJ"),
        "a JWT in the clear"
    );
}

fn logged_in(device: &Device, keyring: &SessionKeyring) -> impl Future<Output = bool> {
    let gk = keyring.on(device.cmd(&["status", "--json"]));
    async move { gk.run().await.ok().json()["logged_in"].as_bool().unwrap() }
}

#[tokio::test]
async fn the_token_lives_in_the_keyring_sealed_and_logout_removes_it() {
    let server = TestServer::start().await;
    let keyring = SessionKeyring::start();
    let device = Device::new(&server);
    let account = format!("kate@{}", server.url());
    let token_file = device.profile().join("refresh-token");

    let out = keyring
        .on(device.cmd(&["register", "kate"]))
        .run()
        .await
        .ok();
    assert!(!out.stderr.contains("no OS keyring"), "{out:#?}");
    assert!(!token_file.exists(), "the token went to the file");
    // One item for this server and user (looked up by those attributes);
    // its secret is binary, so the listing is read lossily.
    let listed = keyring.secret_tool(&["search", "--all", "service", "gophkeeper"]);
    let listed = String::from_utf8_lossy(&listed);
    assert_eq!(listed.matches("label = ").count(), 1, "{listed}");
    assert!(listed.contains(&account), "{listed}");
    assert_sealed(&keyring.lookup(&account));
    assert!(logged_in(&device, &keyring).await);

    // A later run reaches the server with the token from the keyring.
    keyring
        .on(device.cmd(&["add", "text", "note", "--text", "from the keyring run"]))
        .run()
        .await
        .ok();
    let out = keyring.on(device.cmd(&["sync"])).run().await.ok();
    assert!(!out.stderr.contains("log in"), "{out:#?}");

    // Take it out of the keyring: the client no longer holds a session.
    keyring.secret_tool(&["clear", "service", "gophkeeper", "username", &account]);
    assert!(!logged_in(&device, &keyring).await);

    keyring.on(device.cmd(&["login", "kate"])).run().await.ok();
    assert_sealed(&keyring.lookup(&account));
    keyring.on(device.cmd(&["logout"])).run().await.ok();
    assert!(keyring.lookup(&account).is_empty(), "logout left the token");
    assert!(!token_file.exists());
}

#[tokio::test]
async fn without_a_keyring_the_file_is_used_and_moved_in_once_one_answers() {
    let server = TestServer::start().await;
    let keyring = SessionKeyring::start();
    let device = Device::new(&server);
    let account = format!("lena@{}", server.url());
    let token_file = device.profile().join("refresh-token");

    // A headless session: the keyring feature is on, but no bus answers.
    let out = device
        .cmd(&["register", "lena"])
        .env_remove("GOPHKEEPER_KEYRING")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .run()
        .await
        .ok();
    assert!(out.stderr.contains("no OS keyring"), "{out:#?}");
    assert_sealed(&std::fs::read(&token_file).unwrap());
    assert!(keyring.lookup(&account).is_empty());

    // The next run with a keyring moves the token over and still works.
    keyring.on(device.cmd(&["sync"])).run().await.ok();
    assert!(!token_file.exists(), "the file stayed behind");
    assert_sealed(&keyring.lookup(&account));
    assert!(logged_in(&device, &keyring).await);
}

/// The Secret Key in the keyring, not in the profile: a copy of the
/// profile directory alone does not unlock even with the right password.
#[tokio::test]
async fn the_secret_key_lives_in_the_keyring_and_a_copied_profile_needs_it() {
    let server = TestServer::start().await;
    let keyring = SessionKeyring::start();
    let device = Device::new(&server);
    let account = format!("sam@{}", server.url());
    let out = keyring
        .on(device.cmd(&["register", "sam", "--secret-key"]))
        .run()
        .await
        .ok();
    let key = out
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Secret Key:"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(!device.profile().join("secret-key").exists());
    let stored = keyring.secret_tool(&[
        "lookup",
        "service",
        "gophkeeper-secret-key",
        "username",
        &account,
    ]);
    assert_eq!(String::from_utf8(stored).unwrap(), key);
    keyring.on(device.cmd(&["list"])).run().await.ok();

    // The disk copied, without the keyring.
    let copy = Device::new(&server);
    for entry in std::fs::read_dir(device.profile()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.profile().join(entry.file_name())).unwrap();
        }
    }
    let out = copy
        .run(&["list"])
        .await
        .fails_with(1, "this device does not know it");
    assert!(out.stderr.contains("gophkeeper login sam"), "{out:#?}");
}

//! The full-screen vault, end to end: the real `gophkeeper` binary in a
//! detached tmux session (80×24) against the real in-process server. A
//! person's story: log in, add a login, find it by fuzzy search, copy its
//! password (checked in tmux's paste buffer, where OSC 52 puts it), see an
//! item added from another device appear without touching a key, and find
//! the vault locked after the idle time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{Device, PASSWORD, TestServer};

/// A tmux server of its own (its own socket), killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn start(dir: &Path, program: &[String]) -> Self {
        let tmux = Self {
            socket: dir.join("tmux.sock"),
        };
        let mut args: Vec<String> = [
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "gk",
            "-x",
            "80",
            "-y",
            "24",
        ]
        .map(String::from)
        .to_vec();
        args.extend(program.iter().cloned());
        tmux.run(&args);
        // OSC 52 from the app becomes a tmux paste buffer.
        tmux.run(&["set", "-g", "set-clipboard", "on"].map(String::from));
        tmux
    }

    fn run(&self, args: &[String]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("tmux: {err}; run scripts/provision"));
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Key names as tmux knows them ("Enter", "C-s", "Tab").
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys".to_owned(), "-t".into(), "gk".into()];
        args.extend(keys.iter().map(|k| (*k).to_owned()));
        self.run(&args);
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "gk", "-l", text].map(String::from));
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "gk"].map(String::from))
    }

    fn buffer(&self) -> String {
        self.run(&["show-buffer"].map(String::from))
    }

    /// Waits until the screen shows `text`; fails with the screen if not.
    async fn wait_for(&self, text: &str, within: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < within,
                "{text:?} did not appear within {within:?}; the screen:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

const SECRET: &str = "tui-Secret-123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_in_a_terminal() {
    let server = TestServer::start().await;
    let laptop = Device::new(&server);
    laptop.ok(&["register", "alice"]).await;
    let phone = tempfile::tempdir().unwrap();
    let program: Vec<String> = vec![
        "env".into(),
        "-u".into(),
        "DISPLAY".into(),
        "-u".into(),
        "WAYLAND_DISPLAY".into(),
        "-u".into(),
        "GOPHKEEPER_PASSWORD".into(),
        "GOPHKEEPER_CLIPBOARD=osc52".into(),
        "GOPHKEEPER_KEYRING=off".into(),
        env!("CARGO_BIN_EXE_gophkeeper").into(),
        "--profile".into(),
        phone.path().display().to_string(),
        "--server".into(),
        server.url(),
        "--ca-cert".into(),
        server.ca().display().to_string(),
        "--idle-lock".into(),
        "12".into(),
    ];
    let tmux = Tmux::start(phone.path(), &program);
    let wait = Duration::from_secs(30);

    // Log in: the user name field has the focus.
    tmux.wait_for("Log in", wait).await;
    tmux.text("alice");
    tmux.keys(&["Tab"]);
    tmux.text(PASSWORD);
    let screen = tmux.screen();
    assert!(
        !screen.contains(PASSWORD),
        "the password is echoed:\n{screen}"
    );
    tmux.keys(&["Enter"]);
    // No keyring here: the token goes to the profile, and the person is
    // told so, once.
    tmux.wait_for("no OS keyring here", wait).await;
    assert!(phone.path().join("refresh-token").exists());
    // The process holding the key writes no core file (src/hardening.rs).
    if cfg!(target_os = "linux") {
        let pid = tmux.run(&["display", "-p", "-t", "gk", "#{pane_pid}"].map(String::from));
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", pid.trim())).unwrap();
        let core: Vec<&str> = limits
            .lines()
            .find(|line| line.starts_with("Max core file size"))
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(core[4..6], ["0", "0"], "{limits}");
    }

    // Add a login.
    tmux.keys(&["a"]);
    tmux.wait_for("New login", wait).await;
    tmux.text("GitHub");
    tmux.keys(&["Tab"]);
    tmux.text("octocat");
    tmux.keys(&["Tab"]);
    tmux.text(SECRET);
    tmux.keys(&["C-s"]);
    let screen = tmux.wait_for("saved", wait).await;
    assert!(screen.contains("GitHub"), "{screen}");
    assert!(!screen.contains(SECRET), "{screen}");
    // The other device has it.
    let got = laptop.ok(&["get", "GitHub", "--field", "password"]).await;
    assert!(got.stdout.contains(SECRET), "{got:#?}");

    // Find it by fuzzy search, copy its password.
    tmux.keys(&["/"]);
    tmux.text("ghub");
    tmux.wait_for("Items 1/1", wait).await;
    tmux.keys(&["Enter", "c"]);
    tmux.wait_for("password copied to the terminal clipboard", wait)
        .await;
    assert_eq!(tmux.buffer(), SECRET);
    tmux.keys(&["Escape"]);
    tmux.wait_for("(press / to search)", wait).await;

    // Another device adds an item: it appears with no key pressed.
    laptop
        .ok(&["add", "text", "From the laptop", "--text", "hello"])
        .await;
    let screen = tmux.wait_for("From the laptop", wait).await;
    assert!(screen.contains("Items 2/2"), "{screen}");

    // Idle: the vault locks and the items are gone from the screen.
    let screen = tmux.wait_for("GophKeeper is locked", wait).await;
    assert!(!screen.contains("From the laptop"), "{screen}");
    assert!(screen.contains("locked after being idle"), "{screen}");

    // Unlocking works offline-capable from the local copy.
    tmux.text(PASSWORD);
    tmux.keys(&["Enter"]);
    tmux.wait_for("vault open: 2 items", wait).await;
    tmux.keys(&["q"]);
}

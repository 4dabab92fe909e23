//! `get --copy` and `totp --copy` on a real X11 clipboard (Xvfb), read
//! back with xclip as any other program would: the value is there, marked
//! for password managers, never on the terminal, and gone after the clear
//! time unless the person copied something else since.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Device, TestServer};

const SECRET: &str = "c0py-me-Pa55";

/// An X server of its own, killed when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Self {
        // A display number no other test run uses at the same time.
        let base = 200 + std::process::id() % 700;
        for number in base..base + 50 {
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            let lock = PathBuf::from(format!("/tmp/.X{number}-lock"));
            if socket.exists() || lock.exists() {
                continue;
            }
            let display = format!(":{number}");
            let child = Command::new("Xvfb")
                .args([
                    display.as_str(),
                    "-nolisten",
                    "tcp",
                    "-screen",
                    "0",
                    "640x480x24",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("Xvfb: {err}; run scripts/provision"));
            let xvfb = Self { child, display };
            let deadline = Instant::now() + Duration::from_secs(20);
            while !socket.exists() {
                assert!(Instant::now() < deadline, "Xvfb {number} did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
            return xvfb;
        }
        panic!("no free X display number");
    }

    /// `xclip -selection clipboard` with these arguments; `None` when the
    /// clipboard holds nothing of that type.
    fn xclip(&self, args: &[&str], input: Option<&str>) -> Option<String> {
        let mut command = Command::new("xclip");
        command
            .args(["-selection", "clipboard"])
            .args(args)
            .env("DISPLAY", &self.display)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if input.is_some() {
            command.stdin(Stdio::piped()).stdout(Stdio::null());
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("xclip: {err}; run scripts/provision"));
        if let Some(text) = input {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn held(&self) -> Option<String> {
        self.xclip(&["-o"], None)
    }

    /// Waits until the clipboard holds `expected`.
    fn wait_for(&self, expected: Option<&str>, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let held = self.held();
            if held.as_deref() == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the clipboard holds {held:?}, not {expected:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copied_secrets_reach_the_clipboard_and_leave_it() {
    let xvfb = Xvfb::start();
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "cleo"]).await;
    device
        .ok(&[
            "add",
            "login",
            "mail",
            "--username",
            "cleo",
            "--password",
            SECRET,
            "--totp",
            "JBSWY3DPEHPK3PXP",
        ])
        .await;
    let copy = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--copy", "--clipboard-clear", "3"]);
        device
            .cmd(&all)
            .env("DISPLAY", &xvfb.display)
            .env_remove("WAYLAND_DISPLAY")
    };

    // The password, by default, and never on the terminal.
    let out = copy(&["get", "mail"]).run().await.ok();
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    assert!(
        out.stderr
            .contains("password copied to the clipboard; cleared in 3 s"),
        "{out:#?}"
    );
    assert_eq!(xvfb.held().as_deref(), Some(SECRET));
    // Marked for clipboard managers to leave out of their history.
    let targets = xvfb.xclip(&["-o", "-t", "TARGETS"], None).unwrap();
    assert!(targets.contains("x-kde-passwordManagerHint"), "{targets}");
    // Gone after the clear time, though this command ended long ago.
    xvfb.wait_for(None, Duration::from_secs(10));

    // What the person copied since is theirs.
    copy(&["get", "mail", "--field", "username"])
        .run()
        .await
        .ok();
    assert_eq!(xvfb.held().as_deref(), Some("cleo"));
    xvfb.xclip(&["-i"], Some("a link I copied"));
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(xvfb.held().as_deref(), Some("a link I copied"));

    // The current TOTP code.
    let out = copy(&["totp", "mail"]).run().await.ok();
    assert!(out.stdout.is_empty(), "{out:#?}");
    let code = xvfb.held().unwrap();
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );
    xvfb.wait_for(None, Duration::from_secs(10));

    // Refusals: a file item without a field, a field that is not there,
    // no clipboard at all, --copy with --json. Nothing is copied or shown.
    let file = device.profile().join("photo.bin");
    std::fs::write(&file, b"\x89PNG").unwrap();
    device
        .ok(&["add", "binary", "photo", "--file", file.to_str().unwrap()])
        .await;
    copy(&["get", "photo"])
        .run()
        .await
        .fails_with(1, "is a file; --copy takes a field");
    copy(&["get", "mail", "--field", "nope"])
        .run()
        .await
        .fails_with(1, "no field \"nope\"");
    assert_eq!(xvfb.held(), None);
    let out = device
        .cmd(&["get", "mail", "--copy"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .run()
        .await
        .fails_with(1, "password not copied: no clipboard here");
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    let out = device
        .run(&["get", "mail", "--copy", "--json"])
        .await
        .fails_with(2, "cannot be used with");
    assert!(!out.stdout.contains(SECRET));
}

//! A real Kafka-API broker for tests: tansu (installed by
//! `scripts/provision`) on a free port with its SQLite store in a temporary
//! directory, killed when dropped. Shared by the test binaries that include
//! it with `#[path]`.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Tansu {
    child: Child,
    dir: tempfile::TempDir,
    /// `host:port` for `kafka.brokers`.
    pub brokers: String,
}

impl Tansu {
    /// Starts the broker off the async runtime and waits until it accepts
    /// connections.
    pub async fn start() -> Self {
        tokio::task::spawn_blocking(Self::start_blocking)
            .await
            .unwrap()
    }

    /// A broker that takes only clients that authenticate with SASL
    /// SCRAM-SHA-512 as `user`. tansu creates users only for a client it
    /// lets in, so the user is made on a first run without authentication;
    /// the second run, on the same store, asks for it (on another port:
    /// tansu does not reuse one its previous run left in TIME-WAIT).
    pub async fn start_with_scram(user: &str, password: &str) -> Self {
        let (user, password) = (user.to_owned(), password.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut open = Self::start_blocking();
            let made = Command::new(tansu_path().unwrap())
                .args(["user", "create", "--broker"])
                .arg(format!("tcp://{}", open.brokers))
                .args([&user, &password])
                .args(["--mechanism", "scram512"])
                .output()
                .unwrap();
            assert!(made.status.success(), "tansu user create: {made:?}");
            open.child.kill().unwrap();
            open.child.wait().unwrap();
            let dir = std::mem::replace(&mut open.dir, tempfile::tempdir().unwrap());
            Self::run_in(dir, &["--authentication"])
        })
        .await
        .unwrap()
    }

    fn start_blocking() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("gophkeeper-tansu-")
            .tempdir()
            .unwrap();
        Self::run_in(dir, &[])
    }

    /// Runs tansu on a free port with its store in `dir`, with `flags`.
    fn run_in(dir: tempfile::TempDir, flags: &[&str]) -> Self {
        let bin = tansu_path().expect("tansu is missing; run scripts/provision");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let brokers = format!("127.0.0.1:{port}");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("tansu.log"))
            .unwrap();
        // tansu reads a sqlite:// path relative to its working directory.
        let child = Command::new(bin)
            .args(["broker", "--listener-url"])
            .arg(format!("tcp://{brokers}"))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://{brokers}"))
            .args(["--storage-engine", "sqlite://tansu.db"])
            .args(flags)
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start tansu");
        let mut tansu = Self {
            child,
            dir,
            brokers,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&tansu.brokers).is_err() {
            let exited = tansu.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "tansu did not start ({exited:?}):\n{}",
                tansu.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        tansu
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tansu.log")).unwrap_or_default()
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where `scripts/lib/tools.sh` looks: PATH, then cargo's bin folder.
fn tansu_path() -> Option<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin"));
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(cargo_bin)
        .map(|dir| dir.join("tansu"))
        .find(|bin| bin.is_file())
}

//! A real single-node server per test (in process, port 0, real TLS, its
//! logs captured), and devices: profile directories that the real
//! `gophkeeper` binary runs against.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};

use gophkeeper_server::roles::all::{self as single_node, ServerHandle};
use gophkeeper_server::settings::Settings;
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

pub const PASSWORD: &str = "correct horse battery staple";

/// Everything every in-process server of this test binary logged.
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a subscriber that keeps every server log line, at
/// debug level for every crate: more than the server logs by default, so
/// a scan of it is the stricter test.
fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = LogWriter(buffer.clone());
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .try_init()
            .expect("no other subscriber in this test binary");
        buffer
    })
    .clone()
}

pub fn server_logs() -> String {
    String::from_utf8_lossy(&capture_logs().lock().unwrap()).into_owned()
}

pub struct TestServer {
    pub data: TempDir,
    pub addr: SocketAddr,
    handle: Option<ServerHandle>,
}

impl TestServer {
    pub async fn start() -> Self {
        capture_logs();
        let data = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = Self::launch(data.path(), listener).await;
        Self {
            data,
            addr,
            handle: Some(handle),
        }
    }

    async fn launch(dir: &Path, listener: TcpListener) -> ServerHandle {
        let mut settings = Settings::load_without_env(None).unwrap();
        settings.set_data_dir(dir.to_owned());
        single_node::start(settings, listener).await.unwrap()
    }

    pub async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await.unwrap();
        }
    }

    /// Starts again on the same data directory and address.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.handle = Some(Self::launch(self.data.path(), listener).await);
    }

    /// A server with a new certificate on this address: what an
    /// interception looks like to a client that pinned the old one.
    pub async fn replace_with_impostor(&mut self) -> TempDir {
        self.stop().await;
        let other = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.handle = Some(Self::launch(other.path(), listener).await);
        other
    }

    pub fn fingerprint(&self) -> String {
        self.handle.as_ref().unwrap().fingerprint.clone()
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn ca(&self) -> PathBuf {
        self.data.path().join("tls/ca.pem")
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "{self:#?}");
        self
    }

    #[track_caller]
    pub fn fails_with(self, code: i32, message: &str) -> Self {
        assert_eq!(self.code, code, "{self:#?}");
        assert!(
            self.stderr.contains(message),
            "stderr lacks {message:?}: {self:#?}"
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }
}

/// One profile directory: a device.
pub struct Device {
    pub dir: TempDir,
    server: String,
    ca: Option<PathBuf>,
    pub password: String,
}

impl Device {
    pub fn new(server: &TestServer) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            server: server.url(),
            ca: Some(server.ca()),
            password: PASSWORD.into(),
        }
    }

    /// A device that does not know the server's CA (trust on first use).
    pub fn without_ca(server: &TestServer) -> Self {
        Self {
            ca: None,
            ..Self::new(server)
        }
    }

    pub fn profile(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self, args: &[&str]) -> Gk {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_gophkeeper"));
        for var in [
            "GOPHKEEPER_SERVER",
            "GOPHKEEPER_PROFILE",
            "GOPHKEEPER_CA_CERT",
            "GOPHKEEPER_NEW_PASSWORD",
            "GOPHKEEPER_EXPORT_PASSWORD",
            "GOPHKEEPER_2FA_CODE",
            "GOPHKEEPER_SECRET_KEY",
            "GOPHKEEPER_LOG",
            "GOPHKEEPER_UTC",
        ] {
            command.env_remove(var);
        }
        command.env("GOPHKEEPER_PASSWORD", &self.password);
        // Never a developer's real keyring: the profile's file instead.
        command.env("GOPHKEEPER_KEYRING", "off");
        command.arg("--profile").arg(self.profile());
        command.arg("--server").arg(&self.server);
        if let Some(ca) = &self.ca {
            command.arg("--ca-cert").arg(ca);
        }
        command.args(args);
        Gk {
            command,
            input: None,
        }
    }

    /// Runs and requires exit code 0.
    pub async fn ok(&self, args: &[&str]) -> Output {
        self.cmd(args).run().await.ok()
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).run().await
    }
}

/// A run of the binary being set up.
pub struct Gk {
    command: tokio::process::Command,
    input: Option<String>,
}

impl Gk {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Feeds standard input (otherwise it is empty).
    pub fn input(mut self, text: &str) -> Self {
        self.input = Some(text.into());
        self
    }

    /// Starts it with piped standard streams, for a test that answers what
    /// it prints.
    pub fn spawn(mut self) -> tokio::process::Child {
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        self.command.spawn().unwrap()
    }

    pub async fn run(mut self) -> Output {
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = self.command.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(input) = &self.input {
            // The binary may exit without reading it all.
            let _ = stdin.write_all(input.as_bytes()).await;
        }
        drop(stdin);
        let output = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            child.wait_with_output(),
        )
        .await
        .expect("gophkeeper took over two minutes")
        .unwrap();
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// `list --json` as (name, kind) pairs, sorted.
pub async fn names(device: &Device) -> Vec<String> {
    let list = device.ok(&["list", "--json"]).await.json();
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

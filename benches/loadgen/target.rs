//! Where the load goes: an external gateway, or a single-node server started
//! in this process on its own runtime. Either way the result is `C` TLS
//! channels, each one HTTP/2 connection that many devices share.
//!
//! Why share: a real deployment has one TLS connection per device, but ten
//! thousand TLS handshakes and sockets from one process on a 2-core machine
//! would measure the load generator, not the server. What the server must
//! hold per device (a session, a token check per call, a `Watch` stream and
//! its event subscription) is the same whether the streams arrive on one
//! connection or on many; what sharing hides is per-connection TLS and
//! HTTP/2 memory and handshake cost. `--connections` as large as the number
//! of devices gives each its own (BENCHMARKS.md, "Server memory").

use std::path::PathBuf;

use anyhow::Context as _;
use gophkeeper_server::roles::all::{self as single_node, ServerHandle};
use gophkeeper_server::settings::Settings;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::args::Args;
use crate::rss::RssSource;

/// A single-node server owned by the load generator.
#[derive(Debug)]
pub struct InProcess {
    pub runtime: tokio::runtime::Runtime,
    pub server: ServerHandle,
    _data_dir: tempfile::TempDir,
}

impl InProcess {
    /// Starts the server on a runtime of its own, so `--server-threads`
    /// and `--client-threads` split the machine between the two sides.
    pub fn start(args: &Args) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.server_threads.max(1))
            .thread_name("server")
            .enable_all()
            .build()
            .context("building the server runtime")?;
        let data_dir = tempfile::tempdir().context("making the server's data directory")?;
        let mut settings = Settings::load_without_env(None).context("default settings")?;
        settings.set_data_dir(data_dir.path().to_owned());
        // Every simulated device signs in from 127.0.0.1: the per-address
        // limit is meant for one attacker, not for a whole test fleet.
        settings.auth.login_attempts_per_minute_per_peer = u32::MAX / 2;
        settings.auth.login_attempts_per_minute_per_user = u32::MAX / 2;
        // ... and connects from it, over as many connections as asked.
        settings.gateway.max_connections_per_client = 0;
        settings.gateway.max_watch_streams_per_user = settings
            .gateway
            .max_watch_streams_per_user
            .max(args.devices_per_user);
        if args.fast_auth_hash {
            settings.auth.hash_memory_kib = 1024;
            settings.auth.hash_iterations = 1;
        }
        let server = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .context("binding port 0")?;
            single_node::start(settings, listener)
                .await
                .context("starting the single-node server")
        })?;
        Ok(Self {
            runtime,
            server,
            _data_dir: data_dir,
        })
    }

    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.server.local_addr.port())
    }

    pub fn ca(&self) -> anyhow::Result<PathBuf> {
        self.server
            .ca_path
            .clone()
            .context("the in-process server made no CA")
    }

    /// Stops accepting, drains queued commands and closes storage.
    pub fn stop(self) -> anyhow::Result<()> {
        let Self {
            runtime, server, ..
        } = self;
        runtime.block_on(server.shutdown())
    }
}

/// The connections devices share, and where to read the server's memory.
#[derive(Debug)]
pub struct Connections {
    pub channels: Vec<Channel>,
    pub rss: RssSource,
}

pub async fn connect(
    url: &str,
    ca: &std::path::Path,
    tls_name: &str,
    count: usize,
    rss: RssSource,
) -> anyhow::Result<Connections> {
    let pem = std::fs::read(ca).with_context(|| format!("reading CA file {}", ca.display()))?;
    let endpoint = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("server URL {url:?}"))?
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(pem))
                .domain_name(tls_name),
        )
        .context("TLS configuration")?
        .tcp_nodelay(true)
        .http2_keep_alive_interval(std::time::Duration::from_secs(30));
    let mut channels = Vec::with_capacity(count);
    for i in 0..count {
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("connecting to {url} (connection {i})"))?;
        channels.push(channel);
    }
    Ok(Connections { channels, rss })
}

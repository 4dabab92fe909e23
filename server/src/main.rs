//! `gophkeeper-server [ROLE] [--config FILE] [--data-dir DIR] [--listen ADDR]`
//!
//! With no role: `all` (single node) from the defaults in
//! `config/single-node.toml`, listening on 127.0.0.1:50051. The cluster roles
//! take their settings from a file under `config/` and the environment.
//! `gophkeeper-server probe URL` checks a running service's gRPC health.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gophkeeper_server::settings::{Role, Settings};
use tokio_util::sync::CancellationToken;

/// mimalloc instead of the system allocator: it hands freed memory back to
/// the OS, where glibc's arenas kept the sign-in buffers of thousands of
/// clients (418 vs. 265 MiB RSS at 10,000 clients, BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "gophkeeper-server",
    version,
    about = "GophKeeper password manager server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Subcommands>,
    /// TOML settings file layered over the defaults.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Where databases, the TLS certificate and generated secrets live.
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Address of the public gateway.
    #[arg(long, value_name = "ADDR", global = true)]
    listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum Subcommands {
    /// Every service in one process on SQLite and the in-process broker (default).
    All,
    /// The public TLS endpoint; calls the internal services over mutual TLS.
    Gateway,
    /// Registration, login, tokens and sessions, on the auth PostgreSQL.
    Auth,
    /// Reads from the vault replica.
    Query,
    /// Validates commands and publishes them to Kafka.
    CommandProducer,
    /// Applies commands from Kafka to the vault primary.
    CommandConsumer,
    /// Exits 0 if the gRPC service at URL reports SERVING.
    Probe(gophkeeper_server::probe::ProbeArgs),
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gophkeeper-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let role = match cli.command {
        Some(Subcommands::Probe(args)) => {
            return runtime.block_on(gophkeeper_server::probe::run(args));
        }
        None => None,
        Some(Subcommands::All) => Some(Role::All),
        Some(Subcommands::Gateway) => Some(Role::Gateway),
        Some(Subcommands::Auth) => Some(Role::Auth),
        Some(Subcommands::Query) => Some(Role::Query),
        Some(Subcommands::CommandProducer) => Some(Role::CommandProducer),
        Some(Subcommands::CommandConsumer) => Some(Role::CommandConsumer),
    };
    let mut settings = Settings::load(cli.config.as_deref()).context("loading settings")?;
    if let Some(role) = role {
        settings.role = role;
    }
    if let Some(dir) = cli.data_dir {
        settings.set_data_dir(dir);
    }
    if let Some(listen) = cli.listen {
        settings.gateway.listen = listen;
    }
    gophkeeper_server::logging::init(&settings.log);
    runtime.block_on(run(settings))?;
    Ok(ExitCode::SUCCESS)
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    tracing::info!(role = ?settings.role, "starting");
    if settings.role != Role::All {
        return gophkeeper_server::roles::run(settings, shutdown).await;
    }
    let listener = tokio::net::TcpListener::bind(settings.gateway.listen)
        .await
        .with_context(|| format!("listening on {}", settings.gateway.listen))?;
    let server = gophkeeper_server::single_node::start(settings, listener).await?;
    let token = server.shutdown_token();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        token.cancel();
    });
    server.wait().await
}

/// SIGINT or SIGTERM starts a graceful shutdown.
async fn stop_on_signal(token: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown signal received");
    token.cancel();
}

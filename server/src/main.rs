//! `gophkeeper-server [ROLE] [--config FILE] [--data-dir DIR] [--listen ADDR]`
//!
//! With no arguments: role `all` (single node) from the defaults in
//! `config/single-node.toml`, listening on 127.0.0.1:50051.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use gophkeeper_server::settings::{Role, Settings};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "gophkeeper-server",
    version,
    about = "GophKeeper password manager server"
)]
struct Cli {
    /// Which service(s) this process runs; `all` is the single-node server.
    #[arg(value_enum)]
    role: Option<Role>,
    /// TOML settings file layered over the defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where databases, the TLS certificate and generated secrets live.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address of the public gateway.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gophkeeper-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref()).context("loading settings")?;
    if let Some(role) = cli.role {
        settings.role = role;
    }
    if let Some(dir) = cli.data_dir {
        settings.set_data_dir(dir);
    }
    if let Some(listen) = cli.listen {
        settings.gateway.listen = listen;
    }
    gophkeeper_server::logging::init(&settings.log);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run(settings))
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    match settings.role {
        Role::All => {}
        other => anyhow::bail!(
            "role {other:?} needs cluster configuration (PostgreSQL, Kafka), \
             which this build does not have yet; run role `all`"
        ),
    }
    let listener = tokio::net::TcpListener::bind(settings.gateway.listen)
        .await
        .with_context(|| format!("listening on {}", settings.gateway.listen))?;
    let server = gophkeeper_server::single_node::start(settings, listener).await?;
    let token = server.shutdown_token();
    tokio::spawn(stop_on_signal(token));
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

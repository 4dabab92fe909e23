//! `gophkeeper-server [ROLE] [--config FILE] [--data-dir DIR] [--listen ADDR]`
//!
//! With no role and no config file: `all` (single node) from the defaults in
//! `config/single-node.toml`, listening on 127.0.0.1:50051. The cluster roles
//! take their settings from a file under `config/` and the environment;
//! `gophkeeper_server::roles` starts each. `gophkeeper-server probe URL`
//! checks a running service's gRPC health.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gophkeeper_server::roles;
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
    version = gophkeeper_build_info::version!(),
    about = "GophKeeper password manager server",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// What this process runs (default: the config file's `role`, else `all`).
    #[arg(value_enum)]
    role: Option<Role>,
    #[command(subcommand)]
    tool: Option<Tool>,
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

/// What the binary does besides running a role.
#[derive(Debug, Subcommand)]
enum Tool {
    /// Exits 0 if the gRPC service at URL reports SERVING.
    Probe(gophkeeper_server::probe::ProbeArgs),
    /// Writes a consistent backup of a single node's databases to FILE,
    /// while the server runs. The server's secrets are not in it.
    Backup {
        /// The backup file to make (never replaced).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restores a backup into a data directory that holds no databases.
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
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
    if let Some(Tool::Probe(args)) = cli.tool {
        return runtime.block_on(gophkeeper_server::probe::run(args));
    }
    let mut settings = Settings::load(cli.config.as_deref()).context("loading settings")?;
    if let Some(dir) = &cli.data_dir {
        settings.set_data_dir(dir.clone());
    }
    if let Some(tool) = cli.tool {
        return runtime.block_on(backup_tool(tool, &settings));
    }
    if let Some(role) = cli.role {
        settings.role = role;
    }
    if let Some(listen) = cli.listen {
        settings.gateway.listen = listen;
    }
    // Before logging starts, so that a refused role is one line on stderr.
    roles::check_engines(&settings)?;
    gophkeeper_server::logging::init(&settings.log);
    // The exact build, first in every log: what a bug report needs.
    tracing::info!(
        version = gophkeeper_build_info::version!(),
        "gophkeeper-server"
    );
    let shutdown = CancellationToken::new();
    runtime.block_on(async {
        tokio::spawn(stop_on_signal(shutdown.clone()));
        roles::run(settings, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `backup` and `restore` (and `probe`, which main runs before loading
/// settings): say what was done, and what the file leaves out.
async fn backup_tool(tool: Tool, settings: &Settings) -> anyhow::Result<ExitCode> {
    use gophkeeper_server::backup::{self, BackupError};
    use gophkeeper_server::settings::StorageEngine;
    if settings.storage.engine != StorageEngine::Sqlite {
        return Err(BackupError::NotSqlite.into());
    }
    let data_dir = settings.data_dir()?;
    let (done, files) = match tool {
        Tool::Backup { out } => {
            let files = backup::backup(&data_dir, &out).await?;
            (format!("backed up to {}", out.display()), files)
        }
        Tool::Restore { from } => {
            let files = backup::restore(&from, &data_dir).await?;
            (format!("restored into {}", data_dir.display()), files)
        }
        Tool::Probe(args) => return gophkeeper_server::probe::run(args).await,
    };
    for file in &files {
        println!(
            "{}: {} bytes, sha256 {}",
            file.name, file.bytes, file.sha256
        );
    }
    println!("{done}");
    println!(
        "The server's secrets are not in a backup: keep secrets/ and tls/ of the \
         data directory (or auth.secret) apart from it, encrypted, and put them \
         back before starting a restored server. See docs/backups.md."
    );
    Ok(ExitCode::SUCCESS)
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

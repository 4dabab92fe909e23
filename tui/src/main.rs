//! `gophkeeper`: parses the command line, runs the command, and turns the
//! outcome into an exit code. Errors are printed with their whole chain of
//! causes, so a script's log says why, not just that it failed.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use gophkeeper_tui::cli::{Cli, Done, Tampered, exit};
use gophkeeper_tui::output::sanitize::line;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&anyhow::Error::new(err).context("cannot start the runtime")),
    };
    let Some(command) = cli.command else {
        if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
            eprintln!(
                "The full-screen vault needs a terminal. In scripts, use the commands: \
                 `gophkeeper --help`."
            );
            return ExitCode::from(exit::USAGE);
        }
        // It holds the vault key for as long as it runs: no core dumps.
        if let Err(err) = gophkeeper_tui::hardening::forbid_core_dumps() {
            return fail(&anyhow::Error::new(err).context("cannot turn off core dumps"));
        }
        // Full screen: no logging to the terminal it draws on.
        return match runtime.block_on(gophkeeper_tui::app::run(&cli.globals, &cli.vault)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(&err),
        };
    };
    init_logging();
    match runtime.block_on(command.run(&cli.globals, &cli.vault)) {
        Ok(Done::Success) => ExitCode::SUCCESS,
        Ok(Done::Conflict) => ExitCode::from(exit::CONFLICT),
        Ok(Done::Exit(code)) => ExitCode::from(code),
        Err(err) if err.is::<Tampered>() => {
            fail(&err);
            ExitCode::from(exit::TAMPERED)
        }
        Err(err) => fail(&err),
    }
}

/// Prints the error and its causes. They can quote the server (its
/// status messages) or an item, so they are shown as one safe line each.
fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", line(&err.to_string()));
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {}", line(&cause.to_string()));
    }
    ExitCode::from(exit::ERROR)
}

/// Library warnings (a record that does not open, a failed first sync) go
/// to standard error; `GOPHKEEPER_LOG` takes a tracing filter for more.
fn init_logging() {
    let filter = std::env::var("GOPHKEEPER_LOG")
        .ok()
        .and_then(|value| tracing_subscriber::EnvFilter::try_new(value).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

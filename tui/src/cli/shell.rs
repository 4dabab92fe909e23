//! `gophkeeper completions SHELL` and `gophkeeper man`: generated from the
//! same clap definition the parser uses, so they list exactly the commands
//! and flags there are. Nothing here opens the profile.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Done};
use crate::output::write_stdout;

#[derive(Debug, Args)]
pub struct Completions {
    /// The shell to complete for. Install, e.g. for bash:
    /// `gophkeeper completions bash > ~/.local/share/bash-completion/completions/gophkeeper`
    #[arg(value_enum)]
    shell: Shell,
}

pub fn completions(args: &Completions) -> anyhow::Result<Done> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "gophkeeper", &mut script);
    write_stdout(&script)?;
    Ok(Done::Success)
}

/// The manual page (roff) on standard output: `gophkeeper man | man -l -`.
pub fn man() -> anyhow::Result<Done> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    write_stdout(&page)?;
    Ok(Done::Success)
}

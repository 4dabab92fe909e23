//! `gophkeeper generate [--length N | --words N]`: prints a password (20
//! characters of every class by default) or a passphrase from the EFF
//! large word list. Needs no profile; nothing is stored.

use clap::Args;

use super::Done;
use crate::generate;
use crate::output::write_stdout;

#[derive(Debug, Args)]
pub struct Generate {
    /// Characters in the password (4 to 1024)
    #[arg(long, value_name = "N", conflicts_with = "words")]
    length: Option<usize>,
    /// A passphrase of N words instead (3 to 64; 6 is about 77 bits)
    #[arg(long, value_name = "N")]
    words: Option<usize>,
}

pub fn run(args: &Generate) -> anyhow::Result<Done> {
    let mut secret = match args.words {
        Some(words) => generate::passphrase(words)?,
        None => generate::password(args.length.unwrap_or(generate::DEFAULT_LENGTH))?,
    };
    secret.push('\n');
    write_stdout(secret.as_bytes())?;
    Ok(Done::Success)
}

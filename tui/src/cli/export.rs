//! `gophkeeper export --out FILE`: every item, sealed under a key derived
//! from the master password with Argon2id and a fresh salt (see
//! `backup.rs`), written with owner-only permissions. An existing file is
//! never overwritten. `import --format gophkeeper FILE` reads it back.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::context::refresh;
use super::{Done, Globals, report};
use crate::output::write_private;
use crate::prompt;
use gophkeeper_client::backup;

#[derive(Debug, Args)]
pub struct Export {
    /// Where to write the backup (must not exist yet)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub async fn run(globals: &Globals, args: Export) -> anyhow::Result<Done> {
    if args.out.exists() {
        anyhow::bail!("{} exists; choose a new file name", args.out.display());
    }
    let password = prompt::password(prompt::PASSWORD_ENV, "Master password: ")?;
    let vault = globals.unlock_with(&password).await?;
    refresh(&vault).await?;
    let listing = vault.list_checked().await?;
    if !listing.unreadable.is_empty() {
        report::unreadable(&listing.unreadable);
        anyhow::bail!(
            "{} record(s) of this vault cannot be read here (listed above); nothing was \
             exported, since a backup that leaves items out would look complete",
            listing.unreadable.len()
        );
    }
    let items: Vec<_> = listing.entries.into_iter().map(|e| e.item).collect();
    let count = items.len();
    let sealed = tokio::task::spawn_blocking(move || backup::seal(&items, &password))
        .await
        .context("the encryption task failed")??;
    write_private(&args.out, &sealed, false)?;
    eprintln!(
        "exported {count} item(s) to {}, encrypted with the master password",
        args.out.display()
    );
    Ok(Done::Success)
}

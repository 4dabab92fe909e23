//! `gophkeeper import --format bitwarden-json|keepassxc-csv|gophkeeper FILE`:
//! adds every item the file holds and reports what was imported, what was
//! converted and what was skipped, and why. Importing twice adds twice.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use gophkeeper_client::vault::{Vault, VaultError};
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::context::explain;
use super::item_args::precheck;
use super::{Done, Globals};
use crate::import::{Note, Parsed, bitwarden, keepassxc};
use crate::output::sanitize::line;
use crate::output::write_stdout;
use crate::prompt;
use gophkeeper_client::backup::{self, BackupError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Bitwarden's unencrypted JSON export
    BitwardenJson,
    /// KeePassXC's CSV export
    KeepassxcCsv,
    /// A file from `gophkeeper export`
    Gophkeeper,
}

#[derive(Debug, Args)]
pub struct Import {
    #[arg(long, value_enum)]
    format: Format,
    /// The export file
    file: PathBuf,
}

/// Opens a GophKeeper export: with GOPHKEEPER_EXPORT_PASSWORD if set, else
/// with this vault's master password, else by asking.
async fn open_backup(bytes: Zeroizing<Vec<u8>>, master: &SecretString) -> anyhow::Result<Parsed> {
    let attempt = |password: SecretString| {
        let bytes = bytes.clone();
        async move {
            tokio::task::spawn_blocking(move || backup::open(&bytes, &password))
                .await
                .context("the decryption task failed")
        }
    };
    let explicit = std::env::var(prompt::EXPORT_PASSWORD_ENV)
        .ok()
        .map(SecretString::from);
    let items = match explicit {
        Some(password) => attempt(password).await??,
        None => match attempt(master.clone()).await? {
            Err(BackupError::WrongPassword) => {
                let password = prompt::password(
                    prompt::EXPORT_PASSWORD_ENV,
                    "Password the export was made with: ",
                )?;
                attempt(password).await??
            }
            other => other?,
        },
    };
    Ok(Parsed {
        items,
        ..Parsed::default()
    })
}

pub async fn run(globals: &Globals, args: Import) -> anyhow::Result<Done> {
    let bytes = Zeroizing::new(
        std::fs::read(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?,
    );
    let parsed = match args.format {
        Format::BitwardenJson => {
            let text = std::str::from_utf8(&bytes).context("the file is not UTF-8 JSON")?;
            Some(bitwarden::parse(text)?)
        }
        Format::KeepassxcCsv => Some(keepassxc::parse(&bytes)?),
        Format::Gophkeeper => None,
    };
    let master = prompt::password(prompt::PASSWORD_ENV, "Master password: ")?;
    let vault = globals.unlock_with(&master).await?;
    let parsed = match parsed {
        Some(parsed) => parsed,
        None => open_backup(bytes, &master).await?,
    };
    add_all(&vault, parsed).await
}

async fn add_all(vault: &Vault, parsed: Parsed) -> anyhow::Result<Done> {
    let Parsed {
        items,
        converted,
        mut skipped,
    } = parsed;
    let mut imported: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut queued, mut login_required) = (false, None);
    for item in &items {
        if let Err(err) = precheck(item) {
            skipped.push(Note::new(item.name.clone(), format!("{err:#}")));
            continue;
        }
        match vault.add(item).await {
            Ok(saved) => {
                *imported.entry(item.kind().name()).or_default() += 1;
                queued |= saved.report.offline.is_some() || saved.report.pending > 0;
                login_required = login_required.or(saved.login_required);
            }
            Err(VaultError::Item(err)) => {
                skipped.push(Note::new(item.name.clone(), err.to_string()))
            }
            Err(err) => return Err(explain(err, vault)).context("the import stopped part way"),
        }
    }
    print_report(&imported, &converted, &skipped)?;
    if let Some(reason) = login_required {
        bail!(
            "the items are saved on this device but not sent: log in again ({reason}): \
             gophkeeper login {}",
            vault.username()
        );
    }
    if queued {
        eprintln!("the server is unreachable: the items are queued and go out at the next sync");
    }
    Ok(Done::Success)
}

fn print_report(
    imported: &BTreeMap<&'static str, usize>,
    converted: &[Note],
    skipped: &[Note],
) -> anyhow::Result<()> {
    let total: usize = imported.values().sum();
    let kinds: Vec<String> = imported.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let mut text = format!("imported {total} item(s)");
    if !kinds.is_empty() {
        text.push_str(&format!(": {}", kinds.join(", ")));
    }
    text.push('\n');
    for note in converted {
        text.push_str(&format!("note: {:?}: {}\n", note.entry, line(&note.reason)));
    }
    text.push_str(&format!("skipped {}\n", skipped.len()));
    for note in skipped {
        text.push_str(&format!(
            "skipped: {:?}: {}\n",
            note.entry,
            line(&note.reason)
        ));
    }
    write_stdout(text.as_bytes())
}

//! What the commands share beyond the global flags ([`Globals`]): what to
//! say when a session is over, and a sync before reading so that a list is
//! current.
//!
//! [`Globals`]: crate::globals::Globals

use gophkeeper_client::vault::{Entry, Vault, VaultError};

use crate::output::sanitize::line;

/// Turns "the session is over" into a message that says what to do.
pub fn explain(err: VaultError, vault: &Vault) -> anyhow::Error {
    if err.needs_login() {
        anyhow::Error::new(err).context(format!(
            "this device must log in again: its session ended (logged out, revoked from another \
             device, or the master password was changed elsewhere). Run: gophkeeper login {}",
            vault.username()
        ))
    } else {
        err.into()
    }
}

/// Before a read: fetch other devices' changes, so the answer is current.
/// Offline is fine (the local copy is shown, with a note); a session that
/// is over is an error, since the person has to act on it.
pub async fn refresh(vault: &Vault) -> anyhow::Result<()> {
    if !vault.status().await?.logged_in {
        eprintln!("note: this device is logged out; showing the local copy");
        return Ok(());
    }
    let report = match vault.sync().await {
        // Its unlock already tried to finish it and said why it could not.
        Err(err @ VaultError::RotationPending) => {
            eprintln!("note: {err}; showing the local copy");
            return Ok(());
        }
        result => result.map_err(|err| explain(err, vault))?,
    };
    if let Some(reason) = &report.offline {
        eprintln!("note: offline ({}); showing the local copy", line(reason));
    }
    if !report.conflicts.is_empty() {
        eprintln!(
            "note: {} change(s) met another device's change; see `gophkeeper conflicts`",
            report.conflicts.len()
        );
    }
    super::report::tampered(vault, &report.tampered).await
}

/// The item a change (`edit`, `rm`) is about, as this device holds it.
///
/// A change is based on what this device last showed, so it does not sync
/// first (a change made elsewhere since then becomes a conflict rather than
/// being overwritten unseen). Only a name this device does not know yet is
/// looked up again after a sync: nobody here can have seen that item, so
/// its current version is the one to change.
pub async fn find_for_change(vault: &Vault, target: &str) -> anyhow::Result<Entry> {
    match vault.get(target).await {
        Err(VaultError::NotFound(_)) => {
            refresh(vault).await?;
            Ok(vault.get(target).await?)
        }
        found => Ok(found?),
    }
}

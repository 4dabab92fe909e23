//! `gophkeeper passwd`: a new master password. Only the vault key is
//! re-wrapped (no record is re-encrypted) unless `--rotate-key` asks for a
//! new one too; the server revokes every other session, so other devices
//! must log in again with the new password.

use anyhow::Context;
use clap::Args;

use super::context::explain;
use super::{Done, Globals, rotate_key};
use crate::prompt;

#[derive(Debug, Args)]
pub struct Passwd {
    /// Also make a new vault key and re-seal every item under it (as
    /// `gophkeeper rotate-key`), before the password changes.
    #[arg(long)]
    pub rotate_key: bool,
}

pub async fn run(globals: &Globals, args: Passwd) -> anyhow::Result<Done> {
    // Asked before unlocking so the current one is typed once.
    let current = prompt::password(prompt::PASSWORD_ENV, "Current master password: ")?;
    let mut vault = globals.unlock_with(&current).await?;
    let new = prompt::new_password(prompt::NEW_PASSWORD_ENV, "New master password: ")?;
    if args.rotate_key {
        // Checked before the rotation, so a refused password changes nothing.
        gophkeeper_client::vault::check_master_password(&new, vault.username())
            .context("the master password was not changed")?;
        // Two steps, each resumable on its own: a rotation cut off
        // half-way finishes under the password the profile knows.
        rotate_key::rotate(&mut vault, &current).await?;
    }
    match vault.change_password(&current, &new).await {
        Ok(()) => {}
        Err(err) if err.needs_login() => return Err(explain(err, &vault)),
        Err(err) => return Err(err).context("the master password was not changed"),
    }
    eprintln!(
        "Master password changed. Other devices must log in again with the new one \
         (gophkeeper login {}).",
        vault.username()
    );
    Ok(Done::Success)
}

//! `gophkeeper passwd`: a new master password. Only the vault key is
//! re-wrapped (no record is re-encrypted); the server revokes every other
//! session, so other devices must log in again with the new password.

use anyhow::Context;

use super::context::explain;
use super::{Done, Globals};
use crate::prompt;

pub async fn run(globals: &Globals) -> anyhow::Result<Done> {
    // Asked before unlocking so the current one is typed once.
    let current = prompt::password(prompt::PASSWORD_ENV, "Current master password: ")?;
    let mut vault = globals.unlock_with(&current).await?;
    let new = prompt::new_password(prompt::NEW_PASSWORD_ENV, "New master password: ")?;
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

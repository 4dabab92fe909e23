//! `gophkeeper rotate-key`: a new vault key. Every record is re-sealed
//! under it, the older keys stay (wrapped under the new one) so that
//! anything they sealed still opens, and every other device must log in
//! again. Also finishes a rotation that stopped half-way.

use anyhow::Context;
use gophkeeper_client::vault::Vault;
use secrecy::SecretString;

use super::context::explain;
use super::{Done, Globals};
use crate::output::sanitize::line;
use crate::prompt;

pub async fn run(globals: &Globals) -> anyhow::Result<Done> {
    let password = prompt::password(prompt::PASSWORD_ENV, "Master password: ")?;
    let mut vault = globals.open_with(&password).await?;
    rotate(&mut vault, &password).await?;
    Ok(Done::Success)
}

/// Rotates (or finishes a rotation) and says what happened.
pub async fn rotate(vault: &mut Vault, password: &SecretString) -> anyhow::Result<()> {
    let rotated = match vault.rotate_key(password).await {
        Ok(rotated) => rotated,
        Err(err) if err.needs_login() => return Err(explain(err, vault)),
        Err(err) => {
            return Err(err).context(
                "the vault key was not rotated (run `gophkeeper rotate-key` again: it \
                 resumes where this stopped)",
            );
        }
    };
    eprintln!(
        "Vault key rotated (key epoch {}). Other devices must log in again \
         (gophkeeper login {}).",
        rotated.epoch,
        vault.username()
    );
    if rotated.left > 0 {
        eprintln!(
            "{} record(s) are still sealed under the old key; the next `gophkeeper sync` \
             re-seals them{}.",
            rotated.left,
            rotated
                .sync
                .offline
                .as_deref()
                .map(|why| format!(" (the server cannot be reached: {})", line(why)))
                .unwrap_or_default()
        );
    }
    Ok(())
}

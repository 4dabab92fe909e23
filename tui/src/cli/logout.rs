//! `gophkeeper logout`: ends this device's session on the server and
//! forgets its token. The encrypted local copy stays, readable offline with
//! the master password; `gophkeeper login` resumes syncing.

use anyhow::Context;

use super::{Done, Globals};

pub async fn run(globals: &Globals) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    let user = vault.username().to_owned();
    vault.logout().await.context("cannot log out")?;
    eprintln!(
        "Logged out. The local copy stays readable with the master password; \
         `gophkeeper login {user}` to sync again."
    );
    Ok(Done::Success)
}

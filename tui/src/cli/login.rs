//! `gophkeeper login USER`: signs this device in and fetches the vault.
//! Also how a device comes back after the master password was changed
//! elsewhere: the profile keeps its queue and gets the re-wrapped key.

use anyhow::Context;
use clap::Args;
use gophkeeper_client::vault::Vault;

use super::{Done, Globals};
use crate::prompt;

#[derive(Debug, Args)]
pub struct Login {
    /// User name of the account
    username: String,
}

pub async fn run(globals: &Globals, args: Login) -> anyhow::Result<Done> {
    let dir = globals.profile_dir()?;
    let mut options = globals.connect_options()?;
    options.second_factor = prompt::second_factor();
    options.secret_key = prompt::secret_key()?;
    let password = prompt::password(prompt::PASSWORD_ENV, "Master password: ")?;
    let mut ask = prompt::accept_certificate;
    let vault = Vault::login(&options, &dir, &args.username, &password, &mut ask)
        .await
        .with_context(|| format!("cannot log in as {:?} on {}", args.username, options.server))?;
    let items = vault.list().await?.len();
    eprintln!(
        "Logged in as {:?} on {}; {items} item(s) (profile {}).",
        vault.username(),
        vault.profile().server_url,
        dir.display()
    );
    for note in vault.storage_notices() {
        eprintln!("note: {note}");
    }
    super::report::tampered(&vault, vault.login_tampered()).await?;
    Ok(Done::Success)
}

//! `gophkeeper register USER`: a new account, this device logged in.
//! The master password is asked twice (or read once from
//! GOPHKEEPER_PASSWORD); it never leaves this device.

use anyhow::Context;
use clap::Args;
use gophkeeper_client::vault::Vault;

use super::{Done, Globals};
use crate::prompt;

#[derive(Debug, Args)]
pub struct Register {
    /// User name for the new account
    username: String,
}

pub async fn run(globals: &Globals, args: Register) -> anyhow::Result<Done> {
    let dir = globals.profile_dir()?;
    let options = globals.connect_options()?;
    let password = prompt::new_password(prompt::PASSWORD_ENV, "New master password: ")?;
    let mut ask = prompt::accept_certificate;
    let vault = Vault::register(&options, &dir, &args.username, &password, &mut ask)
        .await
        .with_context(|| format!("cannot register {:?} on {}", args.username, options.server))?;
    eprintln!(
        "Registered {:?} on {}; this device is logged in (profile {}).",
        vault.username(),
        vault.profile().server_url,
        dir.display()
    );
    if let Some(note) = vault.token_notice() {
        eprintln!("note: {note}");
    }
    Ok(Done::Success)
}

//! `gophkeeper register USER`: a new account, this device logged in.
//! The master password is asked twice (or read once from
//! GOPHKEEPER_PASSWORD); it never leaves this device. With
//! `--secret-key` the account also gets a Secret Key, printed once as an
//! emergency kit.

use anyhow::Context;
use clap::Args;
use gophkeeper_client::vault::{SecretKey, SecretKeyInput, Vault};

use super::{Done, Globals, secret_key};
use crate::prompt;

#[derive(Debug, Args)]
pub struct Register {
    /// User name for the new account
    username: String,
    /// Also give the account a Secret Key: 128 random bits mixed into the
    /// password, kept on each device and printed once as an emergency kit
    /// (a new device needs it)
    #[arg(long)]
    secret_key: bool,
}

pub async fn run(globals: &Globals, args: Register) -> anyhow::Result<Done> {
    let dir = globals.profile_dir()?;
    let mut options = globals.connect_options()?;
    let key = args.secret_key.then(SecretKey::generate);
    if let Some(key) = &key {
        options.secret_key = SecretKeyInput::Given(key.clone());
    }
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
    for note in vault.storage_notices() {
        eprintln!("note: {note}");
    }
    if let Some(key) = &key {
        secret_key::print_kit(&vault, key)?;
    }
    Ok(Done::Success)
}

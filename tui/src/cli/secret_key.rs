//! `gophkeeper secret-key enable|kit`: the account's Secret Key, and the
//! emergency kit that carries it to a new device (docs/design.md, "Secret
//! Key").

use clap::Subcommand;
use gophkeeper_client::vault::{SecretKey, Vault};
use secrecy::ExposeSecret;

use super::context::explain;
use super::{Done, Globals};
use crate::output::write_stdout;
use crate::prompt;

#[derive(Debug, Subcommand)]
pub enum SecretKeyCommand {
    /// Give the account a Secret Key and print its emergency kit (other
    /// devices must log in again, with the key)
    Enable,
    /// Print the emergency kit again, from the key this device keeps
    Kit,
}

pub async fn run(globals: &Globals, command: SecretKeyCommand) -> anyhow::Result<Done> {
    let password = prompt::password(prompt::PASSWORD_ENV, "Master password: ")?;
    let mut vault = globals.unlock_with(&password).await?;
    let key = match command {
        SecretKeyCommand::Enable => {
            let key = vault
                .enable_secret_key(&password)
                .await
                .map_err(|err| explain(err, &vault))?;
            eprintln!(
                "The account has a Secret Key now. Other devices were signed out; each logs in \
                 again with the key from the kit below."
            );
            for note in vault.storage_notices() {
                eprintln!("note: {note}");
            }
            key
        }
        SecretKeyCommand::Kit => vault.kept_secret_key().await?.ok_or_else(|| {
            anyhow::anyhow!(
                "this account has no Secret Key; `gophkeeper secret-key enable` gives it one"
            )
        })?,
    };
    print_kit(&vault, &key)?;
    Ok(Done::Success)
}

/// The emergency kit, on standard output: what a new device needs, and
/// plainly what losing it means.
pub fn print_kit(vault: &Vault, key: &SecretKey) -> anyhow::Result<()> {
    let text = key.to_text();
    let kit = zeroize::Zeroizing::new(format!(
        "\
=== GophKeeper emergency kit ===
Server:      {server}
User name:   {user}
Secret Key:  {key}
Master password: ______________________ (or keep it in your head only)

A new device needs both the master password and this Secret Key
(`gophkeeper login` asks for it; scripts set GOPHKEEPER_SECRET_KEY).
Print this or keep it somewhere safe, apart from your devices.
If you lose the master password, or the Secret Key and every device
that keeps it, your vault is lost: nobody, the server included, can
open it or reset either.
",
        server = vault.profile().server_url,
        user = vault.username(),
        key = text.expose_secret(),
    ));
    write_stdout(kit.as_bytes())
}

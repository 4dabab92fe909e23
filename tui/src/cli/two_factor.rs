//! `gophkeeper 2fa enable|disable|status`: two-factor login. With it on, a
//! new device's `login` needs a code from an authenticator app (or one of
//! the ten recovery codes); devices already signed in are not asked.

use clap::Subcommand;
use secrecy::ExposeSecret;

use super::context::explain;
use super::{Done, Globals};
use crate::output::write_stdout;
use crate::prompt;

#[derive(Debug, Subcommand)]
pub enum TwoFactor {
    /// Turn it on: prints a secret for the authenticator app, reads a code
    /// of it, then prints ten recovery codes (shown only this once)
    Enable,
    /// Turn it off (the master password and a code, or a recovery code)
    Disable,
    /// Whether it is on, and how many recovery codes are left
    Status,
}

pub async fn run(globals: &Globals, command: TwoFactor) -> anyhow::Result<Done> {
    match command {
        TwoFactor::Status => {
            let vault = globals.unlock().await?;
            let status = vault
                .two_factor_status()
                .await
                .map_err(|err| explain(err, &vault))?;
            let text = if status.enabled {
                format!(
                    "two-factor login: on ({} recovery code(s) left)\n",
                    status.recovery_codes_left
                )
            } else {
                "two-factor login: off\n".to_owned()
            };
            write_stdout(text.as_bytes())?;
        }
        TwoFactor::Enable => {
            let password = prompt::password(prompt::PASSWORD_ENV, "Master password: ")?;
            let vault = globals.unlock_with(&password).await?;
            let setup = vault
                .begin_two_factor(&password)
                .await
                .map_err(|err| explain(err, &vault))?;
            write_stdout(
                format!(
                    "Add this to your authenticator app:\n  {}\nor type in the secret:\n  {}\n",
                    setup.otpauth_uri.expose_secret(),
                    setup.secret_base32.expose_secret()
                )
                .as_bytes(),
            )?;
            let code = prompt::code("Code the app shows now: ")?;
            let recovery = vault
                .enable_two_factor(code.expose_secret())
                .await
                .map_err(|err| explain(err, &vault))?;
            let mut text = String::from(
                "Two-factor login is on. Recovery codes (each works once in place of a code; \
                 keep them apart from this device, they are not shown again):\n",
            );
            for code in &recovery {
                text.push_str(&format!("  {}\n", code.expose_secret()));
            }
            write_stdout(text.as_bytes())?;
        }
        TwoFactor::Disable => {
            let password = prompt::password(prompt::PASSWORD_ENV, "Master password: ")?;
            let vault = globals.unlock_with(&password).await?;
            let code = prompt::code("Two-factor code (or a recovery code): ")?;
            vault
                .disable_two_factor(&password, code.expose_secret())
                .await
                .map_err(|err| explain(err, &vault))?;
            eprintln!("two-factor login is off");
        }
    }
    Ok(Done::Success)
}

//! The flags every command and the full-screen vault share, and what they
//! give: the profile directory, how to connect, the unlocked vault. Its
//! own module so that `app` and `cli` both use it without using each
//! other.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use gophkeeper_client::vault::{
    ConnectOptions, CryptoError, Profile, ServerUrl, Trust, TrustRequest, Vault, VaultError,
    default_profile_dir, device_name, profile_exists, stored_profile,
};
use secrecy::SecretString;

use crate::output::time::Clock;
use crate::prompt;

/// Flags that apply to every command. `--server` and `--ca-cert` matter
/// to `register` and `login`; afterwards the profile remembers both.
#[derive(Debug, Clone, Args)]
pub struct Globals {
    /// Server to register or log in with [default: https://127.0.0.1:50051]
    #[arg(long, global = true, env = "GOPHKEEPER_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Profile directory: this device's encrypted copy of the vault
    /// [default: the platform data directory, profiles/default]
    #[arg(long, global = true, env = "GOPHKEEPER_PROFILE", value_name = "DIR")]
    pub profile: Option<PathBuf>,
    /// Trust the server's certificate if this CA (PEM) signed it, e.g. the
    /// single-node server's <data dir>/tls/ca.pem. Without it: the system's
    /// roots, else the certificate's fingerprint is shown and you are asked.
    #[arg(
        long = "ca-cert",
        global = true,
        env = "GOPHKEEPER_CA_CERT",
        value_name = "FILE"
    )]
    pub ca_cert: Option<PathBuf>,
    /// Show times in UTC rather than this computer's time zone (JSON
    /// output always gives milliseconds since the Unix epoch)
    // Boolish: the environment variable may say 1/0, yes/no, on/off.
    #[arg(
        long,
        global = true,
        env = "GOPHKEEPER_UTC",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub utc: bool,
}

impl Globals {
    /// The zone times are shown in: local, or UTC with `--utc`.
    pub fn clock(&self) -> Clock {
        Clock::new(self.utc)
    }

    pub fn profile_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.profile {
            Some(dir) => Ok(dir.clone()),
            None => Ok(default_profile_dir("default")?),
        }
    }

    fn server_url(&self) -> anyhow::Result<ServerUrl> {
        match &self.server {
            Some(url) => Ok(ServerUrl::parse(url)?),
            None => Ok(ServerUrl::default()),
        }
    }

    /// For `register` and `login`.
    pub fn connect_options(&self) -> anyhow::Result<ConnectOptions> {
        let mut options = ConnectOptions::new(self.server_url()?);
        if let Some(ca) = &self.ca_cert {
            let ca = std::path::absolute(ca)
                .with_context(|| format!("cannot resolve {}", ca.display()))?;
            options.trust = TrustRequest::Configured(Trust::CaFile(ca));
        }
        options.device_name = device_name("gophkeeper CLI");
        Ok(options)
    }

    /// The profile as stored, without unlocking it; `None` if there is none.
    pub async fn stored_profile(&self) -> anyhow::Result<Option<Profile>> {
        Ok(stored_profile(&self.profile_dir()?).await?)
    }

    /// Opens the profile with the master password; works offline.
    pub async fn unlock(&self) -> anyhow::Result<Vault> {
        self.require_profile()?;
        let password = prompt::password(prompt::PASSWORD_ENV, "Master password: ")?;
        self.unlock_with(&password).await
    }

    fn require_profile(&self) -> anyhow::Result<PathBuf> {
        let dir = self.profile_dir()?;
        if !profile_exists(&dir) {
            bail!(
                "no profile in {}; run `gophkeeper register <user>` or `gophkeeper login <user>` \
                 first",
                dir.display()
            );
        }
        Ok(dir)
    }

    /// The profile's user name for a hint, or a placeholder.
    async fn profile_user(&self) -> String {
        self.stored_profile()
            .await
            .ok()
            .flatten()
            .map_or_else(|| "<user>".to_owned(), |p| p.username)
    }

    /// Unlocks, and finishes a vault-key rotation that stopped half-way on
    /// this device (it needs the password, which is at hand only now).
    pub async fn unlock_with(&self, password: &SecretString) -> anyhow::Result<Vault> {
        let mut vault = self.open_with(password).await?;
        if vault.rotation_pending().await? {
            eprintln!("Finishing the vault-key rotation that stopped half-way on this device...");
            if let Err(err) = crate::cli::rotate_key::rotate(&mut vault, password).await {
                eprintln!("warning: {err:#}");
            }
        }
        Ok(vault)
    }

    /// Unlocks and nothing more.
    pub async fn open_with(&self, password: &SecretString) -> anyhow::Result<Vault> {
        let dir = self.require_profile()?;
        let vault = match Vault::unlock(&dir, password).await {
            Ok(vault) => vault,
            Err(VaultError::WrongPassword) => {
                let user = self.profile_user().await;
                bail!(
                    "wrong master password. If it was changed on another device, log this \
                     device in with the new one: gophkeeper login {user}"
                );
            }
            Err(VaultError::Crypto(CryptoError::SecretKeyNeeded)) => {
                let user = self.profile_user().await;
                bail!(
                    "this account has a Secret Key and this device does not know it any more (its \
                     keyring entry or the profile's secret-key file is gone); log in again with \
                     the key from the emergency kit: gophkeeper login {user} (or set \
                     GOPHKEEPER_SECRET_KEY)"
                );
            }
            Err(err) => return Err(err).context("cannot open the profile"),
        };
        if let Some(url) = &self.server {
            let asked = ServerUrl::parse(url)?;
            if asked.as_str() != vault.profile().server_url {
                bail!(
                    "this profile belongs to {}, not {}; use another --profile for another server",
                    vault.profile().server_url,
                    asked
                );
            }
        }
        Ok(vault)
    }
}

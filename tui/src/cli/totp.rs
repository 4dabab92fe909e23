//! `gophkeeper totp NAME-OR-ID [--json | --copy]`: the login's current
//! one-time code on standard output (or the clipboard), and how long it
//! stays valid on standard error.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use gophkeeper_client::item::Payload;

use super::context::refresh;
use super::{Done, Globals};
use crate::output::{json, print_json, write_stdout};

#[derive(Debug, Args)]
pub struct Totp {
    /// Item name or id of a login with a TOTP secret
    target: String,
    /// Print JSON (code, remaining_seconds, period, digits, algorithm)
    #[arg(long, conflicts_with = "copy")]
    json: bool,
    /// Copy the code to the clipboard instead of printing it
    #[arg(long)]
    copy: bool,
}

pub async fn run(globals: &Globals, args: Totp, clear_after: Duration) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    refresh(&vault).await?;
    let entry = vault.get(&args.target).await?;
    let Payload::Login {
        totp: Some(secret), ..
    } = &entry.item.payload
    else {
        bail!("{:?} has no TOTP secret", entry.item.name);
    };
    let totp = crate::totp::Totp::parse(secret)
        .with_context(|| format!("the TOTP secret of {:?} is unusable", entry.item.name))?;
    let code = totp.now();
    if args.copy {
        super::copy::copy("code", &code.code, clear_after)?;
        eprintln!("valid for {} more second(s)", code.remaining_seconds);
    } else if args.json {
        print_json(&json::TotpCode {
            code: &code.code,
            remaining_seconds: code.remaining_seconds,
            period: totp.period(),
            digits: totp.digits(),
            algorithm: totp.algorithm().name(),
        })?;
    } else {
        write_stdout(format!("{}\n", code.code).as_bytes())?;
        eprintln!("valid for {} more second(s)", code.remaining_seconds);
    }
    Ok(Done::Success)
}

//! `gophkeeper add login|text|binary|card NAME ...`: builds the item,
//! checks it, then unlocks, saves and tries to send it. Prints the new
//! item's id on standard output, so `id=$(gophkeeper add ...)` works.

use std::path::PathBuf;

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};
use gophkeeper_client::item::{CardExpiry, Item, Payload, validate_card_number, validate_cvv};

use super::item_args::{
    CommonArgs, PasswordArgs, check_totp, file_name, parse_expiry, precheck, read_file, read_text,
};
use super::{Done, Globals, redacted_debug, report};
use crate::output::write_stdout;

#[derive(Debug, Subcommand)]
pub enum Add {
    /// A website or app login.
    Login(AddLogin),
    /// A secure note.
    Text(AddText),
    /// A file (up to about 512 KiB).
    Binary(AddBinary),
    /// A payment card (the number must pass the Luhn check).
    Card(AddCard),
}

#[derive(Args)]
pub struct AddLogin {
    /// Item name
    name: String,
    #[arg(long, value_name = "U")]
    username: String,
    #[command(flatten)]
    password: PasswordArgs,
    /// A site the login is for (URL or host name); repeat for more
    #[arg(long = "url", value_name = "URL")]
    urls: Vec<String>,
    /// TOTP secret: base32, or an otpauth://totp/ URI
    #[arg(long, value_name = "SECRET")]
    totp: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
#[command(group(ArgGroup::new("content").required(true).args(["text", "from_file"])))]
pub struct AddText {
    /// Item name
    name: String,
    /// The text
    #[arg(long, value_name = "T")]
    text: Option<String>,
    /// Read the text from a file (`-` for standard input)
    #[arg(long, value_name = "F")]
    from_file: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
pub struct AddBinary {
    /// Item name
    name: String,
    /// The file to store (`-` for standard input)
    #[arg(long, value_name = "PATH")]
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
pub struct AddCard {
    /// Item name
    name: String,
    /// Card number; spaces and dashes are fine
    #[arg(long, value_name = "N")]
    number: String,
    /// Expiry as printed, MM/YY (or MM/YYYY)
    #[arg(long, value_name = "MM/YY", value_parser = parse_expiry)]
    expiry: CardExpiry,
    /// Card holder's name
    #[arg(long, value_name = "H")]
    holder: String,
    /// Security code (3 or 4 digits)
    #[arg(long, value_name = "C")]
    cvv: String,
    #[command(flatten)]
    common: CommonArgs,
}

redacted_debug!(AddLogin, AddText, AddBinary, AddCard);

impl Add {
    /// The item, checked; nothing secret is copied.
    fn into_item(self) -> anyhow::Result<Item> {
        let (mut item, mut common) = match self {
            Self::Login(mut args) => {
                let totp = args.totp.take().filter(|t| !t.is_empty());
                if let Some(totp) = &totp {
                    check_totp(totp)?;
                }
                let password = args.password.take()?.unwrap_or_default();
                let payload = Payload::Login {
                    username: std::mem::take(&mut args.username),
                    password,
                    urls: std::mem::take(&mut args.urls),
                    totp,
                };
                (
                    Item::new(std::mem::take(&mut args.name), payload),
                    args.common,
                )
            }
            Self::Text(mut args) => {
                let text = match (args.text.take(), &args.from_file) {
                    (Some(text), _) => text,
                    (None, Some(path)) => read_text(path)?,
                    (None, None) => unreachable!("clap requires --text or --from-file"),
                };
                let payload = Payload::Text { text };
                (
                    Item::new(std::mem::take(&mut args.name), payload),
                    args.common,
                )
            }
            Self::Binary(mut args) => {
                let mut bytes = read_file(&args.file)?;
                let payload = Payload::Binary {
                    file_name: file_name(&args.file),
                    bytes: std::mem::take(&mut *bytes),
                };
                (
                    Item::new(std::mem::take(&mut args.name), payload),
                    args.common,
                )
            }
            Self::Card(mut args) => {
                validate_card_number(&args.number).context("--number")?;
                validate_cvv(&args.cvv).context("--cvv")?;
                let payload = Payload::Card {
                    holder: std::mem::take(&mut args.holder),
                    number: std::mem::take(&mut args.number),
                    expiry: args.expiry,
                    cvv: std::mem::take(&mut args.cvv),
                };
                (
                    Item::new(std::mem::take(&mut args.name), payload),
                    args.common,
                )
            }
        };
        common.apply(&mut item);
        precheck(&item)?;
        Ok(item)
    }
}

pub async fn run(globals: &Globals, args: Add) -> anyhow::Result<Done> {
    let item = args.into_item()?;
    let vault = globals.unlock().await?;
    let saved = vault
        .add(&item)
        .await
        .map_err(|err| super::context::explain(err, &vault))?;
    write_stdout(format!("{}\n", saved.record_id).as_bytes())?;
    let what = format!("added {} {:?}", item.kind(), item.name);
    report::change(
        &vault,
        &what,
        &saved.report,
        saved.login_required.as_deref(),
    )
    .await
}

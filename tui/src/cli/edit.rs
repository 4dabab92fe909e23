//! `gophkeeper edit NAME-OR-ID [flags]`: changes only what the flags name.
//!
//! The edit is based on the revision this device showed last (no sync
//! first): if another device changed the item meanwhile, the server
//! reports a conflict and both versions are kept, rather than this edit
//! silently replacing a version nobody here has seen.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use gophkeeper_client::item::{
    CardExpiry, Item, ItemKind, Payload, validate_card_number, validate_cvv,
};
use zeroize::Zeroize;

use super::context::{explain, find_for_change};
use super::item_args::{
    CommonArgs, PasswordArgs, check_totp, file_name, parse_expiry, precheck, read_file, read_text,
};
use super::{Done, Globals, redacted_debug, report};

#[derive(Args)]
pub struct Edit {
    /// Item name or id
    target: String,
    /// Rename the item
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Login: user name
    #[arg(long, value_name = "U")]
    username: Option<String>,
    #[command(flatten)]
    password: PasswordArgs,
    /// Login: replaces the URL list; repeat for several
    #[arg(long = "url", value_name = "URL")]
    urls: Vec<String>,
    /// Login: TOTP secret; an empty value removes it
    #[arg(long, value_name = "SECRET")]
    totp: Option<String>,
    /// Text: the new text
    #[arg(long, value_name = "T", conflicts_with = "from_file")]
    text: Option<String>,
    /// Text: read the new text from a file (`-` for standard input)
    #[arg(long, value_name = "F")]
    from_file: Option<PathBuf>,
    /// Binary: replace the file
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Card: number
    #[arg(long, value_name = "N")]
    number: Option<String>,
    /// Card: expiry, MM/YY
    #[arg(long, value_name = "MM/YY", value_parser = parse_expiry)]
    expiry: Option<CardExpiry>,
    /// Card: holder's name
    #[arg(long, value_name = "H")]
    holder: Option<String>,
    /// Card: security code
    #[arg(long, value_name = "C")]
    cvv: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

redacted_debug!(Edit);

impl Edit {
    /// The kind-specific flags given, by the kind they belong to.
    fn given(&self) -> [(ItemKind, &'static str, bool); 12] {
        use ItemKind::{Binary, Card, Login, Text};
        [
            (Login, "--username", self.username.is_some()),
            (Login, "--password", self.password.password.is_some()),
            (Login, "--generate", self.password.generate),
            (Login, "--url", !self.urls.is_empty()),
            (Login, "--totp", self.totp.is_some()),
            (Text, "--text", self.text.is_some()),
            (Text, "--from-file", self.from_file.is_some()),
            (Binary, "--file", self.file.is_some()),
            (Card, "--number", self.number.is_some()),
            (Card, "--expiry", self.expiry.is_some()),
            (Card, "--holder", self.holder.is_some()),
            (Card, "--cvv", self.cvv.is_some()),
        ]
    }

    fn changes_nothing(&self) -> bool {
        self.name.is_none()
            && self.common.is_empty()
            && !self.given().iter().any(|(_, _, set)| *set)
    }

    /// Refuses flags of another kind.
    fn check_flags(&self, kind: ItemKind) -> anyhow::Result<()> {
        let given = self.given();
        let misfits: Vec<&str> = given
            .iter()
            .filter(|(k, _, set)| *set && *k != kind)
            .map(|(_, flag, _)| *flag)
            .collect();
        if !misfits.is_empty() {
            bail!("{} cannot be used on a {kind} item", misfits.join(", "));
        }
        Ok(())
    }

    fn apply(&mut self, item: &mut Item) -> anyhow::Result<()> {
        self.check_flags(item.kind())?;
        if let Some(name) = self.name.take() {
            item.name.zeroize();
            item.name = name;
        }
        let new_password = self.password.take()?;
        match &mut item.payload {
            Payload::Login {
                username,
                password,
                urls,
                totp,
            } => {
                replace(username, self.username.take());
                replace(password, new_password);
                if !self.urls.is_empty() {
                    *urls = std::mem::take(&mut self.urls);
                }
                if let Some(secret) = self.totp.take() {
                    check_totp(&secret)?;
                    *totp = Some(secret).filter(|s| !s.is_empty());
                }
            }
            Payload::Text { text } => match (self.text.take(), &self.from_file) {
                (Some(new), _) => replace(text, Some(new)),
                (None, Some(path)) => replace(text, Some(read_text(path)?)),
                (None, None) => {}
            },
            Payload::Binary {
                file_name: name,
                bytes,
            } => {
                if let Some(path) = &self.file {
                    let mut new = read_file(path)?;
                    bytes.zeroize();
                    *bytes = std::mem::take(&mut *new);
                    *name = file_name(path);
                }
            }
            Payload::Card {
                holder,
                number,
                expiry,
                cvv,
            } => {
                if let Some(new) = &self.number {
                    validate_card_number(new).context("--number")?;
                }
                if let Some(new) = &self.cvv {
                    validate_cvv(new).context("--cvv")?;
                }
                replace(number, self.number.take());
                replace(cvv, self.cvv.take());
                replace(holder, self.holder.take());
                if let Some(new) = self.expiry {
                    *expiry = new;
                }
            }
        }
        self.common.apply(item);
        Ok(())
    }
}

fn replace(slot: &mut String, new: Option<String>) {
    if let Some(new) = new {
        slot.zeroize();
        *slot = new;
    }
}

pub async fn run(globals: &Globals, mut args: Edit) -> anyhow::Result<Done> {
    if args.changes_nothing() {
        bail!("nothing to change: give at least one flag (see `gophkeeper edit --help`)");
    }
    let vault = globals.unlock().await?;
    let entry = find_for_change(&vault, &args.target).await?;
    let mut item = entry.item.clone();
    args.apply(&mut item)?;
    precheck(&item)?;
    let saved = vault
        .edit_from(entry.id, entry.revision, &item)
        .await
        .map_err(|err| explain(err, &vault))?;
    let what = format!("edited {} {:?}", item.kind(), item.name);
    report::change(
        &vault,
        &what,
        &saved.report,
        saved.login_required.as_deref(),
    )
    .await
}

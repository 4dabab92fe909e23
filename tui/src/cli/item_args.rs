//! Flags that `add` and `edit` share, and the checks every new version of
//! an item passes before the master password is even asked for: content
//! rules (Luhn, expiry, CVV, URLs) and the 512 KiB record limit. Secrets
//! typed on the command line are moved into the item, never copied, so the
//! item's wipe-on-drop covers them.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};
use clap::Args;
use gophkeeper_client::item::{CardExpiry, CustomField, Item, check_sealed_size};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::generate;
use crate::totp::Totp;

#[derive(Args)]
pub struct CommonArgs {
    /// Free-text metadata kept with the item (replaces it in `edit`)
    #[arg(long, value_name = "TEXT")]
    pub meta: Option<String>,
    /// A custom field; repeat for more. In `edit` it replaces the field
    /// with the same key, or adds one
    #[arg(long = "field", value_name = "KEY=VALUE", value_parser = parse_field)]
    pub fields: Vec<FieldArg>,
}

impl CommonArgs {
    pub fn is_empty(&self) -> bool {
        self.meta.is_none() && self.fields.is_empty()
    }

    pub fn apply(&mut self, item: &mut Item) {
        if let Some(meta) = self.meta.take() {
            item.notes.zeroize();
            item.notes = meta;
        }
        for field in self.fields.drain(..) {
            let (key, value) = (field.key.clone(), field.value.clone());
            match item.fields.iter_mut().find(|f| f.key == key) {
                Some(existing) => {
                    existing.value.zeroize();
                    existing.value = value;
                }
                None => item.fields.push(CustomField::new(key, value)),
            }
        }
    }
}

/// `KEY=VALUE`; wiped when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FieldArg {
    key: String,
    value: String,
}

fn parse_field(text: &str) -> Result<FieldArg, String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok(FieldArg {
            key: key.trim().to_owned(),
            value: value.to_owned(),
        }),
        // The value is not echoed: it may be a secret.
        _ => Err("expected KEY=VALUE with a non-empty key".into()),
    }
}

pub fn parse_expiry(text: &str) -> Result<CardExpiry, String> {
    CardExpiry::parse(text).map_err(|e| e.to_string())
}

/// `--password P` or `--generate` (a fresh 20-character password).
#[derive(Args)]
pub struct PasswordArgs {
    /// The item's password (not the master password). Visible to other
    /// users of this machine in the process list: prefer --generate
    #[arg(long, value_name = "P", conflicts_with = "generate")]
    pub password: Option<String>,
    /// Generate a 20-character password (read it with `get --field password`)
    #[arg(long)]
    pub generate: bool,
}

impl PasswordArgs {
    /// The new password, if one was asked for.
    pub fn take(&mut self) -> anyhow::Result<Option<String>> {
        if self.generate {
            let generated = generate::password(generate::DEFAULT_LENGTH)?;
            return Ok(Some(generated.as_str().to_owned()));
        }
        Ok(self.password.take())
    }
}

/// Refuses a TOTP secret no code can be made from; empty means "none".
pub fn check_totp(secret: &str) -> anyhow::Result<()> {
    if !secret.is_empty() {
        Totp::parse(secret).context("--totp")?;
    }
    Ok(())
}

/// Reads a file for an item, refusing one that cannot fit in a record
/// before reading it whole. `-` reads standard input.
pub fn read_file(path: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(Vec::new());
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    } else {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        check_sealed_size(usize::try_from(size).unwrap_or(usize::MAX))
            .with_context(|| format!("{} is too large for one item", path.display()))?;
        bytes = Zeroizing::new(
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        );
    }
    check_sealed_size(bytes.len()).context("too large for one item")?;
    Ok(bytes)
}

/// A text file's content.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    let mut bytes = read_file(path)?;
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(text),
        Err(err) => {
            let mut raw = err.into_bytes();
            raw.zeroize();
            bail!(
                "{} is not UTF-8 text; store it with `gophkeeper add binary`",
                path.display()
            )
        }
    }
}

/// The base name of a path, which is what a binary item keeps.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "stdin".into(), |n| n.to_string_lossy().into_owned())
}

/// Every rule the server and the library would apply, checked now, so a
/// bad item never reaches the queue.
pub fn precheck(item: &Item) -> anyhow::Result<()> {
    item.validate().context("nothing was saved or sent")?;
    check_sealed_size(item.encode().len()).context("nothing was saved or sent")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use gophkeeper_client::item::Payload;

    use super::*;

    #[test]
    fn fields_parse_and_replace_by_key() {
        let field = parse_field("pin = 12=34").unwrap();
        assert_eq!(
            (field.key.as_str(), field.value.as_str()),
            ("pin", " 12=34")
        );
        assert!(parse_field("=x").is_err());
        assert!(parse_field("novalue").is_err());
        let mut item = Item::new(
            "n",
            Payload::Text {
                text: String::new(),
            },
        );
        item.fields.push(CustomField::hidden("pin", "old"));
        let mut args = CommonArgs {
            meta: Some("m".into()),
            fields: vec![parse_field("pin=new").unwrap(), parse_field("a=b").unwrap()],
        };
        args.apply(&mut item);
        assert_eq!(item.notes, "m");
        assert_eq!(item.fields.len(), 2);
        assert_eq!(
            (item.fields[0].value.as_str(), item.fields[0].hidden),
            ("new", true)
        );
        assert_eq!(item.fields[1].key, "a");
    }

    #[test]
    fn expiry_and_totp_checks() {
        assert_eq!(parse_expiry("08/27").unwrap().to_string(), "08/2027");
        assert!(parse_expiry("13/27").is_err());
        assert!(parse_expiry("0827").is_err());
        check_totp("").unwrap();
        check_totp("JBSWY3DPEHPK3PXP").unwrap();
        assert!(check_totp("not a secret!").is_err());
    }
}

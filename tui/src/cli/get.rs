//! `gophkeeper get NAME-OR-ID [--field F | --json | --out PATH | --copy]`.
//!
//! Without flags every field is shown with secrets masked. `--field F`
//! prints one value as is (the way to read a password in a script;
//! control characters show escaped when standard output is a terminal);
//! `--json` prints everything; `--out` saves a binary item's file with
//! owner-only permissions; `--copy` puts a field on the clipboard for a
//! while instead of printing it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Args;
use gophkeeper_client::item::{Item, Payload};
use zeroize::Zeroizing;

use super::context::refresh;
use super::{Done, Globals};
use crate::output::json::Full;
use crate::output::{print_json, sanitize, text, write_private, write_stdout};

#[derive(Debug, Args)]
pub struct Get {
    /// Item name or id
    target: String,
    /// Print one field as is: name, notes, username, password, url, totp,
    /// text, holder, number, expiry, cvv, file_name, or a custom field's key
    #[arg(long, value_name = "F", conflicts_with_all = ["json", "out"])]
    field: Option<String>,
    /// Print the whole item as JSON, secrets included
    #[arg(long, conflicts_with = "out")]
    json: bool,
    /// Save a binary item's file here (mode 0600 on Unix)
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Copy a field (--field, else the password, card number or text) to
    /// the clipboard instead of printing it; cleared after
    /// --clipboard-clear seconds if it is still there
    #[arg(long, conflicts_with_all = ["json", "out"])]
    copy: bool,
}

/// The field `--copy` takes without `--field`: the one people copy.
fn copy_default(item: &Item) -> anyhow::Result<&'static str> {
    match item.payload {
        Payload::Login { .. } => Ok("password"),
        Payload::Card { .. } => Ok("number"),
        Payload::Text { .. } => Ok("text"),
        Payload::Binary { .. } => bail!(
            "{:?} is a file; --copy takes a field (--field), or save it with --out",
            item.name
        ),
    }
}

/// The fields each kind has, for `--field` and its error message.
fn field_names(item: &Item) -> &'static [&'static str] {
    match item.payload {
        Payload::Login { .. } => &["username", "password", "url", "totp"],
        Payload::Text { .. } => &["text"],
        Payload::Binary { .. } => &["file_name"],
        Payload::Card { .. } => &["holder", "number", "expiry", "cvv"],
    }
}

/// One field's value as is. Built-in names win over custom keys.
pub fn field_value(item: &Item, field: &str) -> anyhow::Result<Zeroizing<String>> {
    let value = |s: &str| Ok(Zeroizing::new(s.to_owned()));
    match (field, &item.payload) {
        ("name", _) => return value(&item.name),
        ("notes" | "meta", _) => return value(&item.notes),
        ("username", Payload::Login { username, .. }) => return value(username),
        ("password", Payload::Login { password, .. }) => return value(password),
        ("url" | "urls", Payload::Login { urls, .. }) => return value(&urls.join("\n")),
        ("totp", Payload::Login { totp, .. }) => {
            return value(totp.as_deref().unwrap_or_default());
        }
        ("text", Payload::Text { text }) => return value(text),
        ("file_name" | "file", Payload::Binary { file_name, .. }) => return value(file_name),
        ("holder", Payload::Card { holder, .. }) => return value(holder),
        ("number", Payload::Card { number, .. }) => return value(number),
        ("expiry", Payload::Card { expiry, .. }) => return value(&expiry.to_string()),
        ("cvv", Payload::Card { cvv, .. }) => return value(cvv),
        _ => {}
    }
    let custom = item.fields.iter().find(|f| f.key == field).or_else(|| {
        item.fields
            .iter()
            .find(|f| f.key.eq_ignore_ascii_case(field))
    });
    if let Some(custom) = custom {
        return value(&custom.value);
    }
    let keys: Vec<&str> = item.fields.iter().map(|f| f.key.as_str()).collect();
    bail!(
        "a {} item has no field {field:?}; it has name, notes, {}{}",
        item.kind(),
        field_names(item).join(", "),
        if keys.is_empty() {
            String::new()
        } else {
            format!(" and the custom fields {}", keys.join(", "))
        }
    )
}

pub async fn run(globals: &Globals, args: Get, clear_after: Duration) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    refresh(&vault).await?;
    let entry = vault.get(&args.target).await?;
    if args.copy {
        let field = match &args.field {
            Some(field) => field.as_str(),
            None => copy_default(&entry.item)?,
        };
        let value = field_value(&entry.item, field)?;
        if value.is_empty() {
            bail!("{:?} has an empty {field}; nothing copied", entry.item.name);
        }
        super::copy::copy(field, &value, clear_after)?;
    } else if let Some(field) = &args.field {
        let mut value = field_value(&entry.item, field)?;
        // As is for a script; on a terminal, a control character in it
        // could drive the terminal, so it shows escaped there.
        if std::io::stdout().is_terminal() {
            value = Zeroizing::new(sanitize::lines(&value).into_owned());
        }
        value.push('\n');
        write_stdout(value.as_bytes())?;
    } else if args.json {
        print_json(&Full::of(&entry))?;
    } else if let Some(path) = &args.out {
        let Payload::Binary { bytes, .. } = &entry.item.payload else {
            bail!(
                "--out saves a binary item's file; {:?} is a {} item (use --field)",
                entry.item.name,
                entry.item.kind()
            );
        };
        write_private(path, bytes, true)?;
        eprintln!("wrote {} bytes to {}", bytes.len(), path.display());
    } else {
        write_stdout(text::details(&entry).as_bytes())?;
    }
    Ok(Done::Success)
}

#[cfg(test)]
mod tests {
    use gophkeeper_client::item::CustomField;

    use super::*;

    #[test]
    fn fields_by_name_then_custom_key() {
        let mut item = Item::new(
            "Mail",
            Payload::Login {
                username: "me".into(),
                password: "pw".into(),
                urls: vec!["a.example".into(), "b.example".into()],
                totp: None,
            },
        );
        item.fields.push(CustomField::hidden("PIN", "1234"));
        assert_eq!(field_value(&item, "password").unwrap().as_str(), "pw");
        assert_eq!(
            field_value(&item, "url").unwrap().as_str(),
            "a.example\nb.example"
        );
        assert_eq!(field_value(&item, "totp").unwrap().as_str(), "");
        assert_eq!(field_value(&item, "pin").unwrap().as_str(), "1234");
        let err = field_value(&item, "cvv").unwrap_err().to_string();
        assert!(
            err.contains("no field \"cvv\"") && err.contains("PIN"),
            "{err}"
        );
    }
}

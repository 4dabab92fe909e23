//! Other password managers' exports, turned into items.
//!
//! - [`bitwarden`]: the unencrypted JSON export (every item type).
//! - [`keepassxc`]: the CSV export (every row is a login).
//!
//! A parser never fails on one bad entry: it imports what it can, converts
//! what does not fit a kind (a card without a valid number becomes a text
//! item listing its fields) and skips the rest, and [`Parsed`] says which
//! and why. Only a file that is not that kind of export at all is an error.
//! Parsers take untrusted input: they must never panic (see the proptests).

pub mod bitwarden;
pub mod keepassxc;

use gophkeeper_client::item::{CustomField, Item, MAX_NAME_CHARS, Payload};

/// What a parser made of a file.
#[derive(Debug, Default)]
pub struct Parsed {
    pub items: Vec<Item>,
    /// Entries that were imported differently than they were, and why.
    pub converted: Vec<Note>,
    /// Entries not imported, and why.
    pub skipped: Vec<Note>,
}

/// One entry of the report: which entry (its name or position) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub entry: String,
    pub reason: String,
}

impl Note {
    pub fn new(entry: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            entry: entry.into(),
            reason: reason.into(),
        }
    }
}

/// A file that is not the export it was said to be.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not a Bitwarden JSON export: {0}")]
    NotBitwarden(String),
    #[error(
        "this Bitwarden export is encrypted; export again choosing the format \"JSON\" (not \
         \"JSON (Encrypted)\")"
    )]
    EncryptedBitwarden,
    #[error("not a KeePassXC CSV export: {0}")]
    NotKeepassxc(String),
}

/// A usable item name: trimmed, never empty, at most the model's limit.
fn item_name(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return "Untitled".into();
    }
    name.chars().take(MAX_NAME_CHARS).collect()
}

/// Splits URLs into those a login accepts and the rest, which the caller
/// keeps as custom fields rather than losing them.
fn split_urls(urls: Vec<String>) -> (Vec<String>, Vec<String>) {
    urls.into_iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .partition(|url| {
            Item::new(
                "probe",
                Payload::Login {
                    username: String::new(),
                    password: String::new(),
                    urls: vec![url.clone()],
                    totp: None,
                },
            )
            .validate()
            .is_ok()
        })
}

/// A login with its URLs checked: unusable ones become `url` fields.
fn login(
    name: &str,
    username: String,
    password: String,
    urls: Vec<String>,
    totp: Option<String>,
) -> Item {
    let (good, odd) = split_urls(urls);
    let mut item = Item::new(
        item_name(name),
        Payload::Login {
            username,
            password,
            urls: good,
            totp: totp.filter(|t| !t.trim().is_empty()),
        },
    );
    for url in odd {
        item.fields.push(CustomField::new("url", url));
    }
    item
}

/// A text item listing `label: value` lines, for entries that have no kind
/// of their own here (identities, SSH keys, cards that fail validation).
fn listing(name: &str, lines: &[(&str, String)]) -> Item {
    let text = lines
        .iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(label, value)| format!("{label}: {value}"))
        .collect::<Vec<_>>()
        .join("\n");
    Item::new(item_name(name), Payload::Text { text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(parsed: &Parsed) -> Vec<&'static str> {
        parsed.items.iter().map(|i| i.kind().name()).collect()
    }

    #[test]
    fn the_fixtures_map_to_every_kind() {
        let bitwarden =
            bitwarden::parse(include_str!("../../tests/fixtures/bitwarden.json")).unwrap();
        assert_eq!(
            kinds(&bitwarden),
            ["login", "login", "text", "card", "text", "text", "text"]
        );
        assert_eq!(bitwarden.skipped.len(), 2);
        assert_eq!(bitwarden.converted.len(), 4, "{:?}", bitwarden.converted);
        let keepassxc =
            keepassxc::parse(include_bytes!("../../tests/fixtures/keepassxc.csv")).unwrap();
        assert_eq!(kinds(&keepassxc), ["login", "login", "login"]);
        assert_eq!(keepassxc.skipped.len(), 2, "{:?}", keepassxc.skipped);
        for item in bitwarden.items.iter().chain(&keepassxc.items) {
            item.validate().unwrap();
        }
    }

    #[test]
    fn names_and_urls() {
        assert_eq!(item_name("  "), "Untitled");
        assert_eq!(item_name(&"x".repeat(300)).len(), MAX_NAME_CHARS);
        let (good, odd) = split_urls(vec![
            "https://a.example".into(),
            "b.example".into(),
            "not a url".into(),
            String::new(),
        ]);
        assert_eq!(good, ["https://a.example", "b.example"]);
        assert_eq!(odd, ["not a url"]);
        let item = listing("n", &[("A", "1".into()), ("B", " ".into())]);
        assert_eq!(
            item.payload,
            Payload::Text {
                text: "A: 1".into()
            }
        );
    }
}

//! Text output for people. Secrets are masked: a password, TOTP secret,
//! CVV, hidden custom field, a text item's content or a file's bytes are
//! only shown when asked for one by one (`get --field`, `get --out`) or in
//! `--json`. Card numbers show their last four digits, as on a receipt.
//! Every value shown goes through [`sanitize`]: one-line values with all
//! control characters escaped, notes keeping their newlines.

use std::fmt::Write as _;

use gophkeeper_client::item::{Item, Payload};
use gophkeeper_client::vault::Entry;
use zeroize::Zeroizing;

use super::json::state_name;
use super::sanitize;

const MASK: &str = "********";

/// `list`: one line per item, `ID  KIND  NAME`, with the state appended
/// when it is not `synced`.
pub fn summary_line(entry: &Entry) -> String {
    let mut line = format!(
        "{}  {:<6}  {}",
        entry.id,
        entry.item.kind().name(),
        sanitize::line(&entry.item.name)
    );
    if entry.state != gophkeeper_client::vault::EntryState::Synced {
        let _ = write!(line, "  ({})", state_name(entry.state));
    }
    line
}

/// `get`: every field, one per line as `label: value`, secrets masked.
pub fn details(entry: &Entry) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    let item = &entry.item;
    row(&mut out, "name", &item.name);
    row(&mut out, "id", &entry.id.to_string());
    row(&mut out, "kind", item.kind().name());
    row(&mut out, "revision", &entry.revision.to_string());
    row(&mut out, "state", state_name(entry.state));
    body(&mut out, item);
    out
}

/// The kind-specific part, custom fields and notes.
pub fn body(out: &mut String, item: &Item) {
    match &item.payload {
        Payload::Login {
            username,
            password,
            urls,
            totp,
        } => {
            row(out, "username", username);
            if password.is_empty() {
                row(out, "password", "(none)");
            } else {
                row(
                    out,
                    "password",
                    &format!("{MASK} (--field password shows it)"),
                );
            }
            for url in urls {
                row(out, "url", url);
            }
            if totp.is_some() {
                row(
                    out,
                    "totp",
                    &format!("{MASK} (`gophkeeper totp` shows a code)"),
                );
            }
        }
        Payload::Text { text } => row(
            out,
            "text",
            &format!(
                "{} characters, hidden (--field text shows it)",
                text.chars().count()
            ),
        ),
        Payload::Binary { file_name, bytes } => {
            row(out, "file", file_name);
            row(
                out,
                "size",
                &format!("{} bytes (--out PATH saves it)", bytes.len()),
            );
        }
        Payload::Card {
            holder,
            number,
            expiry,
            ..
        } => {
            row(out, "holder", holder);
            row(out, "number", &masked_card_number(number));
            row(out, "expiry", &expiry.to_string());
            row(out, "cvv", MASK);
        }
    }
    for field in &item.fields {
        let label = format!("field {}", field.key);
        if field.hidden {
            row(out, &label, MASK);
        } else {
            row(out, &label, &field.value);
        }
    }
    if !item.notes.is_empty() {
        multi_line_row(out, "notes", &item.notes);
    }
}

/// `**** 1111`: the last four digits, which receipts print anyway.
pub fn masked_card_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("**** {last}")
}

/// `label: value` on one line: a newline in the value is escaped like any
/// control character, so a value cannot fake a row of its own.
fn row(out: &mut String, label: &str, value: &str) {
    let label = format!("{}:", sanitize::line(label));
    // Zeroizing: the escaped copy of a value is as private as the value.
    let value = Zeroizing::new(sanitize::line(value).into_owned());
    let _ = writeln!(out, "{label:<10} {}", value.as_str());
}

/// `label: value` for a value that is multi-line by nature (notes), later
/// lines indented under the first.
fn multi_line_row(out: &mut String, label: &str, value: &str) {
    let label = format!("{label}:");
    let value = Zeroizing::new(sanitize::lines(value).into_owned());
    let mut lines = value.lines();
    let _ = writeln!(out, "{label:<10} {}", lines.next().unwrap_or_default());
    for line in lines {
        let _ = writeln!(out, "{:<10} {line}", "");
    }
}

/// Which parts of two versions of an item differ, by name only (never by
/// value), for the conflicts list.
pub fn differences(mine: &Item, theirs: &Item) -> Vec<&'static str> {
    let mut out = Vec::new();
    if mine.name != theirs.name {
        out.push("name");
    }
    if mine.notes != theirs.notes {
        out.push("notes");
    }
    if mine.fields != theirs.fields {
        out.push("fields");
    }
    match (&mine.payload, &theirs.payload) {
        (
            Payload::Login {
                username: u1,
                password: p1,
                urls: l1,
                totp: t1,
            },
            Payload::Login {
                username: u2,
                password: p2,
                urls: l2,
                totp: t2,
            },
        ) => {
            for (name, same) in [
                ("username", u1 == u2),
                ("password", p1 == p2),
                ("urls", l1 == l2),
                ("totp", t1 == t2),
            ] {
                if !same {
                    out.push(name);
                }
            }
        }
        (a, b) if a != b => out.push(mine.kind().name()),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use gophkeeper_client::item::{CardExpiry, CustomField};
    use gophkeeper_client::vault::EntryState;
    use uuid::Uuid;

    use super::*;

    fn entry(item: Item) -> Entry {
        Entry {
            id: Uuid::nil(),
            revision: 1,
            state: EntryState::Synced,
            updated_at_ms: 0,
            item,
        }
    }

    #[test]
    fn details_mask_every_secret() {
        let mut login = Item::new(
            "Mail",
            Payload::Login {
                username: "me".into(),
                password: "SECRET-PW".into(),
                urls: vec!["mail.example".into()],
                totp: Some("SECRETTOTP".into()),
            },
        );
        login.fields.push(CustomField::hidden("pin", "SECRET-PIN"));
        login.fields.push(CustomField::new("colour", "blue"));
        login.notes = "line one\nline two".into();
        let text = details(&entry(login));
        assert!(!text.contains("SECRET"), "{}", text.as_str());
        for shown in [
            "me",
            "mail.example",
            "colour:",
            "blue",
            "line one",
            "line two",
        ] {
            assert!(text.contains(shown), "{shown}");
        }
        let card = Item::new(
            "Visa",
            Payload::Card {
                holder: "A Person".into(),
                number: "4111 1111 1111 1234".into(),
                expiry: CardExpiry {
                    month: 1,
                    year: 2030,
                },
                cvv: "987".into(),
            },
        );
        let text = details(&entry(card));
        assert!(text.contains("**** 1234") && text.contains("01/2030"));
        assert!(!text.contains("4111") && !text.contains("987"));
        let note = Item::new(
            "n",
            Payload::Text {
                text: "SECRET note".into(),
            },
        );
        let text = details(&entry(note));
        assert!(!text.contains("SECRET") && text.contains("11 characters"));
        let file = Item::new(
            "f",
            Payload::Binary {
                file_name: "a.txt".into(),
                bytes: b"SECRET".to_vec(),
            },
        );
        let text = details(&entry(file));
        assert!(!text.contains("SECRET") && text.contains("6 bytes"));
    }

    #[test]
    fn list_lines_and_differences() {
        let mut e = entry(Item::new("n", Payload::Text { text: "a".into() }));
        assert_eq!(
            summary_line(&e),
            "00000000-0000-0000-0000-000000000000  text    n"
        );
        e.state = EntryState::Conflict;
        assert!(summary_line(&e).ends_with("  (conflict)"));
        let login = |pw: &str| {
            Item::new(
                "l",
                Payload::Login {
                    username: "u".into(),
                    password: pw.into(),
                    urls: vec![],
                    totp: None,
                },
            )
        };
        assert_eq!(differences(&login("a"), &login("b")), ["password"]);
        let mut renamed = login("a");
        renamed.name = "m".into();
        assert_eq!(differences(&login("a"), &renamed), ["name"]);
        assert!(differences(&login("a"), &login("a")).is_empty());
    }

    /// Names, fields and notes can come from the server or an imported
    /// file: no control character reaches the terminal, notes keep their
    /// lines, and nothing else can start a row of its own.
    #[test]
    fn control_characters_never_reach_the_terminal() {
        let osc52 = "\x1b]52;c;aGVsbG8=\x07";
        let mut login = Item::new(
            format!("pay{osc52}\x1b[2J\rpal\npassword: fake"),
            Payload::Login {
                username: "me\x1b[31m".into(),
                password: "pw".into(),
                urls: vec!["https://a.example/\u{9b}2J".into()],
                totp: None,
            },
        );
        login.fields.push(CustomField::new("k\x1b[2J", "v\r\x7f"));
        login.notes = format!("line one\r\n{osc52}\rline two\n\tindented");
        let mut e = entry(login);
        e.state = EntryState::Pending;
        let text = details(&e);
        let listed = summary_line(&e);
        for shown in [text.as_str(), listed.as_str()] {
            let bad: Vec<char> = shown
                .chars()
                .filter(|&c| c.is_control() && c != '\n' && c != '\t')
                .collect();
            assert!(bad.is_empty(), "{bad:?} in {shown}");
            assert!(shown.contains(r"pay\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[2J\rpal\npassword: fake"));
        }
        assert!(!listed.contains('\n'), "{listed}");
        // One row per field: the name's newline did not make a row.
        assert!(
            !text.lines().any(|l| l.starts_with("password: fake")),
            "{}",
            text.as_str()
        );
        for row in [
            r"username:  me\u{1b}[31m",
            r"url:       https://a.example/\u{9b}2J",
            r"field k\u{1b}[2J: v\r\u{7f}",
            "notes:     line one\n",
            r"           \u{1b}]52;c;aGVsbG8=\u{7}\rline two",
            "           \tindented\n",
        ] {
            assert!(text.contains(row), "{row:?} not in\n{}", text.as_str());
        }
    }
}

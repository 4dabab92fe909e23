//! `Debug` that is safe to log: secrets are replaced by their size or by
//! the last four digits of a card number.

use std::fmt;

use super::card::last_four;
use super::{CustomField, Item, Payload};

struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Shows only how long a secret is.
struct Len(usize, &'static str);

impl fmt::Debug for Len {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} {}>", self.0, self.1)
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("name", &self.name)
            // Free text often ends up holding secrets too.
            .field("notes", &Len(self.notes.chars().count(), "chars"))
            .field("fields", &self.fields)
            .field("payload", &self.payload)
            .field("password_changed_ms", &self.password_changed_ms)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for CustomField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("CustomField");
        s.field("key", &self.key);
        if self.hidden {
            s.field("value", &Redacted);
        } else {
            s.field("value", &self.value);
        }
        s.field("hidden", &self.hidden).finish_non_exhaustive()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Login {
                username,
                password: _,
                urls,
                totp,
            } => f
                .debug_struct("Login")
                .field("username", username)
                .field("password", &Redacted)
                .field("urls", urls)
                .field("totp", &totp.as_ref().map(|_| Redacted))
                .finish(),
            Self::Text { text } => f
                .debug_struct("Text")
                .field("text", &Len(text.chars().count(), "chars"))
                .finish(),
            Self::Binary { file_name, bytes } => f
                .debug_struct("Binary")
                .field("file_name", file_name)
                .field("bytes", &Len(bytes.len(), "bytes"))
                .finish(),
            Self::Card {
                holder,
                number,
                expiry,
                cvv: _,
            } => f
                .debug_struct("Card")
                .field("holder", holder)
                .field("number", &format_args!("**** {}", last_four(number)))
                .field("expiry", &format_args!("{expiry}"))
                .field("cvv", &Redacted)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::CardExpiry;
    use super::*;

    #[test]
    fn secrets_never_appear() {
        let mut login = Item::new(
            "Mail",
            Payload::Login {
                username: "alice".into(),
                password: "hunter2-password".into(),
                urls: vec!["mail.example".into()],
                totp: Some("JBSWY3DPEHPK3PXP".into()),
            },
        );
        login.notes = "recovery code 9f8e7d".into();
        login.fields.push(CustomField::hidden("pin", "4321-secret"));
        login.fields.push(CustomField::new("team", "blue"));
        let card = Item::new(
            "Visa",
            Payload::Card {
                holder: "Alice".into(),
                number: "4111 1111 1111 1234".into(),
                expiry: CardExpiry {
                    month: 8,
                    year: 2027,
                },
                cvv: "987".into(),
            },
        );
        let text = Item::new(
            "Diary",
            Payload::Text {
                text: "dear diary".into(),
            },
        );
        let file = Item::new(
            "Key",
            Payload::Binary {
                file_name: "id_ed25519".into(),
                bytes: b"-----BEGIN OPENSSH".to_vec(),
            },
        );
        let shown = format!("{login:?} {card:?} {text:?} {file:?}");
        for secret in [
            "hunter2",
            "JBSWY3",
            "9f8e7d",
            "4321-secret",
            "4111",
            "987",
            "dear diary",
            "BEGIN",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        for visible in [
            "alice",
            "mail.example",
            "team",
            "blue",
            "**** 1234",
            "08/2027",
        ] {
            assert!(shown.contains(visible), "{visible} missing: {shown}");
        }
        assert!(shown.contains("<18 bytes>"), "{shown}");
    }
}

//! Wiping items, written out by hand rather than derived.
//!
//! The derived `Zeroize` wipes every `String` and `Vec<u8>` through
//! zeroize's element-by-element volatile loop, which for a 512 KiB file or
//! text cost more than encrypting it; these impls wipe the same fields,
//! just as surely, with [`wipe_string`] and [`wipe_bytes`] (see
//! `crypto/plaintext.rs` for why those are as safe).

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CustomField, Extensions, Item, Payload};
use crate::crypto::{wipe_bytes, wipe_string};

impl Zeroize for Item {
    fn zeroize(&mut self) {
        wipe_string(&mut self.name);
        wipe_string(&mut self.notes);
        self.fields.zeroize();
        self.payload.zeroize();
        self.password_changed_ms.zeroize();
        self.extensions.zeroize();
    }
}

impl Zeroize for CustomField {
    fn zeroize(&mut self) {
        wipe_string(&mut self.key);
        wipe_string(&mut self.value);
        self.hidden.zeroize();
        wipe_bytes(&mut self.unknown);
    }
}

impl Zeroize for Payload {
    fn zeroize(&mut self) {
        match self {
            Self::Login {
                username,
                password,
                urls,
                totp,
            } => {
                wipe_string(username);
                wipe_string(password);
                urls.iter_mut().for_each(wipe_string);
                urls.zeroize();
                if let Some(totp) = totp {
                    wipe_string(totp);
                }
                *totp = None;
            }
            Self::Text { text } => wipe_string(text),
            Self::Binary { file_name, bytes } => {
                wipe_string(file_name);
                wipe_bytes(bytes);
            }
            Self::Card {
                holder,
                number,
                expiry,
                cvv,
            } => {
                wipe_string(holder);
                wipe_string(number);
                expiry.zeroize();
                wipe_string(cvv);
            }
        }
    }
}

impl Zeroize for Extensions {
    fn zeroize(&mut self) {
        wipe_bytes(&mut self.item);
        self.payload_kind.zeroize();
        wipe_bytes(&mut self.payload);
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl Drop for CustomField {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Item {}
impl ZeroizeOnDrop for CustomField {}
impl ZeroizeOnDrop for Payload {}

#[cfg(test)]
mod tests {
    use super::super::CardExpiry;
    use super::*;

    #[test]
    fn zeroize_empties_every_field() {
        let mut item = Item::new(
            "name",
            Payload::Login {
                username: "u".into(),
                password: "p".into(),
                urls: vec!["example.com".into()],
                totp: Some("JBSWY3DP".into()),
            },
        );
        item.notes = "notes".into();
        item.fields.push(CustomField::hidden("k", "v"));
        item.extensions.item = vec![1, 2];
        item.zeroize();
        assert!(item.name.is_empty() && item.notes.is_empty() && item.fields.is_empty());
        assert!(item.extensions == Extensions::default());
        assert!(matches!(
            &item.payload,
            Payload::Login { username, password, urls, totp: None }
                if username.is_empty() && password.is_empty() && urls.is_empty()
        ));

        let mut card = Payload::Card {
            holder: "h".into(),
            number: "4111111111111111".into(),
            expiry: CardExpiry { month: 8, year: 27 },
            cvv: "123".into(),
        };
        card.zeroize();
        assert!(matches!(
            &card,
            Payload::Card { holder, number, expiry: CardExpiry { month: 0, year: 0 }, cvv }
                if holder.is_empty() && number.is_empty() && cvv.is_empty()
        ));
        let mut binary = Payload::Binary {
            file_name: "f".into(),
            bytes: vec![7; 10],
        };
        binary.zeroize();
        assert!(matches!(
            &binary,
            Payload::Binary { file_name, bytes } if file_name.is_empty() && bytes.is_empty()
        ));
    }
}

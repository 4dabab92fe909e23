//! Rules an item must meet before it is sealed. Decoding does not apply them,
//! so items saved under older, looser rules still open.

use url::Url;

use super::card::{validate_card_number, validate_cvv};
use super::{Item, Payload};

/// The longest item name, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// Why an item was refused. Each message is meant to be shown to the person
/// as is, and none repeats a secret (card numbers and CVVs are never echoed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("the item needs a name")]
    EmptyName,
    #[error("the name is {chars} characters long; the limit is 256")]
    NameTooLong { chars: usize },
    #[error("the card number may contain only digits, spaces and dashes")]
    CardNumberNotDigits,
    #[error("the card number has {digits} digits; card numbers have 12 to 19")]
    CardNumberLength { digits: usize },
    #[error("the card number's check digit is wrong; look for a typo")]
    CardNumberChecksum,
    #[error("expiry month {month} is not between 1 and 12")]
    ExpiryMonth { month: u8 },
    #[error("expiry year {year} is neither a 2-digit nor a 4-digit year")]
    ExpiryYear { year: u16 },
    #[error("expiry date {input:?} is not in the form MM/YY or MM/YYYY")]
    ExpiryFormat { input: String },
    #[error("the CVV must be 3 or 4 digits")]
    Cvv,
    #[error("{url:?} is neither a URL nor a host name")]
    Url { url: String },
    /// Checked before any network call, since the server would refuse it.
    #[error(
        "record is {} KiB after encryption; the limit is {} KiB",
        .sealed_bytes.div_ceil(1024),
        .limit_bytes / 1024
    )]
    TooLarge {
        sealed_bytes: usize,
        limit_bytes: usize,
    },
}

impl Item {
    /// Checks the content rules. Size is checked separately when sealing,
    /// because it needs the encoding.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.name.trim().is_empty() {
            return Err(ValidationError::EmptyName);
        }
        let chars = self.name.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(ValidationError::NameTooLong { chars });
        }
        match &self.payload {
            Payload::Login { urls, .. } => {
                if let Some(bad) = urls.iter().find(|url| !is_url_or_host(url)) {
                    return Err(ValidationError::Url {
                        url: bad.chars().take(200).collect(),
                    });
                }
            }
            Payload::Card {
                number,
                expiry,
                cvv,
                ..
            } => {
                validate_card_number(number)?;
                expiry.validate()?;
                validate_cvv(cvv)?;
            }
            Payload::Text { .. } | Payload::Binary { .. } => {}
        }
        Ok(())
    }
}

/// A full URL ("https://example.com/login", "androidapp://com.example"), or a
/// bare host with optional port and path ("example.com", "10.0.0.1:8443/ui"),
/// which is how people usually type them.
fn is_url_or_host(input: &str) -> bool {
    if input.is_empty() || input.chars().any(char::is_whitespace) {
        return false;
    }
    if input.contains("://") {
        return Url::parse(input).is_ok_and(|url| url.has_host());
    }
    if Url::parse(input).is_ok() {
        // Scheme-only forms such as "mailto:a@b.example".
        return true;
    }
    Url::parse(&format!("https://{input}"))
        .is_ok_and(|url| url.host_str().is_some_and(|host| !host.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::super::{CardExpiry, CustomField};
    use super::*;

    fn login(urls: &[&str]) -> Item {
        Item::new(
            "Mail",
            Payload::Login {
                username: "me".into(),
                password: "pw".into(),
                urls: urls.iter().map(|u| (*u).to_owned()).collect(),
                totp: None,
            },
        )
    }

    fn card(number: &str, month: u8, year: u16, cvv: &str) -> Item {
        Item::new(
            "Visa",
            Payload::Card {
                holder: "A. Person".into(),
                number: number.into(),
                expiry: CardExpiry { month, year },
                cvv: cvv.into(),
            },
        )
    }

    #[test]
    fn names() {
        let mut item = login(&[]);
        item.validate().unwrap();
        item.name = "  ".into();
        assert_eq!(item.validate(), Err(ValidationError::EmptyName));
        item.name = "é".repeat(256);
        item.validate().unwrap();
        item.name.push('x');
        assert_eq!(
            item.validate(),
            Err(ValidationError::NameTooLong { chars: 257 })
        );
    }

    #[test]
    fn urls_and_hosts() {
        for good in [
            "https://example.com/login?next=1",
            "http://localhost:8080",
            "example.com",
            "sub.example.co.uk/path",
            "10.0.0.1:8443",
            "[::1]:3000",
            "androidapp://com.example.app",
            "mailto:me@example.com",
        ] {
            login(&[good])
                .validate()
                .unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "",
            "not a url",
            "http://",
            "https://exa mple.com",
            "https://[::1",
            "\t",
        ] {
            assert!(
                matches!(
                    login(&["ok.example", bad]).validate(),
                    Err(ValidationError::Url { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn card_rules() {
        card("4111 1111 1111 1111", 8, 27, "123")
            .validate()
            .unwrap();
        card("4111-1111-1111-1111", 12, 2031, "1234")
            .validate()
            .unwrap();
        // Expired cards are kept; is_expired flags them instead.
        card("4111111111111111", 1, 2001, "123").validate().unwrap();
        let cases = [
            (
                card("4111 1111 1111 1112", 8, 27, "123"),
                ValidationError::CardNumberChecksum,
            ),
            (
                card("4111/1111", 8, 27, "123"),
                ValidationError::CardNumberNotDigits,
            ),
            (
                card("4111", 8, 27, "123"),
                ValidationError::CardNumberLength { digits: 4 },
            ),
            (
                card("4111111111111111", 13, 27, "123"),
                ValidationError::ExpiryMonth { month: 13 },
            ),
            (
                card("4111111111111111", 0, 27, "123"),
                ValidationError::ExpiryMonth { month: 0 },
            ),
            (
                card("4111111111111111", 8, 327, "123"),
                ValidationError::ExpiryYear { year: 327 },
            ),
            (card("4111111111111111", 8, 27, "12"), ValidationError::Cvv),
            (
                card("4111111111111111", 8, 27, "12345"),
                ValidationError::Cvv,
            ),
            (card("4111111111111111", 8, 27, "abc"), ValidationError::Cvv),
        ];
        for (item, expected) in cases {
            assert_eq!(item.validate(), Err(expected));
        }
    }

    #[test]
    fn messages_are_readable_and_never_echo_card_secrets() {
        let err = card("4111 1111 1111 1112", 8, 27, "999")
            .validate()
            .unwrap_err();
        assert!(!err.to_string().contains("4111"));
        let err = card("4111111111111111", 8, 27, "99")
            .validate()
            .unwrap_err();
        assert!(!err.to_string().contains("99"));
        let err = ValidationError::TooLarge {
            sealed_bytes: 530 * 1024 - 100,
            limit_bytes: 512 * 1024,
        };
        assert_eq!(
            err.to_string(),
            "record is 530 KiB after encryption; the limit is 512 KiB"
        );
    }

    #[test]
    fn text_binary_and_fields_have_no_extra_rules() {
        let mut item = Item::new(
            "n",
            Payload::Text {
                text: String::new(),
            },
        );
        item.fields.push(CustomField::hidden("", ""));
        item.validate().unwrap();
        Item::new(
            "f",
            Payload::Binary {
                file_name: String::new(),
                bytes: Vec::new(),
            },
        )
        .validate()
        .unwrap();
    }
}

//! What a record holds once decrypted.
//!
//! Everything in an [`Item`], its name included, lives inside the record's
//! ciphertext; the server sees only the [`ItemKind`]. An item is validated
//! before it is sealed ([`Item::validate`], [`Item::seal`]) and encoded in a
//! versioned, forward-compatible protobuf format (see `wire.rs`).

mod card;
mod codec;
mod debug;
mod encode;
mod kind;
mod merge;
mod seal;
mod validate;
mod wipe;
mod wire;

#[cfg(test)]
mod tests;

pub use card::{CardExpiry, validate_card_number, validate_cvv};
pub use codec::DecodeError;
pub use kind::{ItemKind, UnknownKind};
pub use merge::{MergeConflict, merge};
pub use seal::check_sealed_size;
pub use validate::{MAX_NAME_CHARS, ValidationError};

/// One vault entry.
///
/// Every string is wiped from memory when the item is dropped: names and
/// notes are as private as passwords here (see `wipe.rs`). `Debug` hides
/// secrets (see `debug.rs`).
#[derive(Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    /// Free text the person attaches to the item.
    pub notes: String,
    pub fields: Vec<CustomField>,
    pub payload: Payload,
    /// When a login's password was last set (Unix ms), stamped by the
    /// vault when it saves one; `None` in items saved before the stamp
    /// existed. Only what `audit` reads for "unchanged for a year".
    pub password_changed_ms: Option<i64>,
    /// Fields written by a newer client, kept so that saving from this
    /// client does not drop them.
    extensions: Extensions,
}

/// A user-defined key/value pair, such as a PIN or a security question.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomField {
    pub key: String,
    pub value: String,
    /// Shown masked in the UI and redacted in `Debug`.
    pub hidden: bool,
    unknown: Vec<u8>,
}

/// The kind-specific part of an item.
#[derive(Clone, PartialEq, Eq)]
pub enum Payload {
    Login {
        username: String,
        password: String,
        /// Sites the login is for: full URLs or bare host names.
        urls: Vec<String>,
        /// TOTP secret (base32 or an `otpauth://` URI).
        totp: Option<String>,
    },
    Text {
        text: String,
    },
    Binary {
        file_name: String,
        bytes: Vec<u8>,
    },
    Card {
        holder: String,
        /// As typed; spaces and dashes are allowed.
        number: String,
        expiry: CardExpiry,
        cvv: String,
    },
}

/// Raw unknown fields of the item message and of its payload message.
#[derive(Clone, Default, PartialEq, Eq)]
struct Extensions {
    item: Vec<u8>,
    /// `ItemKind` number the payload bytes belong to (0 = none). Payload
    /// extensions are only written back under the same kind, so a Login
    /// field can never end up inside a Card.
    payload_kind: u8,
    payload: Vec<u8>,
}

/// Anything that can stop an item from being sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// The item's payload disagrees with the kind the record is labelled
    /// with. Always a client bug: the label is authenticated.
    #[error("the item is a {item} but the record is labelled {record}")]
    KindMismatch { item: ItemKind, record: ItemKind },
    /// The record is a vault summary, not an item.
    #[error("the record is a vault summary, not an item")]
    NotAnItem,
    /// The record is a sealed deletion, not an item.
    #[error("the record is a deletion, not an item")]
    Tombstone,
}

impl Item {
    pub fn new(name: impl Into<String>, payload: Payload) -> Self {
        Self {
            name: name.into(),
            notes: String::new(),
            fields: Vec::new(),
            payload,
            password_changed_ms: None,
            extensions: Extensions::default(),
        }
    }

    pub fn kind(&self) -> ItemKind {
        self.payload.kind()
    }
}

impl Payload {
    pub fn kind(&self) -> ItemKind {
        match self {
            Self::Login { .. } => ItemKind::Login,
            Self::Text { .. } => ItemKind::Text,
            Self::Binary { .. } => ItemKind::Binary,
            Self::Card { .. } => ItemKind::Card,
        }
    }
}

impl CustomField {
    /// A field shown in the clear.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            hidden: false,
            unknown: Vec::new(),
        }
    }

    /// A field shown masked, for secrets.
    pub fn hidden(key: impl Into<String>, value: impl Into<String>) -> Self {
        let mut field = Self::new(key, value);
        field.hidden = true;
        field
    }
}

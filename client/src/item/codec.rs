//! Item ⇄ bytes. The decoder takes bytes that passed authentication but may
//! come from any client version (or a buggy one), so it checks structure,
//! never panics, and reports what is wrong.

use std::mem::take;

use prost::Message;
use zeroize::Zeroizing;

use super::wire::{ITEM_FORMAT_V1, Preserving, WireItem, WirePayload};
use super::{CardExpiry, CustomField, Extensions, Item, Payload, encode};

/// Why bytes are not an item this client can read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the item data is corrupt: {0}")]
    Malformed(#[source] prost::DecodeError),
    #[error("the item data has no format version")]
    MissingVersion,
    #[error(
        "the item uses format version {found}; this client reads version 1, so it needs an update"
    )]
    UnsupportedVersion { found: u32 },
    #[error("the item has no content of a kind this client knows; it may need an update")]
    MissingPayload,
    #[error("the card expiry {month}/{year} is out of range")]
    ExpiryOutOfRange { month: u32, year: u32 },
}

impl Item {
    /// The binary form that goes inside a record's ciphertext. Wiped on drop.
    ///
    /// [`Item::seal`] does not go through this: it encodes straight into
    /// the buffer it encrypts.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(encode::encoded_len(self)));
        encode::encode(self, &mut *out);
        out
    }

    /// Reads [`Item::encode`]'s output, from this or any other client
    /// version that shares format version 1. Content rules
    /// ([`Item::validate`]) are not applied, so items saved under older
    /// rules still open.
    pub fn decode(bytes: &[u8]) -> Result<Item, DecodeError> {
        let wire = Preserving::<WireItem>::decode(bytes).map_err(DecodeError::Malformed)?;
        from_wire(wire)
    }
}

// The wire types wipe themselves on drop, so fields are taken out of them
// (leaving empty values behind) rather than moved.
fn from_wire(mut wire: Preserving<WireItem>) -> Result<Item, DecodeError> {
    let known = &mut wire.known;
    match known.format_version {
        ITEM_FORMAT_V1 => {}
        0 => return Err(DecodeError::MissingVersion),
        found => return Err(DecodeError::UnsupportedVersion { found }),
    }
    let mut payload_wire = known.payload.take().ok_or(DecodeError::MissingPayload)?;
    let (payload, payload_unknown) = match &mut payload_wire {
        WirePayload::Login(login) => (
            Payload::Login {
                username: take(&mut login.known.username),
                password: take(&mut login.known.password),
                urls: take(&mut login.known.urls),
                totp: login.known.totp.take(),
            },
            take(&mut login.unknown),
        ),
        WirePayload::Text(text) => (
            Payload::Text {
                text: take(&mut text.known.text),
            },
            take(&mut text.unknown),
        ),
        WirePayload::Binary(binary) => (
            Payload::Binary {
                file_name: take(&mut binary.known.file_name),
                bytes: take(&mut binary.known.bytes),
            },
            take(&mut binary.unknown),
        ),
        WirePayload::Card(card) => {
            let (month, year) = (card.known.expiry_month, card.known.expiry_year);
            let out_of_range = || DecodeError::ExpiryOutOfRange { month, year };
            let expiry = CardExpiry {
                month: u8::try_from(month).map_err(|_| out_of_range())?,
                year: u16::try_from(year).map_err(|_| out_of_range())?,
            };
            (
                Payload::Card {
                    holder: take(&mut card.known.holder),
                    number: take(&mut card.known.number),
                    expiry,
                    cvv: take(&mut card.known.cvv),
                },
                take(&mut card.unknown),
            )
        }
    };
    // Zero when there is nothing to carry, so that a decoded item equals a
    // freshly built one.
    let payload_kind = if payload_unknown.is_empty() {
        0
    } else {
        payload.kind().as_u8()
    };
    let fields = known
        .fields
        .iter_mut()
        .map(|field| CustomField {
            key: take(&mut field.known.key),
            value: take(&mut field.known.value),
            hidden: field.known.hidden,
            unknown: take(&mut field.unknown),
        })
        .collect();
    Ok(Item {
        name: take(&mut known.name),
        notes: take(&mut known.notes),
        fields,
        payload,
        password_changed_ms: known.password_changed_ms,
        extensions: Extensions {
            item: take(&mut wire.unknown),
            payload_kind,
            payload: payload_unknown,
        },
    })
}

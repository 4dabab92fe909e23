//! Item → bytes, written straight from the item's own fields.
//!
//! The derived wire structs (`wire.rs`) own their data, so encoding through
//! them meant cloning every field of the item first, a 512 KiB file
//! included, and then wiping that clone again. This writes the very same
//! bytes (`encoding_matches_the_derived_wire_types` checks it) from
//! borrowed fields, and into a slice the caller sized with
//! [`encoded_len`], which is how [`Item::seal`] encodes directly into the
//! buffer it encrypts in place.
//!
//! Field order and presence follow what prost's derived code writes:
//! fields in tag order, proto3 scalars and strings only when not empty,
//! repeated, optional and oneof members always, unknown fields last.

use prost::bytes::BufMut;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};

use super::wire::ITEM_FORMAT_V1;
use super::{CustomField, Item, ItemKind, Payload};

/// Length of `item`'s encoding.
pub(super) fn encoded_len(item: &Item) -> usize {
    item.body_len()
}

/// Writes `item`'s encoding: exactly [`encoded_len`] bytes.
pub(super) fn encode(item: &Item, buf: &mut impl BufMut) {
    item.put_body(buf);
}

/// A message: the length of its fields and how to write them.
trait Body {
    fn body_len(&self) -> usize;
    fn put_body(&self, buf: &mut impl BufMut);
}

impl Body for Item {
    fn body_len(&self) -> usize {
        uint32_len(1, ITEM_FORMAT_V1)
            + string_len(2, &self.name)
            + string_len(3, &self.notes)
            + self.fields.iter().map(|f| message_len(4, f)).sum::<usize>()
            + self
                .password_changed_ms
                .map_or(0, |ms| prost::encoding::int64::encoded_len(5, &ms))
            + message_len(payload_tag(self.kind()), &self.payload_body())
            + self.extensions.item.len()
    }

    fn put_body(&self, buf: &mut impl BufMut) {
        put_uint32(1, ITEM_FORMAT_V1, buf);
        put_string(2, &self.name, buf);
        put_string(3, &self.notes, buf);
        for field in &self.fields {
            put_message(4, field, buf);
        }
        if let Some(ms) = self.password_changed_ms {
            prost::encoding::int64::encode(5, &ms, buf);
        }
        put_message(payload_tag(self.kind()), &self.payload_body(), buf);
        buf.put_slice(&self.extensions.item);
    }
}

impl Item {
    /// The payload with the unknown fields that belong to it: only those
    /// read under the same kind, so a Login field never lands in a Card.
    fn payload_body(&self) -> PayloadBody<'_> {
        let ext = &self.extensions;
        let unknown = if ext.payload_kind == self.kind().as_u8() {
            ext.payload.as_slice()
        } else {
            &[]
        };
        PayloadBody {
            payload: &self.payload,
            unknown,
        }
    }
}

/// Field number of a kind's member of the `payload` oneof.
fn payload_tag(kind: ItemKind) -> u32 {
    match kind {
        ItemKind::Login => 10,
        ItemKind::Text => 11,
        ItemKind::Binary => 12,
        ItemKind::Card => 13,
    }
}

impl Body for CustomField {
    fn body_len(&self) -> usize {
        string_len(1, &self.key)
            + string_len(2, &self.value)
            + bool_len(3, self.hidden)
            + self.unknown.len()
    }

    fn put_body(&self, buf: &mut impl BufMut) {
        put_string(1, &self.key, buf);
        put_string(2, &self.value, buf);
        put_bool(3, self.hidden, buf);
        buf.put_slice(&self.unknown);
    }
}

struct PayloadBody<'a> {
    payload: &'a Payload,
    unknown: &'a [u8],
}

impl Body for PayloadBody<'_> {
    fn body_len(&self) -> usize {
        let known = match self.payload {
            Payload::Login {
                username,
                password,
                urls,
                totp,
            } => {
                string_len(1, username)
                    + string_len(2, password)
                    + urls
                        .iter()
                        .map(|u| bytes_len(3, u.as_bytes()))
                        .sum::<usize>()
                    + totp.as_ref().map_or(0, |t| bytes_len(4, t.as_bytes()))
            }
            Payload::Text { text } => string_len(1, text),
            Payload::Binary { file_name, bytes } => {
                string_len(1, file_name) + non_empty_bytes_len(2, bytes)
            }
            Payload::Card {
                holder,
                number,
                expiry,
                cvv,
            } => {
                string_len(1, holder)
                    + string_len(2, number)
                    + uint32_len(3, expiry.month.into())
                    + uint32_len(4, expiry.year.into())
                    + string_len(5, cvv)
            }
        };
        known + self.unknown.len()
    }

    fn put_body(&self, buf: &mut impl BufMut) {
        match self.payload {
            Payload::Login {
                username,
                password,
                urls,
                totp,
            } => {
                put_string(1, username, buf);
                put_string(2, password, buf);
                for url in urls {
                    put_bytes(3, url.as_bytes(), buf);
                }
                if let Some(totp) = totp {
                    put_bytes(4, totp.as_bytes(), buf);
                }
            }
            Payload::Text { text } => put_string(1, text, buf),
            Payload::Binary { file_name, bytes } => {
                put_string(1, file_name, buf);
                put_non_empty_bytes(2, bytes, buf);
            }
            Payload::Card {
                holder,
                number,
                expiry,
                cvv,
            } => {
                put_string(1, holder, buf);
                put_string(2, number, buf);
                put_uint32(3, expiry.month.into(), buf);
                put_uint32(4, expiry.year.into(), buf);
                put_string(5, cvv, buf);
            }
        }
        buf.put_slice(self.unknown);
    }
}

// Field writers, each with its length function beside it.

fn message_len(tag: u32, body: &impl Body) -> usize {
    let len = body.body_len();
    key_len(tag) + encoded_len_varint(len as u64) + len
}

fn put_message(tag: u32, body: &impl Body, buf: &mut impl BufMut) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(body.body_len() as u64, buf);
    body.put_body(buf);
}

/// A length-delimited field that is always written (a repeated or
/// optional member).
fn bytes_len(tag: u32, bytes: &[u8]) -> usize {
    key_len(tag) + encoded_len_varint(bytes.len() as u64) + bytes.len()
}

fn put_bytes(tag: u32, bytes: &[u8], buf: &mut impl BufMut) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.put_slice(bytes);
}

/// A proto3 `bytes` field: left out when empty.
fn non_empty_bytes_len(tag: u32, bytes: &[u8]) -> usize {
    if bytes.is_empty() {
        0
    } else {
        bytes_len(tag, bytes)
    }
}

fn put_non_empty_bytes(tag: u32, bytes: &[u8], buf: &mut impl BufMut) {
    if !bytes.is_empty() {
        put_bytes(tag, bytes, buf);
    }
}

/// A proto3 `string` field: left out when empty.
fn string_len(tag: u32, text: &str) -> usize {
    non_empty_bytes_len(tag, text.as_bytes())
}

fn put_string(tag: u32, text: &str, buf: &mut impl BufMut) {
    put_non_empty_bytes(tag, text.as_bytes(), buf);
}

/// A proto3 `uint32` field: left out when zero.
fn uint32_len(tag: u32, value: u32) -> usize {
    if value == 0 {
        0
    } else {
        key_len(tag) + encoded_len_varint(value.into())
    }
}

fn put_uint32(tag: u32, value: u32, buf: &mut impl BufMut) {
    if value != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(value.into(), buf);
    }
}

/// A proto3 `bool` field: left out when false.
fn bool_len(tag: u32, value: bool) -> usize {
    if value { key_len(tag) + 1 } else { 0 }
}

fn put_bool(tag: u32, value: bool, buf: &mut impl BufMut) {
    if value {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(1, buf);
    }
}

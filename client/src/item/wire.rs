//! The protobuf messages an item is encoded as, inside the ciphertext.
//!
//! ```proto
//! message Item {
//!   uint32 format_version = 1;   // ITEM_FORMAT_V1
//!   string name = 2;
//!   string notes = 3;
//!   repeated CustomField fields = 4;
//!   optional int64 password_changed_ms = 5;  // a login's password, Unix ms
//!   oneof payload { Login login = 10; Text text = 11; Binary binary = 12; Card card = 13; }
//! }
//! message CustomField { string key = 1; string value = 2; bool hidden = 3; }
//! message Login  { string username = 1; string password = 2; repeated string urls = 3; optional string totp = 4; }
//! message Text   { string text = 1; }
//! message Binary { string file_name = 1; bytes bytes = 2; }
//! message Card   { string holder = 1; string number = 2; uint32 expiry_month = 3;
//!                  uint32 expiry_year = 4; string cvv = 5; }
//! ```
//!
//! Protobuf because it is compact (file bytes are stored raw, not base64) and
//! because adding a field never breaks an older reader. The structs are
//! derived by hand, so there is no build script. Every message is wrapped in
//! [`Preserving`], which keeps fields this client does not know: an older
//! client that edits an item written by a newer one must not silently strip
//! the newer fields.

use prost::bytes::{Buf, BufMut};
use prost::encoding::{
    DecodeContext, WireType, bytes, check_wire_type, decode_varint, fixed32, fixed64, skip_field,
    string, uint64,
};
use prost::{DecodeError, Message};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::wipe_bytes;

/// Bumped only for a change old clients must not misread; adding a field is
/// not such a change.
pub(super) const ITEM_FORMAT_V1: u32 = 1;

/// The field numbers a message's derived code handles; every other field is
/// kept verbatim by [`Preserving`].
pub(super) trait KnownTags {
    const TAGS: &'static [u32];
}

/// A message plus the raw encoding of the fields this client does not know.
#[derive(Clone, PartialEq, Default)]
pub(super) struct Preserving<M> {
    pub(super) known: M,
    pub(super) unknown: Vec<u8>,
}

impl<M> Drop for Preserving<M> {
    fn drop(&mut self) {
        // Unknown fields may well hold secrets.
        self.unknown.zeroize();
    }
}

impl<M: Zeroize> Zeroize for Preserving<M> {
    fn zeroize(&mut self) {
        self.known.zeroize();
        self.unknown.zeroize();
    }
}

impl<M: Message + KnownTags> Message for Preserving<M> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        self.known.encode_raw(buf);
        // Field order does not matter in protobuf; unknown fields go last.
        buf.put_slice(&self.unknown);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if M::TAGS.contains(&tag) {
            return self.known.merge_field(tag, wire_type, buf, ctx);
        }
        // Read with prost's own field readers (which bound every length by
        // the input), then write back in the same wire type.
        let out = &mut self.unknown;
        match wire_type {
            WireType::Varint => {
                let mut value = 0;
                uint64::merge(wire_type, &mut value, buf, ctx)?;
                uint64::encode(tag, &value, out);
            }
            WireType::ThirtyTwoBit => {
                let mut value = 0;
                fixed32::merge(wire_type, &mut value, buf, ctx)?;
                fixed32::encode(tag, &value, out);
            }
            WireType::SixtyFourBit => {
                let mut value = 0;
                fixed64::merge(wire_type, &mut value, buf, ctx)?;
                fixed64::encode(tag, &value, out);
            }
            WireType::LengthDelimited => {
                let mut value = Vec::new();
                merge_secret_bytes(wire_type, &mut value, buf, ctx)?;
                bytes::encode(tag, &value, out);
                value.zeroize();
            }
            // Groups are proto2-only and no GophKeeper client writes them;
            // skipping (as prost does) is safe. A stray end-group is an error.
            WireType::StartGroup | WireType::EndGroup => skip_field(wire_type, tag, buf, ctx)?,
        }
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.known.encoded_len() + self.unknown.len()
    }

    fn clear(&mut self) {
        self.known.clear();
        self.unknown.zeroize();
    }
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
pub(super) struct WireItem {
    #[prost(uint32, tag = "1")]
    pub format_version: u32,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub notes: String,
    #[prost(message, repeated, tag = "4")]
    pub fields: Vec<Preserving<WireField>>,
    #[prost(int64, optional, tag = "5")]
    pub password_changed_ms: Option<i64>,
    #[prost(oneof = "WirePayload", tags = "10, 11, 12, 13")]
    pub payload: Option<WirePayload>,
}

impl KnownTags for WireItem {
    const TAGS: &'static [u32] = &[1, 2, 3, 4, 5, 10, 11, 12, 13];
}

#[derive(Clone, PartialEq, prost::Oneof, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
pub(super) enum WirePayload {
    #[prost(message, tag = "10")]
    Login(Preserving<WireLogin>),
    #[prost(message, tag = "11")]
    Text(Preserving<WireText>),
    #[prost(message, tag = "12")]
    Binary(Preserving<WireBinary>),
    #[prost(message, tag = "13")]
    Card(Preserving<WireCard>),
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
pub(super) struct WireField {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
    #[prost(bool, tag = "3")]
    pub hidden: bool,
}

impl KnownTags for WireField {
    const TAGS: &'static [u32] = &[1, 2, 3];
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
pub(super) struct WireLogin {
    #[prost(string, tag = "1")]
    pub username: String,
    #[prost(string, tag = "2")]
    pub password: String,
    #[prost(string, repeated, tag = "3")]
    pub urls: Vec<String>,
    #[prost(string, optional, tag = "4")]
    pub totp: Option<String>,
}

impl KnownTags for WireLogin {
    const TAGS: &'static [u32] = &[1, 2, 3, 4];
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
pub(super) struct WireText {
    #[prost(string, tag = "1")]
    pub text: String,
}

impl KnownTags for WireText {
    const TAGS: &'static [u32] = &[1];
}

/// `Message` is written out by hand (what the derive would write, for
/// `string file_name = 1; bytes bytes = 2;`) only so that the file bytes
/// are read with [`merge_secret_bytes`].
#[derive(Clone, PartialEq, Default, Zeroize, ZeroizeOnDrop)]
pub(super) struct WireBinary {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl Message for WireBinary {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if !self.file_name.is_empty() {
            string::encode(1, &self.file_name, buf);
        }
        if !self.bytes.is_empty() {
            bytes::encode(2, &self.bytes, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => string::merge(wire_type, &mut self.file_name, buf, ctx),
            2 => merge_secret_bytes(wire_type, &mut self.bytes, buf, ctx),
            _ => skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let file_name = if self.file_name.is_empty() {
            0
        } else {
            string::encoded_len(1, &self.file_name)
        };
        let bytes = if self.bytes.is_empty() {
            0
        } else {
            bytes::encoded_len(2, &self.bytes)
        };
        file_name + bytes
    }

    fn clear(&mut self) {
        self.zeroize();
    }
}

impl KnownTags for WireBinary {
    const TAGS: &'static [u32] = &[1, 2];
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
pub(super) struct WireCard {
    #[prost(string, tag = "1")]
    pub holder: String,
    #[prost(string, tag = "2")]
    pub number: String,
    #[prost(uint32, tag = "3")]
    pub expiry_month: u32,
    #[prost(uint32, tag = "4")]
    pub expiry_year: u32,
    #[prost(string, tag = "5")]
    pub cvv: String,
}

impl KnownTags for WireCard {
    const TAGS: &'static [u32] = &[1, 2, 3, 4, 5];
}

/// Reads a length-delimited field into `value`, copying it once.
///
/// prost's `bytes::merge` reads a `Vec<u8>` by way of an intermediate
/// `Bytes` buffer, which it then frees without wiping: an extra copy of a
/// file of up to 512 KiB, left behind in freed memory. This copies straight
/// from the input into `value`, wiping what `value` held before (protobuf's
/// "last one wins" for a repeated field).
fn merge_secret_bytes(
    wire_type: WireType,
    value: &mut Vec<u8>,
    buf: &mut impl Buf,
    _ctx: DecodeContext,
) -> Result<(), DecodeError> {
    check_wire_type(WireType::LengthDelimited, wire_type)?;
    let len = decode_varint(buf)?;
    let Some(len) = usize::try_from(len)
        .ok()
        .filter(|len| *len <= buf.remaining())
    else {
        return Err(buffer_underflow());
    };
    wipe_bytes(value);
    value.reserve_exact(len);
    value.put(buf.take(len));
    Ok(())
}

#[expect(
    deprecated,
    reason = "prost 0.14 has no other way for a `Message` impl to report a short input"
)]
fn buffer_underflow() -> DecodeError {
    DecodeError::new("buffer underflow")
}

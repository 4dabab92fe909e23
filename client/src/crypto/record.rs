//! Sealing records under the vault key, bound to where they belong and,
//! from format 2 on, to which version of the record they are
//! (`docs/design.md`, "Record format v2").

use uuid::Uuid;

use super::keys::VaultKey;
use super::{CryptoError, Plaintext, aead};
use crate::item::ItemKind;

/// The first record format: `1 ‖ nonce ‖ ciphertext ‖ tag`, no version.
/// Read forever, written no more.
pub const RECORD_FORMAT_V1: u8 = 1;
/// The format this client writes: a clear, authenticated header naming
/// the key epoch, the record's version, its base and the writing device.
pub const RECORD_FORMAT_V2: u8 = 2;

/// Bytes of the format 2 header in front of the nonce.
pub const HEADER_V2_LEN: usize = 38;
/// The writing device's clock, first in every format 2 plaintext.
pub const WRITTEN_AT_LEN: usize = 8;
/// Bytes that sealing in format 2 adds around the plaintext (header, nonce
/// and tag); the plaintext itself starts with [`WRITTEN_AT_LEN`] bytes of
/// time.
pub const SEAL_OVERHEAD: usize = HEADER_V2_LEN + aead::NONCE_LEN + aead::TAG_LEN;

const FLAG_TOMBSTONE: u8 = 1;

/// Prefixes of the associated data, so a record's can never equal that of
/// any other kind of ciphertext in the system, nor one format's the other's.
const AAD_DOMAIN_V1: &[u8; 20] = b"gophkeeper/v1/record";
const AAD_DOMAIN_V2: &[u8; 20] = b"gophkeeper/v2/record";
const AAD_V1_LEN: usize = AAD_DOMAIN_V1.len() + 1 + 16 + 16 + 1;
const AAD_V2_LEN: usize = AAD_V1_LEN + 4 + 8 + 8 + 16 + 1;

/// The public facts a record's ciphertext is bound to, supplied by the
/// reader (never taken from the server's answer).
///
/// The server sees and stores all of these in the clear. Binding them as
/// associated data means it cannot move a ciphertext to another record or
/// user, or relabel its kind, without decryption failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordAad {
    pub user_id: Uuid,
    pub record_id: Uuid,
    /// The record kind's wire number: an item kind, or
    /// [`VAULT_SUMMARY_KIND`].
    kind: u8,
}

/// The wire number of a vault summary record (`RecordKind::VaultSummary`).
pub const VAULT_SUMMARY_KIND: u8 = 5;

impl RecordAad {
    pub fn new(user_id: Uuid, record_id: Uuid, kind: ItemKind) -> Self {
        Self {
            user_id,
            record_id,
            kind: kind.as_u8(),
        }
    }

    /// One bucket of a device's vault summary (`docs/design.md`).
    pub fn vault_summary(user_id: Uuid, record_id: Uuid) -> Self {
        Self {
            user_id,
            record_id,
            kind: VAULT_SUMMARY_KIND,
        }
    }

    /// The item kind; `None` for a vault summary.
    pub fn item_kind(&self) -> Option<ItemKind> {
        ItemKind::try_from(i32::from(self.kind)).ok()
    }

    /// Canonical encoding: fixed-length fields in a fixed order after a
    /// domain prefix, so two different values can never encode alike.
    fn encode_v1(&self) -> [u8; AAD_V1_LEN] {
        let mut out = [0; AAD_V1_LEN];
        out[..20].copy_from_slice(AAD_DOMAIN_V1);
        out[20] = RECORD_FORMAT_V1;
        out[21..37].copy_from_slice(self.user_id.as_bytes());
        out[37..53].copy_from_slice(self.record_id.as_bytes());
        out[53] = self.kind;
        out
    }

    /// Format 2: the same fields under the v2 domain, then the whole header
    /// but its first byte (already in).
    fn encode_v2(&self, header: &[u8; HEADER_V2_LEN]) -> [u8; AAD_V2_LEN] {
        let mut out = [0; AAD_V2_LEN];
        out[..AAD_V1_LEN].copy_from_slice(&self.encode_v1());
        out[..20].copy_from_slice(AAD_DOMAIN_V2);
        out[20] = RECORD_FORMAT_V2;
        out[AAD_V1_LEN..].copy_from_slice(&header[1..]);
        out
    }
}

/// What a format 2 header says: which key sealed the record, which version
/// of it this is and which it replaced, who wrote it, and whether it is a
/// deletion. Authenticated as a whole once the record opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    pub key_epoch: u32,
    /// The per-record counter, at least 1.
    pub version: u64,
    /// The version this write replaced; 0 for a create. Below `version`.
    pub base: u64,
    /// The writing device's id.
    pub writer: Uuid,
    pub tombstone: bool,
}

impl RecordHeader {
    fn encode(&self) -> [u8; HEADER_V2_LEN] {
        let mut out = [0; HEADER_V2_LEN];
        out[0] = RECORD_FORMAT_V2;
        out[1..5].copy_from_slice(&self.key_epoch.to_be_bytes());
        out[5..13].copy_from_slice(&self.version.to_be_bytes());
        out[13..21].copy_from_slice(&self.base.to_be_bytes());
        out[21..37].copy_from_slice(self.writer.as_bytes());
        out[37] = if self.tombstone { FLAG_TOMBSTONE } else { 0 };
        out
    }

    /// Reads the clear header of a sealed record without opening it:
    /// `Ok(None)` for format 1, an error for an unknown format or a header
    /// no writer makes. Unauthenticated until the record opens.
    pub fn peek(sealed: &[u8]) -> Result<Option<Self>, CryptoError> {
        match sealed.first() {
            Some(&RECORD_FORMAT_V1) => Ok(None),
            Some(&RECORD_FORMAT_V2) if sealed.len() >= HEADER_V2_LEN => {
                let u32_at = |i: usize| {
                    u32::from_be_bytes([sealed[i], sealed[i + 1], sealed[i + 2], sealed[i + 3]])
                };
                let u64_at = |i: usize| (u64::from(u32_at(i)) << 32) | u64::from(u32_at(i + 4));
                let mut writer = [0; 16];
                writer.copy_from_slice(&sealed[21..37]);
                let flags = sealed[37];
                let header = Self {
                    key_epoch: u32_at(1),
                    version: u64_at(5),
                    base: u64_at(13),
                    writer: Uuid::from_bytes(writer),
                    tombstone: flags & FLAG_TOMBSTONE != 0,
                };
                if flags & !FLAG_TOMBSTONE != 0
                    || header.version == 0
                    || header.base >= header.version
                {
                    return Err(CryptoError::DecryptionFailed);
                }
                Ok(Some(header))
            }
            _ => Err(CryptoError::DecryptionFailed),
        }
    }
}

#[cfg(feature = "internals")]
impl RecordHeader {
    /// The header of a second version of a record, for the benches and
    /// fuzz targets that seal records without a vault around them.
    pub const SAMPLE: RecordHeader = RecordHeader {
        key_epoch: 1,
        version: 2,
        base: 1,
        writer: Uuid::nil(),
        tombstone: false,
    };
}

/// A record that opened: what its header says (`None` for format 1), when
/// the writing device sealed it, and its body (empty for a tombstone).
#[derive(Debug)]
pub struct OpenedRecord {
    pub header: Option<RecordHeader>,
    pub written_at_ms: Option<i64>,
    pub body: Plaintext,
}

impl OpenedRecord {
    /// The record version; format 1 counts as version 0.
    pub fn version(&self) -> u64 {
        self.header.map_or(0, |h| h.version)
    }

    pub fn is_tombstone(&self) -> bool {
        self.header.is_some_and(|h| h.tombstone)
    }
}

/// Size of a format 2 record whose body is `body_len` bytes, so callers
/// can check the server's size limit before encrypting or sending.
pub const fn sealed_len(body_len: usize) -> usize {
    body_len
        .saturating_add(WRITTEN_AT_LEN)
        .saturating_add(SEAL_OVERHEAD)
}

impl VaultKey {
    /// Encrypts one record in format 2:
    /// `header ‖ nonce ‖ (written_at_ms ‖ body) ‖ tag`, [`sealed_len`]
    /// bytes.
    pub fn seal_record(
        &self,
        aad: &RecordAad,
        header: &RecordHeader,
        written_at_ms: i64,
        body: &[u8],
    ) -> Vec<u8> {
        self.seal_record_with(aad, header, written_at_ms, body.len(), |out| {
            out.copy_from_slice(body);
        })
    }

    /// A tombstone: a sealed deletion time, so that only a key holder can
    /// delete a record.
    pub fn seal_tombstone(
        &self,
        aad: &RecordAad,
        header: &RecordHeader,
        written_at_ms: i64,
    ) -> Vec<u8> {
        let header = RecordHeader {
            tombstone: true,
            ..*header
        };
        self.seal_record(aad, &header, written_at_ms, &[])
    }

    /// [`VaultKey::seal_record`] for a body of `body_len` bytes that
    /// `write` puts straight into the record buffer, which is then
    /// encrypted in place: the plaintext is never copied, so there is no
    /// copy to wipe. For the item encoder.
    pub(crate) fn seal_record_with(
        &self,
        aad: &RecordAad,
        header: &RecordHeader,
        written_at_ms: i64,
        body_len: usize,
        write: impl FnOnce(&mut [u8]),
    ) -> Vec<u8> {
        let header = header.encode();
        aead::seal_after_header(
            &self.0,
            &header,
            &aad.encode_v2(&header),
            WRITTEN_AT_LEN + body_len,
            |plaintext| {
                let (time, body) = plaintext.split_at_mut(WRITTEN_AT_LEN);
                time.copy_from_slice(&written_at_ms.to_be_bytes());
                write(body);
            },
        )
    }

    /// A format 1 record, as clients before format 2 wrote them: for tests
    /// and benches of the reading path only.
    #[cfg(any(test, feature = "internals"))]
    pub fn seal_record_v1(&self, aad: &RecordAad, plaintext: &[u8]) -> Vec<u8> {
        aead::seal(&self.0, RECORD_FORMAT_V1, &aad.encode_v1(), plaintext)
    }

    /// Decrypts one record of either format. Every failure (wrong key, any
    /// altered byte or header field, a ciphertext from another record, user
    /// or kind, an unknown format) is the same
    /// [`CryptoError::DecryptionFailed`].
    pub fn open_record(&self, aad: &RecordAad, sealed: &[u8]) -> Result<OpenedRecord, CryptoError> {
        let Some(header) = RecordHeader::peek(sealed)? else {
            let body = aead::open(&self.0, RECORD_FORMAT_V1, &aad.encode_v1(), sealed)?;
            return Ok(OpenedRecord {
                header: None,
                written_at_ms: None,
                body,
            });
        };
        let clear = header.encode();
        let mut body =
            aead::open_after_header(&self.0, HEADER_V2_LEN, &aad.encode_v2(&clear), sealed)?;
        let Some(time) = body.first_chunk::<WRITTEN_AT_LEN>() else {
            return Err(CryptoError::DecryptionFailed);
        };
        let written_at_ms = i64::from_be_bytes(*time);
        body.drop_front(WRITTEN_AT_LEN);
        if header.tombstone && !body.is_empty() {
            return Err(CryptoError::DecryptionFailed);
        }
        Ok(OpenedRecord {
            header: Some(header),
            written_at_ms: Some(written_at_ms),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KINDS: [ItemKind; 4] = [
        ItemKind::Login,
        ItemKind::Text,
        ItemKind::Binary,
        ItemKind::Card,
    ];

    fn uuid() -> impl Strategy<Value = Uuid> {
        any::<u128>().prop_map(Uuid::from_u128)
    }

    fn aad() -> impl Strategy<Value = RecordAad> {
        (uuid(), uuid(), proptest::sample::select(KINDS.to_vec()))
            .prop_map(|(user, record, kind)| RecordAad::new(user, record, kind))
    }

    fn header() -> impl Strategy<Value = RecordHeader> {
        (
            any::<u32>(),
            1..u64::MAX,
            uuid(),
            any::<bool>(),
            any::<u64>(),
        )
            .prop_map(
                |(key_epoch, version, writer, tombstone, base)| RecordHeader {
                    key_epoch,
                    version,
                    base: base % version,
                    writer,
                    tombstone,
                },
            )
    }

    fn sample_header() -> RecordHeader {
        RecordHeader {
            key_epoch: 1,
            version: 5,
            base: 4,
            writer: Uuid::from_u128(9),
            tombstone: false,
        }
    }

    fn rejects(key: &VaultKey, aad: &RecordAad, sealed: &[u8]) -> bool {
        matches!(
            key.open_record(aad, sealed),
            Err(CryptoError::DecryptionFailed)
        )
    }

    #[test]
    fn aad_encoding_is_fixed_length_and_field_sensitive() {
        let a = RecordAad::new(Uuid::from_u128(1), Uuid::from_u128(2), ItemKind::Login);
        // Swapping user and record id must change the encoding.
        let swapped = RecordAad::new(Uuid::from_u128(2), Uuid::from_u128(1), ItemKind::Login);
        assert_eq!(a.encode_v1().len(), 54);
        assert_ne!(a.encode_v1(), swapped.encode_v1());
        assert!(a.encode_v1().starts_with(b"gophkeeper/v1/record\x01"));
        let header = sample_header().encode();
        let v2 = a.encode_v2(&header);
        assert_eq!(v2.len(), 91, "docs/design.md gives 91 bytes");
        assert!(v2.starts_with(b"gophkeeper/v2/record\x02"));
        assert_eq!(&v2[54..], &header[1..]);
        assert_ne!(v2, swapped.encode_v2(&header));
    }

    #[test]
    fn sealed_layout_is_the_documented_one() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::from_u128(1), Uuid::from_u128(2), ItemKind::Text);
        let header = sample_header();
        let sealed = key.seal_record(&aad, &header, 1_700_000_000_000, b"hello");
        assert_eq!(sealed.len(), sealed_len(5));
        assert_eq!(sealed.len(), 38 + 24 + 8 + 5 + 16);
        assert_eq!(sealed[0], RECORD_FORMAT_V2);
        assert_eq!(&sealed[1..5], &1u32.to_be_bytes());
        assert_eq!(&sealed[5..13], &5u64.to_be_bytes());
        assert_eq!(&sealed[13..21], &4u64.to_be_bytes());
        assert_eq!(&sealed[21..37], Uuid::from_u128(9).as_bytes());
        assert_eq!(sealed[37], 0);
        assert_eq!(RecordHeader::peek(&sealed).unwrap(), Some(header));
        let opened = key.open_record(&aad, &sealed).unwrap();
        assert_eq!(opened.header, Some(header));
        assert_eq!(opened.written_at_ms, Some(1_700_000_000_000));
        assert_eq!(opened.body.as_slice(), b"hello");
        assert_ne!(
            key.seal_record(&aad, &header, 1_700_000_000_000, b"hello"),
            sealed,
            "nonce must be random"
        );
    }

    #[test]
    fn format_1_records_still_open_as_version_0() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::from_u128(1), Uuid::from_u128(2), ItemKind::Card);
        let sealed = key.seal_record_v1(&aad, b"old");
        assert_eq!(sealed[0], RECORD_FORMAT_V1);
        assert_eq!(RecordHeader::peek(&sealed).unwrap(), None);
        let opened = key.open_record(&aad, &sealed).unwrap();
        assert_eq!(opened.body.as_slice(), b"old");
        assert_eq!(opened.version(), 0);
        assert!(opened.header.is_none() && opened.written_at_ms.is_none());
    }

    #[test]
    fn a_format_1_record_relabelled_as_format_2_does_not_open() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::from_u128(1), Uuid::from_u128(2), ItemKind::Card);
        let mut sealed = key.seal_record_v1(&aad, &[0; 64]);
        sealed[0] = RECORD_FORMAT_V2;
        assert!(rejects(&key, &aad, &sealed));
        sealed[0] = 3;
        assert!(rejects(&key, &aad, &sealed));
    }

    #[test]
    fn every_header_field_is_authenticated() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::from_u128(1), Uuid::from_u128(2), ItemKind::Login);
        let header = RecordHeader {
            version: 7,
            base: 3,
            ..sample_header()
        };
        let sealed = key.seal_record(&aad, &header, 0, b"secret");
        let edits: [(usize, u8); 5] = [(4, 2), (12, 6), (20, 2), (36, 1), (37, 1)];
        for (index, value) in edits {
            let mut edited = sealed.clone();
            edited[index] = value;
            assert_ne!(edited, sealed);
            assert!(rejects(&key, &aad, &edited), "byte {index} changed");
        }
    }

    #[test]
    fn headers_no_writer_makes_are_refused_before_decryption() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::nil(), Uuid::nil(), ItemKind::Text);
        let sealed = key.seal_record(&aad, &sample_header(), 0, b"x");
        let mut unknown_flag = sealed.clone();
        unknown_flag[37] = 2;
        let mut version_zero = sealed.clone();
        version_zero[5..13].copy_from_slice(&0u64.to_be_bytes());
        version_zero[13..21].copy_from_slice(&0u64.to_be_bytes());
        let mut base_not_below = sealed.clone();
        base_not_below[13..21].copy_from_slice(&5u64.to_be_bytes());
        for bad in [unknown_flag, version_zero, base_not_below] {
            assert!(RecordHeader::peek(&bad).is_err());
            assert!(rejects(&key, &aad, &bad));
        }
        assert!(RecordHeader::peek(&sealed[..HEADER_V2_LEN - 1]).is_err());
        assert!(RecordHeader::peek(&[]).is_err());
    }

    #[test]
    fn a_tombstone_is_an_empty_sealed_time() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::from_u128(3), Uuid::from_u128(4), ItemKind::Login);
        let tombstone = key.seal_tombstone(&aad, &sample_header(), 42);
        assert_eq!(tombstone.len(), sealed_len(0));
        let opened = key.open_record(&aad, &tombstone).unwrap();
        assert!(opened.is_tombstone());
        assert_eq!(opened.written_at_ms, Some(42));
        assert!(opened.body.is_empty());
        // A tombstone with content is not one any writer makes.
        let stuffed = RecordHeader {
            tombstone: true,
            ..sample_header()
        };
        let sealed = key.seal_record(&aad, &stuffed, 42, b"x");
        assert!(rejects(&key, &aad, &sealed));
        // Clearing the flag on a tombstone does not make a live record.
        let mut cleared = tombstone.clone();
        cleared[37] = 0;
        assert!(rejects(&key, &aad, &cleared));
    }

    #[test]
    fn truncated_input_is_rejected() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::nil(), Uuid::nil(), ItemKind::Text);
        let sealed = key.seal_record(&aad, &sample_header(), 0, b"");
        assert!(key.open_record(&aad, &sealed).unwrap().body.is_empty());
        for len in 0..sealed.len() {
            assert!(rejects(&key, &aad, &sealed[..len]));
        }
    }

    #[test]
    fn the_error_says_nothing_about_the_cause() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::nil(), Uuid::nil(), ItemKind::Text);
        let sealed = key.seal_record(&aad, &sample_header(), 0, b"secret");
        let mut flipped = sealed.clone();
        flipped[70] ^= 1;
        let wrong_key = VaultKey::generate()
            .open_record(&aad, &sealed)
            .err()
            .unwrap();
        let tampered = key.open_record(&aad, &flipped).err().unwrap();
        let short = key.open_record(&aad, &sealed[..3]).err().unwrap();
        assert_eq!(wrong_key.to_string(), tampered.to_string());
        assert_eq!(wrong_key.to_string(), short.to_string());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip(
            aad in aad(),
            header in header(),
            time in any::<i64>(),
            body in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let key = VaultKey::generate();
            let body = if header.tombstone { Vec::new() } else { body };
            let sealed = key.seal_record(&aad, &header, time, &body);
            prop_assert_eq!(sealed.len(), sealed_len(body.len()));
            let opened = key.open_record(&aad, &sealed).unwrap();
            prop_assert_eq!(opened.body.as_slice(), body.as_slice());
            prop_assert_eq!(opened.header, Some(header));
            prop_assert_eq!(opened.written_at_ms, Some(time));
        }

        #[test]
        fn any_flipped_bit_is_rejected(
            aad in aad(),
            header in header(),
            body in proptest::collection::vec(any::<u8>(), 0..256),
            position in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let key = VaultKey::generate();
            let body = if header.tombstone { Vec::new() } else { body };
            let mut sealed = key.seal_record(&aad, &header, 0, &body);
            let i = position.index(sealed.len());
            sealed[i] ^= 1 << bit;
            prop_assert!(rejects(&key, &aad, &sealed));
        }

        #[test]
        fn other_record_user_kind_or_key_is_rejected(
            aad in aad(),
            other_id in uuid(),
            body in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let key = VaultKey::generate();
            let sealed = key.seal_record(&aad, &sample_header(), 0, &body);
            let mut wrong = Vec::new();
            if other_id != aad.record_id {
                wrong.push(RecordAad { record_id: other_id, ..aad });
            }
            if other_id != aad.user_id {
                wrong.push(RecordAad { user_id: other_id, ..aad });
            }
            if aad.user_id != aad.record_id {
                wrong.push(RecordAad { user_id: aad.record_id, record_id: aad.user_id, ..aad });
            }
            for kind in KINDS.into_iter().filter(|k| Some(*k) != aad.item_kind()) {
                wrong.push(RecordAad { kind: kind.as_u8(), ..aad });
            }
            wrong.push(RecordAad::vault_summary(aad.user_id, aad.record_id));
            for other in &wrong {
                prop_assert!(rejects(&key, other, &sealed), "{:?}", other);
            }
            prop_assert!(rejects(&VaultKey::generate(), &aad, &sealed));
        }
    }
}

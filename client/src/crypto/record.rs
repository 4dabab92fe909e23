//! Sealing records under the vault key, bound to where they belong.

use uuid::Uuid;

use super::keys::VaultKey;
use super::{CryptoError, Plaintext, aead};
use crate::item::ItemKind;

/// The record envelope format this client writes.
pub const RECORD_FORMAT_V1: u8 = 1;

/// Bytes that sealing adds to a plaintext: version, nonce and tag.
pub const SEAL_OVERHEAD: usize = aead::OVERHEAD;

/// Prefix of every record's associated data, so it can never equal the
/// associated data of any other kind of ciphertext in the system.
const AAD_DOMAIN: &[u8; 20] = b"gophkeeper/v1/record";
const AAD_LEN: usize = AAD_DOMAIN.len() + 1 + 16 + 16 + 1;

/// The public facts a record's ciphertext is bound to.
///
/// The server sees and stores all of these in the clear. Binding them as
/// associated data means it cannot move a ciphertext to another record or
/// user, relabel its kind, or replay it under another format version without
/// decryption failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordAad {
    pub user_id: Uuid,
    pub record_id: Uuid,
    pub kind: ItemKind,
    /// Envelope format; also written as the ciphertext's first byte.
    pub format_version: u8,
}

impl RecordAad {
    /// Associated data for a record sealed in the current format.
    pub fn new(user_id: Uuid, record_id: Uuid, kind: ItemKind) -> Self {
        Self {
            user_id,
            record_id,
            kind,
            format_version: RECORD_FORMAT_V1,
        }
    }

    /// Canonical encoding: fixed-length fields in a fixed order after a
    /// domain prefix, so two different values can never encode alike.
    fn encode(&self) -> [u8; AAD_LEN] {
        let mut out = [0; AAD_LEN];
        let (domain, rest) = out.split_at_mut(AAD_DOMAIN.len());
        domain.copy_from_slice(AAD_DOMAIN);
        rest[0] = self.format_version;
        rest[1..17].copy_from_slice(self.user_id.as_bytes());
        rest[17..33].copy_from_slice(self.record_id.as_bytes());
        rest[33] = self.kind.as_u8();
        out
    }
}

/// Size of a sealed record whose plaintext is `plaintext_len` bytes, so
/// callers can check the server's size limit before encrypting or sending.
pub const fn sealed_len(plaintext_len: usize) -> usize {
    plaintext_len.saturating_add(SEAL_OVERHEAD)
}

impl VaultKey {
    /// Encrypts one record: `format_version ‖ nonce ‖ ciphertext ‖ tag`,
    /// [`sealed_len`] bytes.
    pub fn seal_record(&self, aad: &RecordAad, plaintext: &[u8]) -> Vec<u8> {
        aead::seal(&self.0, aad.format_version, &aad.encode(), plaintext)
    }

    /// [`VaultKey::seal_record`] for a plaintext of `plaintext_len` bytes
    /// that `write` puts straight into the record buffer, which is then
    /// encrypted in place: the plaintext is never copied, so there is no
    /// copy to wipe. For the item encoder.
    pub(crate) fn seal_record_with(
        &self,
        aad: &RecordAad,
        plaintext_len: usize,
        write: impl FnOnce(&mut [u8]),
    ) -> Vec<u8> {
        aead::seal_with(
            &self.0,
            aad.format_version,
            &aad.encode(),
            plaintext_len,
            write,
        )
    }

    /// Decrypts one record. Every failure (wrong key, any altered byte, a
    /// ciphertext from another record, user or kind, or a different format
    /// version) is the same [`CryptoError::DecryptionFailed`].
    pub fn open_record(&self, aad: &RecordAad, sealed: &[u8]) -> Result<Plaintext, CryptoError> {
        aead::open(&self.0, aad.format_version, &aad.encode(), sealed)
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
        assert_eq!(a.encode().len(), 54);
        assert_ne!(a.encode(), swapped.encode());
        assert!(a.encode().starts_with(b"gophkeeper/v1/record\x01"));
    }

    #[test]
    fn sealed_layout() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::from_u128(1), Uuid::from_u128(2), ItemKind::Text);
        let sealed = key.seal_record(&aad, b"hello");
        assert_eq!(sealed.len(), sealed_len(5));
        assert_eq!(sealed.len(), 1 + 24 + 5 + 16);
        assert_eq!(sealed[0], RECORD_FORMAT_V1);
        assert_ne!(
            key.seal_record(&aad, b"hello"),
            sealed,
            "nonce must be random"
        );
    }

    #[test]
    fn other_format_version_is_rejected() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::from_u128(1), Uuid::from_u128(2), ItemKind::Card);
        let sealed = key.seal_record(&aad, b"x");
        let v2 = RecordAad {
            format_version: 2,
            ..aad
        };
        assert!(rejects(&key, &v2, &sealed));
        // Even with the leading byte rewritten to match: the tag covers it.
        let mut relabelled = sealed.clone();
        relabelled[0] = 2;
        assert!(rejects(&key, &v2, &relabelled));
    }

    #[test]
    fn truncated_input_is_rejected() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::nil(), Uuid::nil(), ItemKind::Text);
        let sealed = key.seal_record(&aad, b"");
        assert!(key.open_record(&aad, &sealed).unwrap().is_empty());
        for len in 0..sealed.len() {
            assert!(rejects(&key, &aad, &sealed[..len]));
        }
    }

    #[test]
    fn the_error_says_nothing_about_the_cause() {
        let key = VaultKey::generate();
        let aad = RecordAad::new(Uuid::nil(), Uuid::nil(), ItemKind::Text);
        let sealed = key.seal_record(&aad, b"secret");
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        let wrong_key = VaultKey::generate().open_record(&aad, &sealed).unwrap_err();
        let tampered = key.open_record(&aad, &flipped).unwrap_err();
        let short = key.open_record(&aad, &sealed[..3]).unwrap_err();
        assert_eq!(wrong_key.to_string(), tampered.to_string());
        assert_eq!(wrong_key.to_string(), short.to_string());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip(aad in aad(), plaintext in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let key = VaultKey::generate();
            let sealed = key.seal_record(&aad, &plaintext);
            prop_assert_eq!(sealed.len(), sealed_len(plaintext.len()));
            let opened = key.open_record(&aad, &sealed).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }

        #[test]
        fn any_flipped_bit_is_rejected(
            aad in aad(),
            plaintext in proptest::collection::vec(any::<u8>(), 0..256),
            position in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let key = VaultKey::generate();
            let mut sealed = key.seal_record(&aad, &plaintext);
            let i = position.index(sealed.len());
            sealed[i] ^= 1 << bit;
            prop_assert!(rejects(&key, &aad, &sealed));
        }

        #[test]
        fn other_record_user_kind_or_key_is_rejected(
            aad in aad(),
            other_id in uuid(),
            plaintext in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let key = VaultKey::generate();
            let sealed = key.seal_record(&aad, &plaintext);
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
            for kind in KINDS.into_iter().filter(|k| *k != aad.kind) {
                wrong.push(RecordAad { kind, ..aad });
            }
            for other in &wrong {
                prop_assert!(rejects(&key, other, &sealed), "{:?}", other);
            }
            prop_assert!(rejects(&VaultKey::generate(), &aad, &sealed));
        }
    }
}

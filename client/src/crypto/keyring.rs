//! Every vault key an account has had (docs/design.md, "Vault-key
//! rotation"): the current one, which seals, and the keys of older epochs,
//! which only open what they sealed.
//!
//! Wrapped as one blob, so that the server (and this device's profile)
//! always holds every key a record may need, switched in one write:
//!
//! ```text
//! epoch 1, no older keys:  seal(KEK, 1, "gophkeeper/v1/vault-key", key)                      73 bytes
//! later epochs:            seal(KEK, 2, "gophkeeper/v2/vault-key", epoch ‖ key)              77 bytes
//!                          ‖ seal(key, 1, "gophkeeper/v2/older-vault-keys" ‖ epoch,
//!                                 (epoch ‖ key) for epochs 1 .. epoch-1)                   41 + 36 n
//! ```
//!
//! The older keys are sealed under the current key rather than the
//! key-encryption key, so that a password change re-wraps one key and
//! carries the rest over as they are.

use zeroize::Zeroizing;

use super::keys::{KeyEncryptionKey, VaultKey};
use super::record::RecordHeader;
use super::secret::{KEY_LEN, KeyBytes};
use super::{CryptoError, OpenedRecord, RecordAad, aead};

const WRAP_FORMAT_V1: u8 = 1;
const WRAP_FORMAT_V2: u8 = 2;
const VAULT_KEY_AAD_V1: &[u8] = b"gophkeeper/v1/vault-key";
const VAULT_KEY_AAD_V2: &[u8] = b"gophkeeper/v2/vault-key";
const OLDER_KEYS_FORMAT: u8 = 1;
const OLDER_KEYS_AAD: &[u8] = b"gophkeeper/v2/older-vault-keys";
/// An epoch number and its key.
const ENTRY_LEN: usize = 4 + KEY_LEN;
/// The wrapped current key of a later epoch.
const CURRENT_V2_LEN: usize = aead::OVERHEAD + ENTRY_LEN;

/// The most epochs an account can have: the wrapped blob then stays under
/// the server's 4 KiB limit for it (77 + 41 + 36 × 99 = 3,682 bytes).
pub const MAX_KEY_EPOCH: u32 = 100;

/// The account's vault keys. Not `Clone`, like [`VaultKey`]; wiped on drop.
pub struct VaultKeys {
    epoch: u32,
    current: VaultKey,
    /// Epochs 1 .. `epoch`, in order.
    older: Vec<(u32, VaultKey)>,
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultKeys")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl VaultKeys {
    /// The key made at registration: epoch 1.
    pub fn first(key: VaultKey) -> Self {
        Self {
            epoch: 1,
            current: key,
            older: Vec::new(),
        }
    }

    /// The epoch that new records are sealed under.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    pub fn current(&self) -> &VaultKey {
        &self.current
    }

    /// The key of `epoch`, if this account has had it.
    pub fn for_epoch(&self, epoch: u32) -> Option<&VaultKey> {
        if epoch == self.epoch {
            return Some(&self.current);
        }
        self.older.iter().find(|(e, _)| *e == epoch).map(|(_, k)| k)
    }

    /// A fresh random key as the next epoch, keeping every key so far.
    pub fn rotated(&self) -> Result<Self, CryptoError> {
        if self.epoch >= MAX_KEY_EPOCH {
            return Err(CryptoError::TooManyKeyEpochs {
                maximum: MAX_KEY_EPOCH,
            });
        }
        let mut older: Vec<(u32, VaultKey)> = self
            .older
            .iter()
            .map(|(e, k)| (*e, k.duplicate()))
            .collect();
        older.push((self.epoch, self.current.duplicate()));
        Ok(Self {
            epoch: self.epoch + 1,
            current: VaultKey::generate(),
            older,
        })
    }

    /// The current key alone, for tests that seal records by hand.
    #[cfg(any(test, feature = "internals"))]
    pub fn into_current(self) -> VaultKey {
        self.current
    }

    /// Whether `other` holds the same key for every epoch this one has.
    #[cfg(any(test, feature = "internals"))]
    pub fn same_as(&self, other: &VaultKeys) -> bool {
        self.epoch == other.epoch
            && (1..=self.epoch).all(|e| {
                matches!(
                    (self.for_epoch(e), other.for_epoch(e)),
                    (Some(a), Some(b)) if a.0.as_bytes() == b.0.as_bytes()
                )
            })
    }

    /// Opens a record of either format with the key of the epoch its
    /// header names (format 1 is epoch 1). A record of an epoch this
    /// keyring lacks fails like any record that does not open.
    pub fn open_record(&self, aad: &RecordAad, sealed: &[u8]) -> Result<OpenedRecord, CryptoError> {
        let epoch = RecordHeader::peek(sealed)?.map_or(1, |h| h.key_epoch);
        self.for_epoch(epoch)
            .ok_or(CryptoError::DecryptionFailed)?
            .open_record(aad, sealed)
    }
}

impl KeyEncryptionKey {
    /// Encrypts the vault keys for storage (the server's copy, and this
    /// device's): format 1 for an account that never rotated, so its
    /// bytes stay what every earlier client reads.
    pub fn wrap(&self, keys: &VaultKeys) -> Vec<u8> {
        if keys.epoch == 1 && keys.older.is_empty() {
            return aead::seal(
                self.bytes(),
                WRAP_FORMAT_V1,
                VAULT_KEY_AAD_V1,
                keys.current.0.as_bytes(),
            );
        }
        let mut current = Zeroizing::new(Vec::with_capacity(ENTRY_LEN));
        push_entry(&mut current, keys.epoch, &keys.current);
        let mut out = aead::seal(self.bytes(), WRAP_FORMAT_V2, VAULT_KEY_AAD_V2, &current);
        let mut older = Zeroizing::new(Vec::with_capacity(ENTRY_LEN * keys.older.len()));
        for (epoch, key) in &keys.older {
            push_entry(&mut older, *epoch, key);
        }
        out.extend(aead::seal(
            &keys.current.0,
            OLDER_KEYS_FORMAT,
            &older_aad(keys.epoch),
            &older,
        ));
        out
    }

    /// Recovers the vault keys. Any tampering, a key-encryption key from
    /// a different password, or a list of epochs with a gap gives
    /// [`CryptoError::DecryptionFailed`].
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<VaultKeys, CryptoError> {
        match wrapped.first() {
            Some(&WRAP_FORMAT_V1) => {
                let plain = aead::open(self.bytes(), WRAP_FORMAT_V1, VAULT_KEY_AAD_V1, wrapped)?;
                Ok(VaultKeys::first(key_from(&plain)?))
            }
            Some(&WRAP_FORMAT_V2) if wrapped.len() > CURRENT_V2_LEN => {
                let (current, older) = wrapped.split_at(CURRENT_V2_LEN);
                let plain = aead::open(self.bytes(), WRAP_FORMAT_V2, VAULT_KEY_AAD_V2, current)?;
                let (epoch, current) = entry_from(&plain)?;
                let plain = aead::open(&current.0, OLDER_KEYS_FORMAT, &older_aad(epoch), older)?;
                let older = plain
                    .chunks(ENTRY_LEN)
                    .map(entry_from)
                    .collect::<Result<Vec<_>, _>>()?;
                // Every epoch from 1 up, once each: what rotation makes.
                let in_order = older.iter().map(|(e, _)| *e).eq(1..epoch);
                if !(2..=MAX_KEY_EPOCH).contains(&epoch) || !in_order {
                    return Err(CryptoError::DecryptionFailed);
                }
                Ok(VaultKeys {
                    epoch,
                    current,
                    older,
                })
            }
            _ => Err(CryptoError::DecryptionFailed),
        }
    }
}

fn older_aad(epoch: u32) -> Vec<u8> {
    let mut aad = OLDER_KEYS_AAD.to_vec();
    aad.extend_from_slice(&epoch.to_be_bytes());
    aad
}

fn push_entry(out: &mut Vec<u8>, epoch: u32, key: &VaultKey) {
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(key.0.as_bytes());
}

fn key_from(bytes: &[u8]) -> Result<VaultKey, CryptoError> {
    let bytes = <&[u8; KEY_LEN]>::try_from(bytes).map_err(|_| CryptoError::DecryptionFailed)?;
    let mut key = KeyBytes::zeroed();
    key.as_mut().copy_from_slice(bytes);
    Ok(VaultKey(key))
}

fn entry_from(bytes: &[u8]) -> Result<(u32, VaultKey), CryptoError> {
    let (epoch, key) = bytes
        .split_first_chunk::<4>()
        .ok_or(CryptoError::DecryptionFailed)?;
    Ok((u32::from_be_bytes(*epoch), key_from(key)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use crate::crypto::record::RecordHeader;
    use uuid::Uuid;

    fn kek(byte: u8) -> KeyEncryptionKey {
        MasterKey::from_bytes([byte; KEY_LEN]).key_encryption_key()
    }

    fn header(epoch: u32) -> RecordHeader {
        RecordHeader {
            key_epoch: epoch,
            version: 1,
            base: 0,
            writer: Uuid::nil(),
            tombstone: false,
        }
    }

    #[test]
    fn an_account_that_never_rotated_keeps_the_first_format() {
        let keys = VaultKeys::first(VaultKey::generate());
        let wrapped = kek(1).wrap(&keys);
        assert_eq!(wrapped.len(), aead::OVERHEAD + KEY_LEN);
        assert_eq!(wrapped[0], WRAP_FORMAT_V1);
        assert!(kek(1).unwrap(&wrapped).unwrap().same_as(&keys));
    }

    #[test]
    fn the_first_format_refuses_tampering_a_wrong_key_and_another_purpose() {
        let keys = VaultKeys::first(VaultKey::generate());
        let wrapped = kek(4).wrap(&keys);
        // Random nonce: wrapping twice never gives the same bytes.
        assert_ne!(kek(4).wrap(&keys), wrapped);
        for i in 0..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[i] ^= 0x80;
            assert!(matches!(
                kek(4).unwrap(&bad),
                Err(CryptoError::DecryptionFailed)
            ));
        }
        for len in [0, 1, 40, wrapped.len() - 1] {
            assert!(kek(4).unwrap(&wrapped[..len]).is_err());
        }
        assert!(kek(5).unwrap(&wrapped).is_err());
        // Same key, another label: not a vault key.
        let sealed = aead::seal(
            kek(6).bytes(),
            WRAP_FORMAT_V1,
            b"something else",
            &[9; KEY_LEN],
        );
        assert!(kek(6).unwrap(&sealed).is_err());
    }

    #[test]
    fn rotation_keeps_every_older_key_and_opens_what_each_sealed() {
        let first = VaultKeys::first(VaultKey::generate());
        let second = first.rotated().unwrap();
        let third = second.rotated().unwrap();
        assert_eq!(third.epoch(), 3);
        let aad = RecordAad::vault_summary(Uuid::nil(), Uuid::nil());
        let old = first.current().seal_record(&aad, &header(1), 0, b"one");
        let v1 = first.current().seal_record_v1(&aad, b"v1");
        let new = third.current().seal_record(&aad, &header(3), 0, b"three");
        let wrapped = kek(2).wrap(&third);
        assert_eq!(
            wrapped.len(),
            CURRENT_V2_LEN + aead::OVERHEAD + 2 * ENTRY_LEN
        );
        let back = kek(2).unwrap(&wrapped).unwrap();
        assert!(back.same_as(&third));
        assert!(!back.same_as(&second));
        assert_eq!(
            back.open_record(&aad, &old).unwrap().body.as_slice(),
            b"one"
        );
        assert_eq!(back.open_record(&aad, &v1).unwrap().body.as_slice(), b"v1");
        assert_eq!(
            back.open_record(&aad, &new).unwrap().body.as_slice(),
            b"three"
        );
        // The second epoch's keyring cannot open what the third sealed.
        assert!(second.open_record(&aad, &new).is_err());
        // A record naming the wrong epoch does not open with another key.
        let mislabelled = second.current().seal_record(&aad, &header(1), 0, b"x");
        assert!(back.open_record(&aad, &mislabelled).is_err());
    }

    #[test]
    fn unwrap_refuses_tampering_a_wrong_key_and_spliced_parts() {
        let keys = VaultKeys::first(VaultKey::generate()).rotated().unwrap();
        let wrapped = kek(3).wrap(&keys);
        for i in 0..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[i] ^= 0x01;
            assert!(kek(3).unwrap(&bad).is_err(), "byte {i}");
        }
        for len in [0, 1, CURRENT_V2_LEN, wrapped.len() - 1] {
            assert!(kek(3).unwrap(&wrapped[..len]).is_err(), "length {len}");
        }
        assert!(kek(4).unwrap(&wrapped).is_err());
        // The older keys of another keyring do not open under this one.
        let other = kek(3).wrap(&VaultKeys::first(VaultKey::generate()).rotated().unwrap());
        let mut spliced = wrapped[..CURRENT_V2_LEN].to_vec();
        spliced.extend_from_slice(&other[CURRENT_V2_LEN..]);
        assert!(kek(3).unwrap(&spliced).is_err());
    }

    #[test]
    fn rotation_stops_at_the_most_epochs_the_server_stores() {
        let mut keys = VaultKeys::first(VaultKey::generate());
        while keys.epoch() < MAX_KEY_EPOCH {
            keys = keys.rotated().unwrap();
        }
        let wrapped = kek(5).wrap(&keys);
        assert!(wrapped.len() <= 4096, "{} bytes", wrapped.len());
        assert!(kek(5).unwrap(&wrapped).unwrap().same_as(&keys));
        assert!(matches!(
            keys.rotated(),
            Err(CryptoError::TooManyKeyEpochs { .. })
        ));
    }

    #[test]
    fn debug_shows_the_epoch_only() {
        let keys = VaultKeys::first(VaultKey::generate());
        assert_eq!(format!("{keys:?}"), "VaultKeys { epoch: 1, .. }");
    }
}

//! An item in, a record ciphertext out (and back), with every check that
//! should happen before anything reaches the network.

use gophkeeper_proto::MAX_RECORD_BYTES;

use super::{Item, ItemError, ValidationError, encode};
use crate::crypto::{OpenedRecord, RecordAad, RecordHeader, VaultKey, sealed_len};

/// Refuses a plaintext whose sealed form would exceed the server's
/// [`MAX_RECORD_BYTES`]; returns the sealed size otherwise. Checking here
/// gives the person a clear message instead of a rejected upload.
pub fn check_sealed_size(plaintext_len: usize) -> Result<usize, ValidationError> {
    let sealed_bytes = sealed_len(plaintext_len);
    if sealed_bytes > MAX_RECORD_BYTES {
        return Err(ValidationError::TooLarge {
            sealed_bytes,
            limit_bytes: MAX_RECORD_BYTES,
        });
    }
    Ok(sealed_bytes)
}

impl Item {
    /// Validates, encodes, checks the size limit and encrypts as the
    /// record version `header` names, sealed at `written_at_ms` by this
    /// device's clock. `aad.kind` must be this item's kind.
    ///
    /// The item is encoded straight into the buffer that is then encrypted
    /// in place, so its plaintext encoding never exists anywhere else.
    pub fn seal(
        &self,
        key: &VaultKey,
        aad: &RecordAad,
        header: &RecordHeader,
        written_at_ms: i64,
    ) -> Result<Vec<u8>, ItemError> {
        self.validate()?;
        let record = aad.item_kind().ok_or(ItemError::NotAnItem)?;
        if record != self.kind() {
            return Err(ItemError::KindMismatch {
                item: self.kind(),
                record,
            });
        }
        let len = encode::encoded_len(self);
        check_sealed_size(len)?;
        if header.tombstone {
            return Err(ItemError::Tombstone);
        }
        Ok(
            key.seal_record_with(aad, header, written_at_ms, len, |mut body| {
                encode::encode(self, &mut body);
                // A panic (the buffer is wiped) rather than a record with
                // trailing zeros, should the two ever disagree.
                assert!(body.is_empty(), "encoded_len disagrees with encode");
            }),
        )
    }

    /// Decrypts and decodes a record, checking that its content matches the
    /// kind it is labelled with.
    pub fn open(key: &VaultKey, aad: &RecordAad, sealed: &[u8]) -> Result<Item, ItemError> {
        Self::from_opened(aad, &key.open_record(aad, sealed)?)
    }

    /// The item inside a record that already opened.
    pub fn from_opened(aad: &RecordAad, opened: &OpenedRecord) -> Result<Item, ItemError> {
        if opened.is_tombstone() {
            return Err(ItemError::Tombstone);
        }
        let record = aad.item_kind().ok_or(ItemError::NotAnItem)?;
        let item = Item::decode(&opened.body)?;
        if item.kind() != record {
            return Err(ItemError::KindMismatch {
                item: item.kind(),
                record,
            });
        }
        Ok(item)
    }
}

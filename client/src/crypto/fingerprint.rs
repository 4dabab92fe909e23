//! A short fingerprint of the records a device holds, for a person to
//! compare between devices (`gophkeeper verify`): without a channel
//! outside the server, two devices kept apart by it can only find out by
//! comparing something the server cannot make equal.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::keys::{VaultKey, hkdf_sha256};

const FINGERPRINT_INFO: &[u8] = b"gophkeeper/v2/vault-fingerprint";

/// What the fingerprint covers of one record: its id, its authenticated
/// version (0 in format 1) and whether it is a tombstone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FingerprintEntry {
    pub record_id: Uuid,
    pub version: u64,
    pub tombstone: bool,
}

impl VaultKey {
    /// A keyed digest of the set of entries, in any order: SHA-256 over
    /// the sorted, fixed-length entries, then HKDF-SHA256 (an HMAC) under
    /// the vault key, so that only key holders can compute it. Shown as
    /// four groups of four hex digits.
    pub fn vault_fingerprint(&self, entries: &[FingerprintEntry]) -> String {
        let mut sorted = entries.to_vec();
        sorted.sort_unstable();
        let mut digest = Sha256::new();
        for entry in &sorted {
            digest.update(entry.record_id.as_bytes());
            digest.update(entry.version.to_be_bytes());
            digest.update([u8::from(entry.tombstone)]);
        }
        let mut info = FINGERPRINT_INFO.to_vec();
        info.extend_from_slice(&digest.finalize());
        let mut out = [0u8; 8];
        #[expect(
            clippy::expect_used,
            reason = "8 bytes is far below HKDF-SHA256's 8160-byte output limit"
        )]
        hkdf_sha256(self.0.as_bytes(), None, &info, &mut out)
            .expect("8-byte HKDF output is always allowed");
        out.chunks(2)
            .map(|pair| pair.iter().map(|b| format!("{b:02x}")).collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u128, version: u64, tombstone: bool) -> FingerprintEntry {
        FingerprintEntry {
            record_id: Uuid::from_u128(id),
            version,
            tombstone,
        }
    }

    #[test]
    fn the_fingerprint_follows_the_set_and_the_key_only() {
        let key = VaultKey::generate();
        let set = [entry(1, 3, false), entry(2, 1, true)];
        let shown = key.vault_fingerprint(&set);
        assert_eq!(shown.len(), 19);
        assert_eq!(shown.matches('-').count(), 3);
        // Order does not matter; every field does.
        assert_eq!(key.vault_fingerprint(&[set[1], set[0]]), shown);
        for other in [
            vec![entry(1, 4, false), entry(2, 1, true)],
            vec![entry(1, 3, false), entry(2, 1, false)],
            vec![entry(1, 3, false), entry(3, 1, true)],
            vec![entry(1, 3, false)],
        ] {
            assert_ne!(key.vault_fingerprint(&other), shown, "{other:?}");
        }
        assert_ne!(VaultKey::generate().vault_fingerprint(&set), shown);
    }
}

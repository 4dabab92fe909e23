//! Decrypted bytes, and the fast wipe that every large plaintext buffer in
//! the client goes through.
//!
//! Why not `Zeroizing<Vec<u8>>`: `Vec<u8>`'s own `Zeroize` (zeroize 1.9)
//! wipes the initialised bytes one volatile store at a time. For a 512 KiB
//! record that loop costs more instructions than the whole XChaCha20 pass
//! (see BENCHMARKS.md). A `[u8]` slice's `Zeroize` is a plain `memset`
//! followed by an assembly optimisation barrier that claims to read the
//! memory, so the compiler can neither drop nor shorten it; it is exactly as
//! certain to happen and runs at memory speed.

use std::fmt;
use std::ops::Deref;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Wipes a byte vector, spare capacity included, and leaves it empty.
pub(crate) fn wipe_bytes(bytes: &mut Vec<u8>) {
    bytes.as_mut_slice().zeroize();
    bytes.spare_capacity_mut().zeroize();
    bytes.clear();
}

/// Wipes a string's bytes, spare capacity included, and leaves it empty.
pub(crate) fn wipe_string(text: &mut String) {
    // `into_bytes` moves the buffer without copying it.
    wipe_bytes(&mut std::mem::take(text).into_bytes());
}

/// A decrypted plaintext, wiped when dropped.
///
/// Reads as a byte slice (`&plaintext`, `plaintext.as_slice()`);
/// `Debug` shows only its length.
#[derive(Default)]
pub struct Plaintext(Vec<u8>);

impl Plaintext {
    /// `len` zero bytes, to be overwritten in place.
    pub(crate) fn zeroed(len: usize) -> Self {
        Self(vec![0; len])
    }

    /// A copy of `bytes`, to be decrypted in place.
    pub(crate) fn copied_from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// Drops the first `n` bytes in place (no second copy to wipe: what
    /// moves stays in this buffer, whose spare capacity is wiped on drop).
    pub(crate) fn drop_front(&mut self, n: usize) {
        self.0.drain(..n.min(self.0.len()));
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Hands the buffer out without wiping it, for a caller that has
    /// encrypted it in place: it no longer holds a secret.
    pub(crate) fn into_encrypted(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

impl Deref for Plaintext {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Zeroize for Plaintext {
    fn zeroize(&mut self) {
        wipe_bytes(&mut self.0);
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Plaintext {}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plaintext(<{} bytes>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipes_leave_nothing_behind() {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(b"secret");
        wipe_bytes(&mut bytes);
        assert!(bytes.is_empty());
        assert_eq!(bytes.capacity(), 64, "the buffer is kept, zeroed");
        let mut text = String::from("hunter2");
        wipe_string(&mut text);
        assert!(text.is_empty());
    }

    #[test]
    fn plaintext_reads_as_bytes_and_hides_them_in_debug() {
        let mut plaintext = Plaintext::zeroed(3);
        plaintext.as_mut_slice().copy_from_slice(b"abc");
        assert_eq!(&*plaintext, b"abc");
        assert_eq!(format!("{plaintext:?}"), "Plaintext(<3 bytes>)");
        plaintext.zeroize();
        assert!(plaintext.is_empty());
    }
}

//! Key bytes that live on the heap and are wiped when dropped.

use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of every symmetric key in the scheme: 256 bits.
pub const KEY_LEN: usize = 32;

/// 32 bytes of key material.
///
/// Boxed so that moving a key moves a pointer: a `[u8; 32]` held by value is
/// copied on every move, and those stale stack copies are never wiped.
pub(crate) struct KeyBytes(Box<[u8; KEY_LEN]>);

impl KeyBytes {
    pub(crate) fn zeroed() -> Self {
        Self(Box::new([0; KEY_LEN]))
    }

    /// Fresh key from the operating system's CSPRNG.
    pub(crate) fn random() -> Self {
        let mut key = Self::zeroed();
        OsRng.fill_bytes(key.as_mut());
        key
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub(crate) fn as_mut(&mut self) -> &mut [u8; KEY_LEN] {
        &mut self.0
    }
}

impl Drop for KeyBytes {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

impl ZeroizeOnDrop for KeyBytes {}

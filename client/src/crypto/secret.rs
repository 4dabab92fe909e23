//! Key bytes that live on pages of their own, kept out of swap, and are
//! wiped when dropped.

use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of every symmetric key in the scheme: 256 bits.
pub const KEY_LEN: usize = 32;

/// The alignment, and so the size, of each secret's allocation: the page
/// size of the systems we build for (4 KiB on x86-64 and Windows, 16 KiB
/// on Apple silicon). `mlock` works on whole pages and does not count, so
/// a secret that shared a page with another would be unlocked when the
/// other is dropped.
const PAGE: usize = 16 * 1024;

#[repr(C, align(16384))]
struct Page<const N: usize>([u8; N]);

const _: () = assert!(align_of::<Page<KEY_LEN>>() == PAGE);

/// `N` secret bytes on the heap, alone on their memory page, which is
/// locked in RAM (`mlock`, `VirtualLock` on Windows) so that they are never
/// written to swap, and wiped when dropped.
///
/// Boxed so that moving a key moves a pointer: bytes held by value are
/// copied on every move, and those stale stack copies are never wiped.
/// Locking is best effort: where the limit on locked memory
/// (`RLIMIT_MEMLOCK`, 8 MiB by default on Linux, 64 KiB on older systems)
/// is used up, the key still works, unlocked; [`Locked::is_locked`] says
/// which.
pub(crate) struct Locked<const N: usize> {
    bytes: Box<Page<N>>,
    /// Unlocks the page when dropped, after `Drop` has wiped it.
    _locked: Option<region::LockGuard>,
}

/// 32 bytes of key material.
pub(crate) type KeyBytes = Locked<KEY_LEN>;

impl<const N: usize> Locked<N> {
    pub(crate) fn zeroed() -> Self {
        let bytes = Box::new(Page([0; N]));
        // The first page holds all N bytes (N is far below a page), and no
        // other allocation shares it.
        let _locked = region::lock(bytes.0.as_ptr(), N).ok();
        Self { bytes, _locked }
    }

    /// Fresh key from the operating system's CSPRNG.
    pub(crate) fn random() -> Self {
        let mut key = Self::zeroed();
        OsRng.fill_bytes(key.as_mut());
        key
    }

    pub(crate) fn as_bytes(&self) -> &[u8; N] {
        &self.bytes.0
    }

    pub(crate) fn as_mut(&mut self) -> &mut [u8; N] {
        &mut self.bytes.0
    }

    /// Whether the page is locked in RAM.
    #[cfg(test)]
    pub(crate) fn is_locked(&self) -> bool {
        self._locked.is_some()
    }
}

impl<const N: usize> Clone for Locked<N> {
    fn clone(&self) -> Self {
        let mut copy = Self::zeroed();
        copy.as_mut().copy_from_slice(self.as_bytes());
        copy
    }
}

impl<const N: usize> Drop for Locked<N> {
    fn drop(&mut self) {
        self.bytes.0.as_mut_slice().zeroize();
    }
}

impl<const N: usize> ZeroizeOnDrop for Locked<N> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_a_page_of_its_own() {
        let keys: Vec<KeyBytes> = (0..8).map(|_| KeyBytes::random()).collect();
        for key in &keys {
            assert_eq!(key.as_bytes().as_ptr() as usize % PAGE, 0);
        }
        let copy = keys[0].clone();
        assert_eq!(copy.as_bytes(), keys[0].as_bytes());
        assert_ne!(keys[0].as_bytes(), keys[1].as_bytes());
    }

    /// The kernel's own count of this process's locked memory grows by a
    /// page per key and shrinks back when the keys go. In a child process,
    /// so that no other test's keys move the count meanwhile.
    #[cfg(target_os = "linux")]
    #[test]
    fn keys_are_locked_in_ram_until_dropped() {
        fn locked_kib() -> u64 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("VmLck:")).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        }
        if std::env::var_os("GOPHKEEPER_LOCKED_CHILD").is_some() {
            let before = locked_kib();
            let keys: Vec<KeyBytes> = (0..4).map(|_| KeyBytes::random()).collect();
            assert!(keys.iter().all(KeyBytes::is_locked));
            let page_kib = region::page::size() as u64 / 1024;
            assert_eq!(locked_kib(), before + 4 * page_kib);
            drop(keys);
            assert_eq!(locked_kib(), before);
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crypto::secret::tests::keys_are_locked_in_ram_until_dropped",
                "--nocapture",
            ])
            .env("GOPHKEEPER_LOCKED_CHILD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{out:?}");
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}

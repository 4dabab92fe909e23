//! The one ciphertext envelope used for both the wrapped vault key and
//! records: `version ‖ nonce ‖ ciphertext ‖ tag`, XChaCha20-Poly1305.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::CryptoError;
use super::secret::KeyBytes;

pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// Bytes an envelope adds to its plaintext.
pub(crate) const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// Encrypts under a fresh random nonce.
pub(crate) fn seal(key: &KeyBytes, version: u8, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    seal_with_nonce(key, version, &nonce, aad, plaintext)
}

/// Split out from [`seal`] only so that published test vectors, which fix
/// the nonce, can run through the same code.
pub(crate) fn seal_with_nonce(
    key: &KeyBytes,
    version: u8,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    // Encrypting in place in the output buffer leaves no stray plaintext copy.
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.push(version);
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key.as_bytes()));
    #[expect(
        clippy::expect_used,
        reason = "XChaCha20 only refuses messages over 256 GiB; records are capped at 512 KiB"
    )]
    let tag = cipher
        .encrypt_in_place_detached(<&XNonce>::from(nonce), aad, &mut out[HEADER_LEN..])
        .expect("plaintext within XChaCha20's 256 GiB limit");
    out.extend_from_slice(&tag);
    out
}

/// Decrypts an envelope that must carry `version`.
///
/// Every failure, including a short input or an unknown version byte, is the
/// same [`CryptoError::DecryptionFailed`].
pub(crate) fn open(
    key: &KeyBytes,
    version: u8,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < OVERHEAD || sealed.first() != Some(&version) {
        return Err(CryptoError::DecryptionFailed);
    }
    let (header, body) = sealed.split_at(HEADER_LEN);
    let (ciphertext, tag) = body.split_at(body.len() - TAG_LEN);
    let (Ok(nonce), Ok(tag)) = (
        <&[u8; NONCE_LEN]>::try_from(&header[1..]),
        <&[u8; TAG_LEN]>::try_from(tag),
    ) else {
        return Err(CryptoError::DecryptionFailed);
    };
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key.as_bytes()));
    // The tag is checked before anything is decrypted, so a forged input
    // never produces plaintext.
    cipher
        .decrypt_in_place_detached(<&XNonce>::from(nonce), aad, &mut buf, <&Tag>::from(tag))
        .map_err(|_| CryptoError::DecryptionFailed)?;
    Ok(buf)
}

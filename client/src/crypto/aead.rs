//! The one ciphertext envelope used for both the wrapped vault key and
//! records: `version ‖ nonce ‖ ciphertext ‖ tag`, XChaCha20-Poly1305.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rand::rngs::OsRng;

use super::CryptoError;
use super::plaintext::Plaintext;
use super::secret::KeyBytes;

pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const TAG_LEN: usize = 16;
/// Bytes an envelope with a one-byte version adds to its plaintext.
pub(crate) const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Encrypts under a fresh random nonce.
pub(crate) fn seal(key: &KeyBytes, version: u8, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    seal_with(key, version, aad, plaintext.len(), |body| {
        body.copy_from_slice(plaintext);
    })
}

/// Encrypts a `plaintext_len`-byte plaintext that `write` puts straight into
/// the envelope, under a fresh random nonce.
///
/// For a caller that builds its plaintext (an encoder): the plaintext then
/// exists only in the buffer that becomes the ciphertext, so there is no
/// second copy to wipe. `write` gets a slice of exactly `plaintext_len`
/// bytes, which cannot grow and so cannot leave a stray copy behind in a
/// reallocation.
pub(crate) fn seal_with(
    key: &KeyBytes,
    version: u8,
    aad: &[u8],
    plaintext_len: usize,
    write: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    seal_after_header(key, &[version], aad, plaintext_len, write)
}

/// [`seal_with`] for an envelope whose clear header is longer than the
/// version byte (record format 2): `header ‖ nonce ‖ ciphertext ‖ tag`.
/// The header is in the clear; the caller binds it through `aad`.
pub(crate) fn seal_after_header(
    key: &KeyBytes,
    header: &[u8],
    aad: &[u8],
    plaintext_len: usize,
    write: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let mut nonce = [0; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    seal_with_nonce(key, header, &nonce, aad, plaintext_len, write)
}

/// Split out from [`seal_with`] only so that published test vectors, which
/// fix the nonce, can run through the same code.
pub(crate) fn seal_with_nonce(
    key: &KeyBytes,
    header: &[u8],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext_len: usize,
    write: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    // Held as a `Plaintext` until it is encrypted, so that a panic in
    // `write` still wipes whatever it had written.
    let mut out = Plaintext::zeroed(header.len() + NONCE_LEN + TAG_LEN + plaintext_len);
    let (clear, rest) = out.as_mut_slice().split_at_mut(header.len() + NONCE_LEN);
    let (body, tag_out) = rest.split_at_mut(plaintext_len);
    clear[..header.len()].copy_from_slice(header);
    clear[header.len()..].copy_from_slice(nonce);
    write(body);
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key.as_bytes()));
    #[expect(
        clippy::expect_used,
        reason = "XChaCha20 only refuses messages over 256 GiB; records are capped at 512 KiB"
    )]
    let tag = cipher
        .encrypt_in_place_detached(<&XNonce>::from(nonce), aad, body)
        .expect("plaintext within XChaCha20's 256 GiB limit");
    tag_out.copy_from_slice(&tag);
    out.into_encrypted()
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
) -> Result<Plaintext, CryptoError> {
    if sealed.first() != Some(&version) {
        return Err(CryptoError::DecryptionFailed);
    }
    open_after_header(key, 1, aad, sealed)
}

/// Decrypts `header ‖ nonce ‖ ciphertext ‖ tag` whose clear header is
/// `header_len` bytes; the caller has checked the header and bound it
/// through `aad`.
pub(crate) fn open_after_header(
    key: &KeyBytes,
    header_len: usize,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Plaintext, CryptoError> {
    if sealed.len() < header_len + NONCE_LEN + TAG_LEN {
        return Err(CryptoError::DecryptionFailed);
    }
    let (header, body) = sealed.split_at(header_len + NONCE_LEN);
    let (ciphertext, tag) = body.split_at(body.len() - TAG_LEN);
    let (Ok(nonce), Ok(tag)) = (
        <&[u8; NONCE_LEN]>::try_from(&header[header_len..]),
        <&[u8; TAG_LEN]>::try_from(tag),
    ) else {
        return Err(CryptoError::DecryptionFailed);
    };
    // The one copy an open needs: the input is borrowed, and the AEAD
    // decrypts in place.
    let mut buf = Plaintext::copied_from(ciphertext);
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key.as_bytes()));
    // The tag is checked before anything is decrypted, so a forged input
    // never produces plaintext.
    cipher
        .decrypt_in_place_detached(
            <&XNonce>::from(nonce),
            aad,
            buf.as_mut_slice(),
            <&Tag>::from(tag),
        )
        .map_err(|_| CryptoError::DecryptionFailed)?;
    Ok(buf)
}

//! Sealing under a key derived from the server secret:
//! `nonce ‖ XChaCha20-Poly1305(message)`, bound to associated data. What is
//! sealed so (a TOTP secret, a login's OPAQUE state) is worthless in a copy
//! of the auth database without the secret.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::secrets::ServerSecret;

const NONCE_LEN: usize = 24;

pub struct SealKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

impl SealKey {
    /// The key for one purpose; another purpose's sealed bytes do not open.
    pub fn derive(secret: &ServerSecret, purpose: &str) -> Self {
        Self(secret.derive(purpose))
    }

    pub fn seal(&self, aad: &[u8], message: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = XChaCha20Poly1305::new(self.0.as_ref().into())
            .encrypt(<&XNonce>::from(&nonce), Payload { msg: message, aad })
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 seals any short message"));
        [nonce.as_slice(), &sealed].concat()
    }

    /// `None` if the bytes were not sealed by this key for `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN)?;
        XChaCha20Poly1305::new(self.0.as_ref().into())
            .decrypt(<&XNonce>::from(nonce), Payload { msg: body, aad })
            .ok()
            .map(Zeroizing::new)
    }
}

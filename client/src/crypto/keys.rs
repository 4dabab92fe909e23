//! The key hierarchy: master key, the two keys split from it, and the vault
//! key they protect.

use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use super::CryptoError;
use super::kdf::{KdfParams, argon2id};
use super::secret::{KEY_LEN, KeyBytes};
use super::secret_key::MasterSecret;

/// HKDF `info` strings. Distinct labels make the two outputs independent
/// keys: knowing the auth key (as the server does) says nothing about the
/// key-encryption key.
const AUTH_KEY_INFO: &[u8] = b"gophkeeper/v1/auth-key";
const KEK_INFO: &[u8] = b"gophkeeper/v1/kek";
/// The key that wraps the vault key on the server, from OPAQUE's export
/// key.
const OPAQUE_KEK_INFO: &[u8] = b"gophkeeper/v2/opaque-kek";

/// Argon2id of the master password: this device's own key, for the
/// profile's copy of the vault key (offline unlock) and, for an account
/// not yet moved to OPAQUE, the legacy [`AuthKey`].
#[derive(ZeroizeOnDrop)]
pub struct MasterKey(KeyBytes);

/// What a legacy account (from before OPAQUE) sends instead of the
/// password, once more, to log in and move to OPAQUE. The server stores
/// only a slow hash of it, and it cannot be turned back into the master key.
#[derive(ZeroizeOnDrop)]
pub struct AuthKey(KeyBytes);

/// Wraps the vault key. Never leaves the client.
#[derive(ZeroizeOnDrop)]
pub struct KeyEncryptionKey(KeyBytes);

/// The random key that encrypts every record of one user.
///
/// Not `Clone`, so that the number of copies in memory stays visible (the
/// check below runs with the `internals` feature, which the crate's own
/// tests turn on, so it fails for that reason alone):
///
/// ```compile_fail
/// use gophkeeper_client::internals::VaultKey;
/// fn copy(key: &VaultKey) -> VaultKey {
///     key.clone()
/// }
/// ```
#[derive(ZeroizeOnDrop)]
pub struct VaultKey(pub(crate) KeyBytes);

impl MasterKey {
    /// Stretches the password with Argon2id after checking `params`, so a
    /// server cannot downgrade the KDF.
    ///
    /// The password is NFC-normalised first, so that the same password typed
    /// on systems that compose accented letters differently (macOS vs. Linux
    /// keyboards) gives the same key.
    pub fn derive(password: &SecretString, params: &KdfParams) -> Result<Self, CryptoError> {
        Self::derive_secret(&MasterSecret::new(password.clone(), None), params)
    }

    /// As [`MasterKey::derive`], with the account's Secret Key mixed in
    /// first if `params` say the account has one (which `secret` must then
    /// hold).
    pub fn derive_secret(secret: &MasterSecret, params: &KdfParams) -> Result<Self, CryptoError> {
        Self::derive_from_bytes(&secret.input(params.secret_key)?, params)
    }

    /// As [`MasterKey::derive`], for a password that is already bytes. No
    /// normalisation is applied.
    pub fn derive_from_bytes(password: &[u8], params: &KdfParams) -> Result<Self, CryptoError> {
        params.validate()?;
        let mut key = KeyBytes::zeroed();
        argon2id(
            password,
            &params.argon2_salt(),
            (params.memory_kib, params.iterations, params.parallelism),
            None,
            &[],
            key.as_mut(),
        )
        .map_err(CryptoError::Kdf)?;
        Ok(Self(key))
    }

    pub fn auth_key(&self) -> AuthKey {
        AuthKey(expand(&self.0, AUTH_KEY_INFO))
    }

    pub fn key_encryption_key(&self) -> KeyEncryptionKey {
        KeyEncryptionKey(expand(&self.0, KEK_INFO))
    }

    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let mut key = KeyBytes::zeroed();
        *key.as_mut() = bytes;
        Self(key)
    }
}

impl AuthKey {
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        self.0.as_bytes()
    }
}

/// The password NFC-normalised, as both Argon2id and OPAQUE take it.
pub(super) fn normalized(password: &SecretString) -> Zeroizing<String> {
    let password = password.expose_secret();
    // NFC grows a string at most threefold; reserving that up front means
    // no reallocation leaves an unwiped copy of the password behind.
    let mut normalized = Zeroizing::new(String::with_capacity(password.len() * 3));
    normalized.extend(password.nfc());
    normalized
}

impl KeyEncryptionKey {
    /// The server-side wrapping key of an OPAQUE account.
    pub(super) fn from_export_key(export_key: &[u8]) -> Self {
        let mut out = KeyBytes::zeroed();
        #[expect(
            clippy::expect_used,
            reason = "32 bytes is far below HKDF-SHA256's 8160-byte output limit"
        )]
        hkdf_sha256(export_key, None, OPAQUE_KEK_INFO, out.as_mut())
            .expect("32-byte HKDF output is always allowed");
        Self(out)
    }

    pub(super) fn bytes(&self) -> &KeyBytes {
        &self.0
    }
}

impl VaultKey {
    /// A fresh random 256-bit key, made once per account at registration.
    pub fn generate() -> Self {
        Self(KeyBytes::random())
    }

    /// A second copy, for a new keyring that keeps this key as an older
    /// epoch (the one place a vault key is copied).
    pub(super) fn duplicate(&self) -> Self {
        let mut key = KeyBytes::zeroed();
        key.as_mut().copy_from_slice(self.0.as_bytes());
        Self(key)
    }
}

/// HKDF-SHA256 with no salt: the input is already a uniformly random
/// Argon2 output, so HKDF's extract step needs none (RFC 5869 §3.1).
fn expand(master: &KeyBytes, info: &[u8]) -> KeyBytes {
    let mut out = KeyBytes::zeroed();
    #[expect(
        clippy::expect_used,
        reason = "32 bytes is far below HKDF-SHA256's 8160-byte output limit"
    )]
    hkdf_sha256(master.as_bytes(), None, info, out.as_mut())
        .expect("32-byte HKDF output is always allowed");
    out
}

/// HKDF-SHA256 extract-and-expand (RFC 5869).
pub(crate) fn hkdf_sha256(
    ikm: &[u8],
    salt: Option<&[u8]>,
    info: &[u8],
    okm: &mut [u8],
) -> Result<(), hkdf::InvalidLength> {
    Hkdf::<Sha256>::new(salt, ikm).expand(info, okm)
}

redacted_debug!(MasterKey, AuthKey, KeyEncryptionKey, VaultKey);

#[cfg(test)]
mod tests {
    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; KEY_LEN])
    }

    #[test]
    fn split_keys_are_distinct_and_deterministic() {
        let m = master(1);
        let auth = m.auth_key();
        let kek = m.key_encryption_key();
        assert_ne!(auth.as_bytes(), kek.0.as_bytes());
        assert_ne!(auth.as_bytes(), m.0.as_bytes());
        assert_eq!(auth.as_bytes(), master(1).auth_key().as_bytes());
        assert_ne!(auth.as_bytes(), master(2).auth_key().as_bytes());
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let m = master(0xAB);
        assert_eq!(format!("{m:?}"), "MasterKey(<redacted>)");
        assert_eq!(format!("{:?}", m.auth_key()), "AuthKey(<redacted>)");
        assert_eq!(
            format!("{:?}", m.key_encryption_key()),
            "KeyEncryptionKey(<redacted>)"
        );
        assert_eq!(
            format!("{:?}", VaultKey::generate()),
            "VaultKey(<redacted>)"
        );
    }

    #[test]
    fn key_types_zeroize_on_drop() {
        fn assert_zod<T: ZeroizeOnDrop>() {}
        assert_zod::<MasterKey>();
        assert_zod::<AuthKey>();
        assert_zod::<KeyEncryptionKey>();
        assert_zod::<VaultKey>();
    }
}

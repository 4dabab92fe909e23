//! Client-side cryptography: the server never holds a key that can read a
//! record.
//!
//! ```text
//! password ──OPAQUE (RFC 9807, Argon2id(KdfParams) inside)──▶ export key   (needs the server)
//! export key ──HKDF "gophkeeper/v2/opaque-kek"──▶ server KeyEncryptionKey
//! password ──Argon2id(KdfParams, user-bound salt)──▶ MasterKey              (this device alone)
//! MasterKey ──HKDF "gophkeeper/v1/kek"──────▶ local KeyEncryptionKey        (offline unlock)
//! MasterKey ──HKDF "gophkeeper/v1/auth-key"──▶ AuthKey                      (legacy accounts only)
//! KeyEncryptionKey ──wrap──▶ VaultKeys (random; a new epoch at each rotation, older ones kept)
//! VaultKeys (the header's epoch) ──seal_record(RecordAad)──▶ record ciphertext
//! ```
//!
//! The vault key is random rather than derived so that a password change only
//! re-wraps it: no record has to be re-encrypted.
//!
//! Every ciphertext is XChaCha20-Poly1305 with a random 192-bit nonce, laid
//! out as `version (1) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`. The 192-bit nonce
//! is why XChaCha rather than ChaCha: random nonces that long never collide in
//! practice, so no device has to keep a nonce counter in sync with another.

/// `Debug` that names the type and prints `<redacted>` for key material.
macro_rules! redacted_debug {
    ($($name:ident),*) => {$(
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    )*};
}

mod aead;
mod fingerprint;
mod kdf;
mod keyring;
mod keys;
mod local;
mod opaque;
mod plaintext;
mod record;
mod secret;
mod secret_key;

#[cfg(test)]
mod vectors;

pub use fingerprint::FingerprintEntry;
pub use kdf::{KdfParams, SALT_LEN, SaltBinding};
pub use keyring::VaultKeys;
pub use keys::{AuthKey, KeyEncryptionKey, MasterKey, VaultKey};
pub use local::LocalKey;
pub use opaque::{OpaqueError, OpaqueFinish, OpaqueLogin, OpaqueRegistration};
pub use plaintext::Plaintext;
pub(crate) use plaintext::{wipe_bytes, wipe_string};
pub(crate) use record::RECORD_FORMAT_V2;
#[cfg(any(test, feature = "internals"))]
pub use record::SEAL_OVERHEAD;
pub use record::{OpenedRecord, RecordAad, RecordHeader, VAULT_SUMMARY_KIND, sealed_len};
pub use secret_key::{MasterSecret, SecretKey};

/// What can go wrong in key derivation and decryption.
///
/// No variant ever carries key or plaintext bytes.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The KDF parameters (normally from the server's prelogin answer) are
    /// below the floor. Refused so that a malicious server cannot make the
    /// password cheap to brute-force by asking for weak parameters.
    #[error(
        "refusing KDF parameters: {parameter} is {value}, below the minimum of {minimum} \
         (weaker settings would make the password easy to guess)"
    )]
    KdfTooWeak {
        parameter: &'static str,
        value: u32,
        minimum: u32,
    },
    /// The KDF parameters are absurdly high. Refused so that a server cannot
    /// make the client exhaust its memory or spin for hours.
    #[error("refusing KDF parameters: {parameter} is {value}, above the maximum of {maximum}")]
    KdfTooExpensive {
        parameter: &'static str,
        value: u32,
        maximum: u32,
    },
    /// The KDF parameters are cheaper than what this device already used
    /// for the account: a server lowering them to make the password
    /// cheaper to guess.
    #[error(
        "refusing KDF parameters: {parameter} is {value}, lower than the {known} this device \
         already used for this account (a server lowering them makes the password cheaper to \
         guess; if you changed them on purpose, log in with a new profile directory)"
    )]
    KdfLowered {
        parameter: &'static str,
        value: u32,
        known: u32,
    },
    /// The server asks for a salt of its own choosing again, for an
    /// account whose salt this device knows bound to the user name.
    #[error(
        "refusing KDF parameters: the server asks for an unbound salt for an account this \
         device knows with a salt bound to its user name (a server doing so could test one \
         guess against many accounts at once)"
    )]
    SaltUnbound,
    /// The server answers for an account this device knows with a Secret
    /// Key as if it had none.
    #[error(
        "refusing KDF parameters: the server says this account has no Secret Key, but this \
         device knows it has one (what a server asking this way would see could be guessed \
         against without the Secret Key)"
    )]
    SecretKeyDropped,
    /// The account has a Secret Key and none is at hand.
    #[error(
        "this account has a Secret Key and this device does not know it; give it (from the \
         emergency kit) with GOPHKEEPER_SECRET_KEY or when asked"
    )]
    SecretKeyNeeded,
    /// A Secret Key that fails its check: a typo, not a wrong key.
    #[error(
        "that is not a Secret Key as the emergency kit writes it (GK- and seven groups of four \
         characters); check it for a typo"
    )]
    SecretKeyMistyped,
    /// The server named a KDF this client does not implement.
    #[error(
        "unsupported KDF algorithm {algorithm:?}; this client knows \"argon2id\", \
         \"argon2id-user-salt\" and \"argon2id-user-salt+secret-key\""
    )]
    UnsupportedKdf { algorithm: String },
    /// The salt from the server has the wrong length.
    #[error("KDF salt is {len} bytes; expected 16")]
    BadSalt { len: usize },
    /// Argon2 itself failed; with validated parameters this means a bug or
    /// an allocation failure.
    #[error("key derivation failed")]
    Kdf(#[source] argon2::Error),
    /// Wrong key, or the data was altered, truncated, or moved to another
    /// record. Deliberately one opaque case: telling these apart would hand
    /// an attacker an oracle.
    #[error("decryption failed: wrong key, or the data was altered")]
    DecryptionFailed,
    /// The account has had as many vault keys as its wrapped copy holds.
    #[error("this account's vault key was rotated {maximum} times, the most it can be")]
    TooManyKeyEpochs { maximum: u32 },
}

//! The encrypted backup that `export` writes and `import --format
//! gophkeeper` reads: every item sealed under a key that only the password
//! opens, in a versioned JSON envelope.
//!
//! ```text
//! password ──Argon2id(fresh salt; m=64 MiB, t=3, p=4)──▶ master ──HKDF──▶ KEK
//! KEK ──wraps──▶ random export key ──HKDF──▶ sealing key
//! sealing key ──XChaCha20-Poly1305, AAD "export/v1"──▶ items
//! ```
//!
//! Built only from the client library's primitives (the same ones that
//! protect the vault), so this file holds no cipher of its own. A fresh
//! salt and key per file mean two exports share nothing; the envelope's
//! parameters are authenticated indirectly (change any and the key does not
//! unwrap). The sealed payload is `count ‖ (len ‖ item)*` with big-endian
//! u32s and each item in the vault's own versioned encoding.

use crate::crypto::{KdfParams, LocalKey, MasterKey, SALT_LEN, SaltBinding, VaultKey, VaultKeys};
use crate::item::Item;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub const FORMAT: &str = "gophkeeper-export";
pub const VERSION: u32 = 1;
const PURPOSE: &str = "export/v1";
/// A backup may ask for more memory than the floor, but not enough to
/// take a machine down: 1 GiB.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not a GophKeeper export file")]
    NotAnExport,
    #[error("export format version {0} is newer than this client (it reads version 1)")]
    UnsupportedVersion(u32),
    #[error("wrong password for this export file (it is the master password it was made with)")]
    WrongPassword,
    #[error("the export file is damaged: {0}")]
    Corrupt(&'static str),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    kdf: Kdf,
    /// The export key under the key-encryption key, base64.
    wrapped_key: String,
    /// The items, base64.
    sealed: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    algorithm: String,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

/// Seals `items` under `password`. Takes a fraction of a second (Argon2id):
/// call it off the async workers.
pub fn seal(items: &[Item], password: &SecretString) -> Result<Vec<u8>, BackupError> {
    let kdf = KdfParams::generate_default();
    let master = MasterKey::derive(password, &kdf)?;
    // Wrapped as a vault key of one epoch: the first format, as before.
    let export_key = VaultKeys::first(VaultKey::generate());
    let wrapped = master.key_encryption_key().wrap(&export_key);
    let plaintext = encode_items(items)?;
    let sealed = LocalKey::derive(export_key.current()).seal(PURPOSE, &plaintext);
    let envelope = Envelope {
        format: FORMAT.into(),
        version: VERSION,
        kdf: Kdf {
            algorithm: "argon2id".into(),
            memory_kib: kdf.memory_kib,
            iterations: kdf.iterations,
            parallelism: kdf.parallelism,
            salt: STANDARD.encode(kdf.salt),
        },
        wrapped_key: STANDARD.encode(wrapped),
        sealed: STANDARD.encode(sealed),
    };
    let mut bytes = serde_json::to_vec_pretty(&envelope)
        .map_err(|_| BackupError::Corrupt("cannot encode the envelope"))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Opens a file made by [`seal`]. Everything before the key derivation is
/// checked first, so garbage is refused without spending Argon2id on it.
pub fn open(bytes: &[u8], password: &SecretString) -> Result<Vec<Item>, BackupError> {
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(|_| BackupError::NotAnExport)?;
    if envelope.format != FORMAT {
        return Err(BackupError::NotAnExport);
    }
    if envelope.version != VERSION {
        return Err(BackupError::UnsupportedVersion(envelope.version));
    }
    if envelope.kdf.algorithm != "argon2id" || envelope.kdf.memory_kib > MAX_MEMORY_KIB {
        return Err(BackupError::Corrupt(
            "unacceptable key-derivation parameters",
        ));
    }
    let salt = STANDARD
        .decode(&envelope.kdf.salt)
        .ok()
        .and_then(|s| <[u8; SALT_LEN]>::try_from(s.as_slice()).ok())
        .ok_or(BackupError::Corrupt("bad salt"))?;
    let wrapped = STANDARD
        .decode(&envelope.wrapped_key)
        .map_err(|_| BackupError::Corrupt("bad wrapped key"))?;
    let sealed = STANDARD
        .decode(&envelope.sealed)
        .map_err(|_| BackupError::Corrupt("bad payload encoding"))?;
    let kdf = KdfParams {
        memory_kib: envelope.kdf.memory_kib,
        iterations: envelope.kdf.iterations,
        parallelism: envelope.kdf.parallelism,
        salt,
        // The export's own random salt: nobody else chose it.
        binding: SaltBinding::Unbound,
        // An export file takes its own password alone.
        secret_key: false,
    };
    kdf.validate()?;
    let master = MasterKey::derive(password, &kdf)?;
    let export_key = master
        .key_encryption_key()
        .unwrap(&wrapped)
        .map_err(|_| BackupError::WrongPassword)?;
    let plaintext = LocalKey::derive(export_key.current())
        .open(PURPOSE, &sealed)
        .map_err(|_| BackupError::Corrupt("the payload does not authenticate"))?;
    decode_items(&plaintext)
}

fn encode_items(items: &[Item]) -> Result<Zeroizing<Vec<u8>>, BackupError> {
    let too_many = || BackupError::Corrupt("too many or too large items");
    let mut out = Zeroizing::new(Vec::new());
    out.extend_from_slice(
        &u32::try_from(items.len())
            .map_err(|_| too_many())?
            .to_be_bytes(),
    );
    for item in items {
        let encoded = item.encode();
        out.extend_from_slice(
            &u32::try_from(encoded.len())
                .map_err(|_| too_many())?
                .to_be_bytes(),
        );
        out.extend_from_slice(&encoded);
    }
    Ok(out)
}

fn decode_items(mut bytes: &[u8]) -> Result<Vec<Item>, BackupError> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], BackupError> {
        if bytes.len() < n {
            return Err(BackupError::Corrupt("the payload is truncated"));
        }
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        Ok(head)
    }
    fn length(bytes: &mut &[u8]) -> Result<usize, BackupError> {
        let raw = take(bytes, 4)?;
        let value = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        usize::try_from(value).map_err(|_| BackupError::Corrupt("a length overflows"))
    }
    let count = length(&mut bytes)?;
    // Each item takes at least its 4-byte length: a count larger than that
    // is a lie, refused before allocating for it.
    if count > bytes.len() / 4 {
        return Err(BackupError::Corrupt(
            "the item count does not match the payload",
        ));
    }
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let len = length(&mut bytes)?;
        let encoded = take(&mut bytes, len)?;
        items.push(
            Item::decode(encoded).map_err(|_| BackupError::Corrupt("an item does not decode"))?,
        );
    }
    if !bytes.is_empty() {
        return Err(BackupError::Corrupt("trailing bytes after the items"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests;

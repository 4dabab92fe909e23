//! The optional Secret Key (docs/design.md, "Secret Key"): 128 random
//! bits of the account, kept on each device and on the person's emergency
//! kit, never sent. Mixed into the password before both Argon2id and
//! OPAQUE, it makes every offline guess need the key as well: a copy of
//! the server (with its secrets) or of a laptop without the key holds
//! nothing a password guess can be tested against.
//!
//! Text form, for the kit and for typing on a new device:
//! `GK-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`, 28 characters of Crockford
//! base32 over the 16 key bytes and one check byte. Reading ignores case,
//! spaces and dashes, and takes O for 0 and I or L for 1; a typo fails the
//! check byte (255 in 256 do) and is reported as a typo, not as a wrong
//! password.

use hkdf::Hkdf;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::CryptoError;
use super::keys::normalized;
use super::secret::Locked;

/// Length of the key: 128 bits.
const SECRET_KEY_LEN: usize = 16;
const PREFIX: &str = "GK";
/// Key bytes plus the check byte.
const PACKED_LEN: usize = SECRET_KEY_LEN + 1;
/// 136 bits in 5-bit characters, the last one padded with 4 zero bits.
const TEXT_CHARS: usize = 28;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Separates the check byte's hash from any other use of SHA-256.
const CHECK_LABEL: &[u8] = b"gophkeeper/v2/secret-key-check";
/// HKDF `info` of the mixed password.
const MIX_INFO: &[u8] = b"gophkeeper/v2/secret-key-mix";

/// An account's Secret Key. On a locked page, wiped when dropped; `Debug`
/// hides it.
#[derive(Clone)]
pub struct SecretKey(Locked<SECRET_KEY_LEN>);

redacted_debug!(SecretKey);

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        // Both sides are the person's own keys; no timing secret to keep.
        self.0.as_bytes() == other.0.as_bytes()
    }
}

impl Eq for SecretKey {}

fn check_byte(key: &[u8; SECRET_KEY_LEN]) -> u8 {
    let mut hash = Sha256::new();
    hash.update(CHECK_LABEL);
    hash.update(key);
    hash.finalize()[0]
}

impl SecretKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(Locked::random())
    }

    /// The kit's form: `GK-` and seven groups of four characters.
    pub fn to_text(&self) -> SecretString {
        let mut packed = Zeroizing::new([0u8; PACKED_LEN]);
        packed[..SECRET_KEY_LEN].copy_from_slice(self.0.as_bytes());
        packed[SECRET_KEY_LEN] = check_byte(self.0.as_bytes());
        let mut text = Zeroizing::new(String::with_capacity(PREFIX.len() + TEXT_CHARS + 7));
        text.push_str(PREFIX);
        for index in 0..TEXT_CHARS {
            if index % 4 == 0 {
                text.push('-');
            }
            text.push(char::from(ALPHABET[usize::from(five_bits(&packed, index))]));
        }
        SecretString::from(text.as_str())
    }

    /// Reads the kit's form back, forgiving what people mistype harmlessly.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let mut chars = Zeroizing::new(Vec::with_capacity(TEXT_CHARS + 2));
        for c in text.chars() {
            match c.to_ascii_uppercase() {
                '-' | ' ' | '\t' => {}
                'O' => chars.push(0),
                'I' | 'L' => chars.push(1),
                upper => {
                    let value = ALPHABET
                        .iter()
                        .position(|&a| char::from(a) == upper)
                        .ok_or(CryptoError::SecretKeyMistyped)?;
                    chars.push(value as u8);
                }
            }
        }
        // The prefix reads as two characters of the alphabet: G and K.
        let body = match chars.as_slice() {
            [16, 19, body @ ..] => body,
            _ => return Err(CryptoError::SecretKeyMistyped),
        };
        if body.len() != TEXT_CHARS {
            return Err(CryptoError::SecretKeyMistyped);
        }
        let mut packed = Zeroizing::new([0u8; PACKED_LEN]);
        let mut bits = 0usize;
        for &value in body {
            for shift in (0..5).rev() {
                let bit = (value >> shift) & 1;
                if bits < PACKED_LEN * 8 {
                    packed[bits / 8] |= bit << (7 - bits % 8);
                } else if bit != 0 {
                    // The padding must be zero, as written.
                    return Err(CryptoError::SecretKeyMistyped);
                }
                bits += 1;
            }
        }
        let mut key = Locked::zeroed();
        key.as_mut().copy_from_slice(&packed[..SECRET_KEY_LEN]);
        let key = Self(key);
        if check_byte(key.0.as_bytes()) != packed[SECRET_KEY_LEN] {
            return Err(CryptoError::SecretKeyMistyped);
        }
        Ok(key)
    }

    /// What Argon2id and OPAQUE take instead of the password alone:
    /// HKDF-SHA256 with the key as salt and the NFC password as input.
    /// Without the key, no guess of the password gives these bytes.
    pub(super) fn mix(&self, password: &SecretString) -> Zeroizing<Vec<u8>> {
        let hkdf = Hkdf::<Sha256>::new(
            Some(self.0.as_bytes().as_slice()),
            normalized(password).as_bytes(),
        );
        let mut out = Zeroizing::new(vec![0; 32]);
        #[expect(
            clippy::expect_used,
            reason = "32 bytes is far below HKDF-SHA256's 8160-byte output limit"
        )]
        hkdf.expand(MIX_INFO, &mut out)
            .expect("32-byte HKDF output is always allowed");
        out
    }
}

/// Bits `5 * index ..` of `packed`, zero past its end.
fn five_bits(packed: &[u8; PACKED_LEN], index: usize) -> u8 {
    let mut value = 0;
    for bit in index * 5..index * 5 + 5 {
        let set = packed
            .get(bit / 8)
            .map_or(0, |byte| (byte >> (7 - bit % 8)) & 1);
        value = value << 1 | set;
    }
    value
}

/// The master password and, for an account that has one, its Secret Key:
/// what a person knows and what their devices keep.
#[derive(Clone)]
pub struct MasterSecret {
    password: SecretString,
    secret_key: Option<SecretKey>,
}

redacted_debug!(MasterSecret);

impl MasterSecret {
    pub fn new(password: SecretString, secret_key: Option<SecretKey>) -> Self {
        Self {
            password,
            secret_key,
        }
    }

    pub fn secret_key(&self) -> Option<&SecretKey> {
        self.secret_key.as_ref()
    }

    /// The same Secret Key with `password` instead.
    pub fn with_password(&self, password: SecretString) -> Self {
        Self::new(password, self.secret_key.clone())
    }

    /// The same password with `secret_key` instead.
    pub fn with_secret_key(&self, secret_key: Option<SecretKey>) -> Self {
        Self::new(self.password.clone(), secret_key)
    }

    /// The bytes Argon2id and OPAQUE take: for an account with a Secret
    /// Key the mixed password (which needs the key), else the NFC password.
    pub(super) fn input(&self, uses_secret_key: bool) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if !uses_secret_key {
            return Ok(Zeroizing::new(
                normalized(&self.password).as_bytes().to_vec(),
            ));
        }
        let key = self
            .secret_key
            .as_ref()
            .ok_or(CryptoError::SecretKeyNeeded)?;
        Ok(key.mix(&self.password))
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn the_text_form_reads_back_and_looks_as_documented() {
        for _ in 0..64 {
            let key = SecretKey::generate();
            let text = key.to_text();
            let text = text.expose_secret();
            assert_eq!(text.len(), 3 + 7 * 5 - 1, "{text}");
            assert!(text.starts_with("GK-"));
            assert!(text.split('-').skip(1).all(|group| group.len() == 4));
            assert_eq!(SecretKey::parse(text).unwrap(), key);
            // What people do to a key they copy by hand.
            let sloppy = text.to_lowercase().replace('-', " ");
            assert_eq!(SecretKey::parse(&sloppy).unwrap(), key);
            let ambiguous = text.replace('0', "O").replace('1', "l");
            assert_eq!(SecretKey::parse(&ambiguous).unwrap(), key);
        }
    }

    #[test]
    fn a_typo_is_caught_as_a_typo() {
        let key = SecretKey::generate();
        let text = key.to_text().expose_secret().to_owned();
        let mut caught = 0;
        // Every single-character change of the body.
        let positions: Vec<usize> = text
            .char_indices()
            .filter(|&(i, c)| i > 2 && c != '-')
            .map(|(i, _)| i)
            .collect();
        let mut tried = 0;
        for &position in &positions {
            let original = text.as_bytes()[position];
            for &replacement in ALPHABET {
                if replacement == original {
                    continue;
                }
                let mut typo = text.clone().into_bytes();
                typo[position] = replacement;
                tried += 1;
                match SecretKey::parse(std::str::from_utf8(&typo).unwrap()) {
                    Err(CryptoError::SecretKeyMistyped) => caught += 1,
                    Ok(other) => assert_ne!(other, key),
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
        }
        // One check byte: about 1 in 256 typos slip through; never more
        // than a few percent.
        assert!(caught * 100 >= tried * 97, "{caught} of {tried}");
        for bad in [
            "",
            "GK",
            "XX-0000-0000-0000-0000-0000-0000-0000",
            "GK-0000-0000-0000-0000-0000-0000-000",
            "GK-0000-0000-0000-0000-0000-0000-0000-0",
            "GK-0000-0000-0000-0000-0000-0000-000U",
            "GK-0000-0000-0000-0000-0000-0000-000!",
        ] {
            assert!(
                matches!(SecretKey::parse(bad), Err(CryptoError::SecretKeyMistyped)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_mixed_input_needs_the_key_and_depends_on_both_secrets() {
        let password = SecretString::from("correct horse battery staple");
        let key = SecretKey::generate();
        let with = MasterSecret::new(password.clone(), Some(key.clone()));
        let without = MasterSecret::new(password.clone(), None);
        assert!(matches!(
            without.input(true),
            Err(CryptoError::SecretKeyNeeded)
        ));
        let plain = without.input(false).unwrap();
        assert_eq!(plain.as_slice(), password.expose_secret().as_bytes());
        // An account without a key ignores one the device holds.
        assert_eq!(with.input(false).unwrap().as_slice(), plain.as_slice());
        let mixed = with.input(true).unwrap();
        assert_eq!(mixed.len(), 32);
        assert_ne!(mixed.as_slice(), plain.as_slice());
        let other_key = with.with_secret_key(Some(SecretKey::generate()));
        assert_ne!(other_key.input(true).unwrap(), mixed);
        let other_password = MasterSecret::new(
            SecretString::from("correct horse battery stable"),
            Some(key),
        );
        assert_ne!(other_password.input(true).unwrap(), mixed);
        assert_eq!(format!("{with:?}"), "MasterSecret(<redacted>)");
        assert_eq!(
            format!("{:?}", with.secret_key().unwrap()),
            "SecretKey(<redacted>)"
        );
    }
}

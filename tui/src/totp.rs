//! Time-based one-time passwords (RFC 6238) from a login's TOTP secret.
//!
//! The secret comes as people paste it: a bare base32 string (spaces,
//! hyphens, lower case and `=` padding tolerated) or an `otpauth://totp/`
//! URI from a QR code, whose `algorithm`, `digits` and `period` are honoured.
//! Defaults are the ones nearly every site uses: SHA-1, 6 digits, 30 s.

use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

/// Why a TOTP secret cannot be used. Never repeats the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("the TOTP secret is empty")]
    Empty,
    #[error("the TOTP secret is not base32 (letters A-Z and digits 2-7)")]
    NotBase32,
    #[error("the otpauth URI is malformed")]
    BadUri,
    #[error("only time-based (otpauth://totp/) codes are supported, not {0:?}")]
    NotTotp(String),
    #[error("the otpauth URI has no secret")]
    MissingSecret,
    #[error("unsupported TOTP {name} {value:?}")]
    BadParameter { name: &'static str, value: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }
}

/// A parsed TOTP secret with its parameters. The key is wiped on drop and
/// `Debug` hides it.
#[derive(Clone)]
pub struct Totp {
    key: Zeroizing<Vec<u8>>,
    pub algorithm: Algorithm,
    pub digits: u32,
    pub period: u64,
}

impl std::fmt::Debug for Totp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totp")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// One code and how long it stays valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    pub remaining_seconds: u64,
}

impl Totp {
    pub fn parse(input: &str) -> Result<Self, TotpError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(TotpError::Empty);
        }
        // `get` rather than `[..10]`: a multi-byte character may straddle byte 10.
        if input
            .get(..10)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth://"))
        {
            return Self::parse_uri(input);
        }
        Self::from_key(base32_decode(input)?)
    }

    fn from_key(key: Zeroizing<Vec<u8>>) -> Result<Self, TotpError> {
        if key.is_empty() {
            return Err(TotpError::Empty);
        }
        Ok(Self {
            key,
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
        })
    }

    fn parse_uri(input: &str) -> Result<Self, TotpError> {
        let uri = url::Url::parse(input).map_err(|_| TotpError::BadUri)?;
        let kind = uri.host_str().unwrap_or_default().to_ascii_lowercase();
        if kind != "totp" {
            return Err(TotpError::NotTotp(kind.chars().take(16).collect()));
        }
        let mut secret = None;
        let (mut algorithm, mut digits, mut period) = (Algorithm::Sha1, 6, 30);
        for (name, value) in uri.query_pairs() {
            let bad = |name| TotpError::BadParameter {
                name,
                value: value.chars().take(16).collect(),
            };
            match name.to_ascii_lowercase().as_str() {
                "secret" => secret = Some(base32_decode(&value)?),
                "algorithm" => {
                    algorithm = match value.to_ascii_uppercase().as_str() {
                        "SHA1" => Algorithm::Sha1,
                        "SHA256" => Algorithm::Sha256,
                        "SHA512" => Algorithm::Sha512,
                        _ => return Err(bad("algorithm")),
                    }
                }
                "digits" => {
                    digits = value
                        .parse()
                        .ok()
                        .filter(|d| (6..=10).contains(d))
                        .ok_or_else(|| bad("digits"))?;
                }
                "period" => {
                    period = value
                        .parse()
                        .ok()
                        .filter(|p| (1..=86_400).contains(p))
                        .ok_or_else(|| bad("period"))?;
                }
                _ => {}
            }
        }
        let mut totp = Self::from_key(secret.ok_or(TotpError::MissingSecret)?)?;
        totp.algorithm = algorithm;
        totp.digits = digits;
        totp.period = period;
        Ok(totp)
    }

    /// The code for Unix time `unix_seconds`.
    pub fn at(&self, unix_seconds: u64) -> Code {
        let counter = unix_seconds / self.period;
        let digest = self.hmac(&counter.to_be_bytes());
        // RFC 4226 §5.3 dynamic truncation.
        let offset = usize::from(digest[digest.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        let modulus = 10_u64.pow(self.digits);
        let value = u64::from(binary) % modulus;
        Code {
            code: format!("{value:0width$}", width = self.digits as usize),
            remaining_seconds: self.period - unix_seconds % self.period,
        }
    }

    /// The code for the current time.
    pub fn now(&self) -> Code {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.at(secs)
    }

    fn hmac(&self, message: &[u8]) -> Zeroizing<Vec<u8>> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Zeroizing<Vec<u8>> {
            // HMAC takes keys of any length, so this cannot fail.
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
            mac.update(message);
            Zeroizing::new(mac.finalize().into_bytes().to_vec())
        }
        match self.algorithm {
            Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(&self.key, message),
            Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(&self.key, message),
            Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(&self.key, message),
        }
    }
}

/// RFC 4648 base32, leniently: case, spaces, hyphens and padding ignored,
/// and unused trailing bits allowed (some sites emit them).
fn base32_decode(input: &str) -> Result<Zeroizing<Vec<u8>>, TotpError> {
    let mut out = Zeroizing::new(Vec::with_capacity(input.len() * 5 / 8));
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for c in input.chars() {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            ' ' | '-' | '=' | '\t' => continue,
            _ => return Err(TotpError::NotBase32),
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

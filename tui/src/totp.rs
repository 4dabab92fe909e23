//! Time-based one-time passwords (RFC 6238) from a login's TOTP secret.
//!
//! The codes, the base32 decoding and the `otpauth://` parsing are
//! `totp-rs`'s, the crate the server's two-factor login uses too
//! (docs/decisions.md, "Dates and TOTP"). What this module adds is
//! leniency: the secret comes as people paste it, a bare base32 string
//! (spaces, hyphens, lower case and `=` padding tolerated) or an
//! `otpauth://totp/` URI from a QR code whose parameter names and values
//! may be in any case. [`normalize_uri`] rewrites that into the canonical
//! form `totp-rs` reads. Defaults are the ones nearly every site uses:
//! SHA-1, 6 digits, 30 s.

use totp_rs::Secret;
use zeroize::Zeroizing;

/// Code lengths accepted. `totp-rs` builds a code in a `u32`, so 10 digits
/// cannot be represented; RFC 4226 asks for 6 to 8.
const DIGITS: std::ops::RangeInclusive<u32> = 6..=9;
/// Periods accepted, in seconds: anything from a second to a day.
const PERIODS: std::ops::RangeInclusive<u64> = 1..=86_400;

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

/// A parsed TOTP secret with its parameters. The key is wiped on drop
/// (`totp-rs`'s `zeroize` feature) and `Debug` hides it.
#[derive(Clone)]
pub struct Totp {
    inner: totp_rs::Totp,
    algorithm: Algorithm,
}

impl std::fmt::Debug for Totp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totp")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits())
            .field("period", &self.period())
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
        let inner = if input
            .get(..10)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth://"))
        {
            let uri = normalize_uri(input)?;
            // Unchecked: `totp-rs`'s checked build refuses keys under 128
            // bits, and many sites hand out 80-bit ones. Digits and period
            // were checked by `normalize_uri`.
            totp_rs::Totp::from_url_unchecked(uri.as_str()).map_err(from_crate)?
        } else {
            totp_rs::Builder::new()
                .with_secret(decode_secret(input)?)
                .build_noncompliant()
        };
        Self::new(inner)
    }

    fn new(inner: totp_rs::Totp) -> Result<Self, TotpError> {
        if inner.secret().is_empty() {
            return Err(TotpError::Empty);
        }
        let algorithm = match inner.algorithm() {
            totp_rs::Algorithm::SHA1 => Algorithm::Sha1,
            totp_rs::Algorithm::SHA256 => Algorithm::Sha256,
            totp_rs::Algorithm::SHA512 => Algorithm::Sha512,
            other => {
                return Err(TotpError::BadParameter {
                    name: "algorithm",
                    value: other.to_string(),
                });
            }
        };
        Ok(Self { inner, algorithm })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn digits(&self) -> u32 {
        u32::from(self.inner.digits())
    }

    /// Seconds each code lasts.
    pub fn period(&self) -> u64 {
        self.inner.step()
    }

    /// The service that issued the secret, when the URI names one.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer()
    }

    /// The code for Unix time `unix_seconds`.
    pub fn at(&self, unix_seconds: u64) -> Code {
        Code {
            code: self.inner.generate(unix_seconds).to_string(),
            remaining_seconds: self.period() - unix_seconds % self.period(),
        }
    }

    /// The code for the current time. Not `totp-rs`'s `generate_current`,
    /// which panics on a clock set before 1970.
    pub fn now(&self) -> Code {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.at(secs)
    }
}

/// RFC 4648 base32, leniently: case, spaces, hyphens and padding ignored,
/// and unused trailing bits allowed (some sites emit them; the decoder
/// drops them).
fn decode_secret(input: &str) -> Result<Secret, TotpError> {
    let clean = clean_base32(input)?;
    Secret::try_from_base32(clean.as_str()).map_err(|_| TotpError::NotBase32)
}

/// The canonical base32 `totp-rs` decodes: upper case, no separators, no
/// padding.
fn clean_base32(input: &str) -> Result<Zeroizing<String>, TotpError> {
    let mut clean = Zeroizing::new(String::with_capacity(input.len()));
    for c in input.chars() {
        match c.to_ascii_uppercase() {
            c @ ('A'..='Z' | '2'..='7') => clean.push(c),
            ' ' | '-' | '=' | '\t' => {}
            _ => return Err(TotpError::NotBase32),
        }
    }
    Ok(clean)
}

/// Rewrites an `otpauth://` URI as `totp-rs` reads it: `totp` host and
/// parameter names in lower case, the algorithm in upper case, the secret
/// as canonical base32, digits and period checked (`totp-rs` would panic
/// on 10 digits and divide by a zero period). An `issuer` parameter is
/// dropped when the label names one: `totp-rs` refuses the two differing,
/// and the label is what the person saw when they scanned it.
fn normalize_uri(input: &str) -> Result<Zeroizing<String>, TotpError> {
    let uri = url::Url::parse(input).map_err(|_| TotpError::BadUri)?;
    let kind = uri.host_str().unwrap_or_default().to_ascii_lowercase();
    if kind != "totp" {
        return Err(TotpError::NotTotp(kind.chars().take(16).collect()));
    }
    let label = uri.path();
    let label_has_issuer = label.contains(':') || label.to_ascii_lowercase().contains("%3a");
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let mut has_secret = false;
    for (name, value) in uri.query_pairs() {
        let bad = |name| TotpError::BadParameter {
            name,
            value: value.chars().take(16).collect(),
        };
        match name.to_ascii_lowercase().as_str() {
            "secret" => {
                query.append_pair("secret", &clean_base32(&value)?);
                has_secret = true;
            }
            "algorithm" => {
                let algorithm = value.to_ascii_uppercase();
                if !matches!(algorithm.as_str(), "SHA1" | "SHA256" | "SHA512") {
                    return Err(bad("algorithm"));
                }
                query.append_pair("algorithm", &algorithm);
            }
            "digits" => {
                let digits: u32 = value
                    .parse()
                    .ok()
                    .filter(|d| DIGITS.contains(d))
                    .ok_or_else(|| bad("digits"))?;
                query.append_pair("digits", &digits.to_string());
            }
            "period" => {
                let period: u64 = value
                    .parse()
                    .ok()
                    .filter(|p| PERIODS.contains(p))
                    .ok_or_else(|| bad("period"))?;
                query.append_pair("period", &period.to_string());
            }
            "issuer" if !label_has_issuer => {
                query.append_pair("issuer", &value);
            }
            _ => {}
        }
    }
    if !has_secret {
        return Err(TotpError::MissingSecret);
    }
    let query = Zeroizing::new(query.finish());
    Ok(Zeroizing::new(format!(
        "otpauth://totp{label}?{}",
        query.as_str()
    )))
}

/// `totp-rs`'s errors for a URI `normalize_uri` let through: only a label
/// that does not decode is left.
fn from_crate(err: totp_rs::TotpError) -> TotpError {
    match err {
        totp_rs::TotpError::SecretNotSet => TotpError::MissingSecret,
        totp_rs::TotpError::InvalidSecret => TotpError::NotBase32,
        _ => TotpError::BadUri,
    }
}

#[cfg(test)]
mod tests;

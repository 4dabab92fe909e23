//! Two-factor login's pieces (docs/design.md, "Two-factor login"): the
//! account's TOTP secret (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps), kept
//! sealed under a key from the server secret; and ten one-time recovery
//! codes, kept as HMACs under another. A copy of the auth database alone
//! therefore yields neither a code generator nor a code to test guesses
//! against.

use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::Sha256;
use totp_rs::{Algorithm, Totp};
use zeroize::Zeroizing;

use crate::auth::seal::SealKey;
use crate::ids::UserId;
use crate::secrets::ServerSecret;

/// Recovery codes made when two-factor login is turned on.
pub const RECOVERY_CODES: usize = 10;
/// 160 bits, as RFC 4226 recommends.
const SECRET_LEN: usize = 20;
const STEP_SECS: u64 = 30;
const DIGITS: u8 = 6;
/// A code of the step before or after now is accepted: phone clocks drift.
const SKEW_STEPS: u8 = 1;
/// Letters and digits a person cannot misread (no 0/o, 1/l/i).
const RECOVERY_SYMBOLS: &[u8; 31] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Three groups of four from 31 symbols: about 59 bits.
const RECOVERY_GROUPS: usize = 3;
const RECOVERY_GROUP_LEN: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    #[error("the stored two-factor secret does not open under this server's secret")]
    DoesNotOpen,
}

/// The keys two-factor login derives from the server secret.
pub struct TwoFactorKeys {
    seal: SealKey,
    recovery: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for TwoFactorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwoFactorKeys(<redacted>)")
    }
}

impl TwoFactorKeys {
    pub fn new(secret: &ServerSecret) -> Self {
        Self {
            seal: SealKey::derive(secret, "two-factor-secret"),
            recovery: secret.derive("two-factor-recovery-code"),
        }
    }

    /// `nonce ‖ XChaCha20-Poly1305(secret)`, bound to the user.
    pub fn seal_secret(&self, user: UserId, secret: &[u8]) -> Vec<u8> {
        self.seal.seal(user.0.as_bytes(), secret)
    }

    pub fn open_secret(
        &self,
        user: UserId,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, TwoFactorError> {
        self.seal
            .open(user.0.as_bytes(), sealed)
            .ok_or(TwoFactorError::DoesNotOpen)
    }

    /// What is stored of a recovery code: an HMAC, so that the database
    /// alone cannot test guesses.
    pub fn recovery_hash(&self, user: UserId, code: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.recovery.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(user.0.as_bytes());
        mac.update(normalize_recovery_code(code).as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// A new random TOTP secret.
pub fn new_secret() -> Zeroizing<Vec<u8>> {
    let mut secret = Zeroizing::new(vec![0u8; SECRET_LEN]);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], account: &str) -> Totp {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS.into())
        .with_step_duration(STEP_SECS)
        .with_secret(secret.to_vec())
        .with_issuer(Some("GophKeeper"))
        .with_account_name(account.replace(':', "_"))
        .build_noncompliant()
}

/// The `otpauth://` URI an authenticator app reads (as a QR code or
/// pasted), and the secret in base32 for typing in.
pub fn enrolment(secret: &[u8], account: &str) -> (String, String) {
    let totp = totp(secret, account);
    let uri = totp.to_url().unwrap_or_default();
    (uri, totp.secret().to_base32())
}

/// The step a TOTP code matches at `now_secs` (one step of drift either
/// way), if any.
pub fn matching_step(secret: &[u8], code: &str, now_secs: u64) -> Option<u64> {
    is_totp_code(code)
        .then(|| totp(secret, "").check(code, now_secs))
        .flatten()
}

/// Whether a second factor is typed as a TOTP code rather than a recovery
/// code.
pub fn is_totp_code(code: &str) -> bool {
    code.len() == usize::from(DIGITS) && code.bytes().all(|b| b.is_ascii_digit())
}

/// Ten new recovery codes, `xxxx-xxxx-xxxx`.
pub fn new_recovery_codes() -> Vec<Zeroizing<String>> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut code = Zeroizing::new(String::new());
            for group in 0..RECOVERY_GROUPS {
                if group > 0 {
                    code.push('-');
                }
                for _ in 0..RECOVERY_GROUP_LEN {
                    let symbol = RECOVERY_SYMBOLS[rand::rngs::OsRng.gen_range(0..31)];
                    code.push(char::from(symbol));
                }
            }
            code
        })
        .collect()
}

/// A recovery code as compared: lower case, without spaces or dashes, so
/// that `ABCD EFGH JKMN` and `abcd-efgh-jkmn` are the same code.
fn normalize_recovery_code(code: &str) -> Zeroizing<String> {
    Zeroizing::new(
        code.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TwoFactorKeys {
        let dir = tempfile::tempdir().unwrap();
        let secret = ServerSecret::load_or_create(&String::new().into(), dir.path()).unwrap();
        TwoFactorKeys::new(&secret)
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_and_key() {
        let keys = keys();
        let (alice, bob) = (UserId::new_random(), UserId::new_random());
        let secret = new_secret();
        let sealed = keys.seal_secret(alice, &secret);
        assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_slice()));
        assert_eq!(*keys.open_secret(alice, &sealed).unwrap(), *secret);
        assert!(keys.open_secret(bob, &sealed).is_err());
        assert!(self::keys().open_secret(alice, &sealed).is_err());
        assert!(keys.open_secret(alice, &sealed[..10]).is_err());
    }

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at
    /// 59 s gives 94287082 in 8 digits, so 287082 in 6.
    #[test]
    fn codes_match_the_rfc_and_one_step_of_drift() {
        let secret = b"12345678901234567890";
        assert_eq!(matching_step(secret, "287082", 59), Some(1));
        assert_eq!(matching_step(secret, "287082", 59 + 30), Some(1));
        assert_eq!(matching_step(secret, "287082", 59 + 60), None);
        assert_eq!(matching_step(secret, "287083", 59), None);
        assert_eq!(matching_step(secret, "28708", 59), None);
        assert_eq!(matching_step(secret, "2870822", 59), None);
        assert_eq!(matching_step(secret, "28708a", 59), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_compared_loosely() {
        let keys = keys();
        let user = UserId::new_random();
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let hashes: std::collections::HashSet<_> =
            codes.iter().map(|c| keys.recovery_hash(user, c)).collect();
        assert_eq!(hashes.len(), RECOVERY_CODES);
        let code = codes[0].as_str();
        assert_eq!(code.len(), 14);
        assert!(!is_totp_code(code));
        let typed = code.to_uppercase().replace('-', " ");
        assert_eq!(
            keys.recovery_hash(user, &typed),
            keys.recovery_hash(user, code)
        );
        assert_ne!(
            keys.recovery_hash(UserId::new_random(), code),
            keys.recovery_hash(user, code)
        );
    }

    #[test]
    fn the_enrolment_uri_names_the_account_and_the_parameters() {
        let (uri, base32) = enrolment(b"12345678901234567890", "alice");
        assert!(uri.starts_with("otpauth://totp/GophKeeper:alice?"), "{uri}");
        assert!(uri.contains(&format!("secret={base32}")), "{uri}");
        assert_eq!(base32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }
}

//! Access tokens (short-lived HS256 JWTs naming user and session) and refresh
//! tokens (random, stored only as SHA-256, rotated on every use).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::ids::{SessionId, UserId};

const ISSUER: &str = "gophkeeper";
const AUDIENCE: &str = "gophkeeper-vault";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
}

/// Signs and checks access tokens. Holds the signing key, so no `Debug` of
/// its content.
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// Why an access token was refused. The messages go to clients, so they say
/// what to do without saying more than needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("access token expired; refresh it")]
    Expired,
    #[error("invalid access token")]
    Invalid,
}

impl AccessTokens {
    pub fn new(key: &[u8], ttl_secs: u64) -> Self {
        // Only HS256: a token naming any other algorithm (`none` included)
        // fails validation.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Issuer and checker are the same service; no clock skew to allow.
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            ttl_secs,
        }
    }

    /// A token for `session` of `user`, valid from `now_secs`; returns it with
    /// its expiry (seconds since the epoch).
    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now_secs: u64,
    ) -> Result<(String, u64), jsonwebtoken::errors::Error> {
        let exp = now_secs + self.ttl_secs;
        let claims = Claims {
            sub: user.to_string(),
            sid: session.to_string(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now_secs,
            exp,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, exp))
    }

    /// Checks signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<(UserId, SessionId), TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let user = UserId::parse("sub", &data.claims.sub).map_err(|_| TokenError::Invalid)?;
        let session = SessionId::parse("sid", &data.claims.sid).map_err(|_| TokenError::Invalid)?;
        Ok((user, session))
    }
}

/// A new refresh token: 256 random bits, URL-safe text. Only its hash is
/// stored, so a copy of the auth database cannot be replayed.
pub fn new_refresh_token() -> (Zeroizing<String>, [u8; 32]) {
    let mut raw = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(raw.as_mut());
    let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(raw.as_ref()));
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn issued_token_verifies_until_it_expires() {
        let tokens = AccessTokens::new(KEY, 60);
        let user = UserId::new_random();
        let session = SessionId::new_random();
        let now = crate::ids::now_ms() as u64 / 1000;
        let (token, exp) = tokens.issue(user, session, now).unwrap();
        assert_eq!(exp, now + 60);
        assert_eq!(tokens.verify(&token).unwrap(), (user, session));

        let (old, _) = tokens.issue(user, session, now - 61).unwrap();
        assert_eq!(tokens.verify(&old), Err(TokenError::Expired));
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_invalid() {
        let tokens = AccessTokens::new(KEY, 60);
        let now = crate::ids::now_ms() as u64 / 1000;
        let (token, _) = tokens
            .issue(UserId::new_random(), SessionId::new_random(), now)
            .unwrap();

        let other = AccessTokens::new(b"another key, another key, another", 60);
        let (foreign, _) = other
            .issue(UserId::new_random(), SessionId::new_random(), now)
            .unwrap();
        assert_eq!(tokens.verify(&foreign), Err(TokenError::Invalid));

        // Swap the payload for one naming another user, keep the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub": UserId::new_random().to_string(),
                "sid": SessionId::new_random().to_string(), "iss": ISSUER, "aud": AUDIENCE,
                "iat": now, "exp": now + 60})
            .to_string(),
        );
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(tokens.verify(&tampered), Err(TokenError::Invalid));

        // alg: none with no signature.
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{header}.{}.", parts[1]);
        assert_eq!(tokens.verify(&unsigned), Err(TokenError::Invalid));

        for garbage in ["", "a.b.c", "not a token", &"x".repeat(10_000)] {
            assert_eq!(tokens.verify(garbage), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(*a, *b);
        assert_eq!(hash_refresh_token(&a), hash_a);
        assert!(a.len() >= 43);
    }
}

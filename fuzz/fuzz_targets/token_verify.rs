//! The access-token check every vault call goes through:
//! `AccessTokens::verify` (server/src/auth/tokens.rs), which the auth
//! service's `validate` runs before it looks the session up.
//!
//! The two server files are compiled in with `#[path]`, unchanged, rather
//! than by depending on the `gophkeeper-server` crate: that crate pulls in
//! the Kafka client (librdkafka, a C build of minutes), Postgres, tonic's
//! transport and more, all rebuilt with fuzzing instrumentation; the token
//! code needs none of it. `tokens.rs` depends only on `crate::ids`, which is
//! why `ids.rs` comes along. If either file grows a dependency on the rest
//! of the server, this target stops compiling rather than fuzzing stale code.
//!
//! Inputs, by the first byte:
//! - any text as the token;
//! - three fuzzer-chosen parts (header, claims, signature), each base64url
//!   encoded and joined with dots, so the fuzzer gets past the base64 layer
//!   into the JSON of the header and the claims (`alg: none`, other
//!   algorithms, odd types) while the signature stays a guess.
//!
//! Must hold: no panic, and never accepted: nothing here was signed with
//! the key.
//!
//! A third mode signs fuzzer-chosen claims with the real key (the only way
//! to reach the claim checks after the signature): it must not panic, and
//! whatever it accepts must name the right issuer and audience and not be
//! expired.

#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;

#[path = "../../server/src/ids.rs"]
#[allow(dead_code)]
mod ids;

#[path = "../../server/src/auth/tokens.rs"]
#[allow(dead_code)]
mod tokens;

const KEY: &[u8] = b"fuzzing key, fuzzing key, fuzzing key!";

static TOKENS: LazyLock<tokens::AccessTokens> =
    LazyLock::new(|| tokens::AccessTokens::new(KEY, 900));

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let token = String::from_utf8_lossy(rest);
            assert!(
                TOKENS.verify(&token).is_err(),
                "an unsigned string was accepted as a token"
            );
        }
        1 => {
            let mut parts = rest.splitn(3, |b| *b == 0xff);
            let mut next = || URL_SAFE_NO_PAD.encode(parts.next().unwrap_or_default());
            let token = format!("{}.{}.{}", next(), next(), next());
            assert!(
                TOKENS.verify(&token).is_err(),
                "a token with a guessed signature was accepted"
            );
        }
        _ => {
            let Ok(claims) = serde_json::from_slice::<serde_json::Value>(rest) else {
                return;
            };
            let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            let key = jsonwebtoken::EncodingKey::from_secret(KEY);
            let Ok(token) = jsonwebtoken::encode(&header, &claims, &key) else {
                return;
            };
            // Taken before `verify` reads the clock, so an accepted token's
            // expiry is never earlier than this.
            let before = now_secs();
            if TOKENS.verify(&token).is_ok() {
                assert_eq!(claims["iss"], "gophkeeper", "accepted another issuer");
                assert_eq!(claims["aud"], "gophkeeper-vault", "accepted another audience");
                let exp = claims["exp"].as_u64().expect("accepted without a numeric exp");
                assert!(exp >= before, "accepted an expired token");
            }
        }
    }
});

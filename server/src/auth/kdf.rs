//! Client KDF parameters: what registration may store, and the stable fake
//! ones prelogin returns for a name nobody registered.

use gophkeeper_proto::v1;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::store::StoredKdf;

/// Argon2id over the salt bound to the user name (the client binds it;
/// docs/design.md, "Keys and crypto"): what clients register now, and what
/// prelogin's fake answers name.
pub const ALGORITHM: &str = "argon2id-user-salt";
/// As [`ALGORITHM`], over the password mixed with the account's Secret
/// Key, which only the person's devices hold (docs/design.md, "Secret
/// Key").
pub const SECRET_KEY_ALGORITHM: &str = "argon2id-user-salt+secret-key";
/// Argon2id over the salt as stored: accounts from before, until a client
/// upgrades them at login.
pub const LEGACY_ALGORITHM: &str = "argon2id";
/// RFC 9106's second recommended profile, Bitwarden's default.
pub const DEFAULT_MEMORY_KIB: u32 = 64 * 1024;
pub const DEFAULT_ITERATIONS: u32 = 3;
pub const DEFAULT_PARALLELISM: u32 = 4;
pub const SALT_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KdfError {
    #[error("kdf is required")]
    Missing,
    #[error(
        "kdf algorithm must be \"argon2id-user-salt\", \"argon2id-user-salt+secret-key\" \
         (or \"argon2id\")"
    )]
    Algorithm,
    #[error("kdf memory must be between 65536 and 1048576 KiB (64 MiB to 1 GiB)")]
    Memory,
    #[error("kdf iterations must be between 3 and 10")]
    Iterations,
    #[error("kdf parallelism must be between 1 and 16")]
    Parallelism,
    #[error("kdf salt must be 16 to 64 bytes")]
    Salt,
}

/// Refuses parameters weaker than the floor (64 MiB, t=3; docs/design.md), and
/// absurd ones that would make every client's unlock hang.
pub fn validate(kdf: Option<&v1::KdfParams>) -> Result<StoredKdf, KdfError> {
    let kdf = kdf.ok_or(KdfError::Missing)?;
    if ![ALGORITHM, SECRET_KEY_ALGORITHM, LEGACY_ALGORITHM].contains(&kdf.algorithm.as_str()) {
        return Err(KdfError::Algorithm);
    }
    // The ceilings are the client's (1 GiB, t = 10, p = 16): parameters a
    // client refuses would lock the account out.
    if !(DEFAULT_MEMORY_KIB..=1024 * 1024).contains(&kdf.memory_kib) {
        return Err(KdfError::Memory);
    }
    if !(DEFAULT_ITERATIONS..=10).contains(&kdf.iterations) {
        return Err(KdfError::Iterations);
    }
    if !(1..=16).contains(&kdf.parallelism) {
        return Err(KdfError::Parallelism);
    }
    if !(SALT_LEN..=64).contains(&kdf.salt.len()) {
        return Err(KdfError::Salt);
    }
    Ok(StoredKdf {
        algorithm: kdf.algorithm.clone(),
        memory_kib: kdf.memory_kib,
        iterations: kdf.iterations,
        parallelism: kdf.parallelism,
        salt: kdf.salt.clone(),
    })
}

pub fn to_proto(kdf: &StoredKdf) -> v1::KdfParams {
    v1::KdfParams {
        algorithm: kdf.algorithm.clone(),
        memory_kib: kdf.memory_kib,
        iterations: kdf.iterations,
        parallelism: kdf.parallelism,
        salt: kdf.salt.clone(),
    }
}

/// Default parameters with a salt derived from the name under a server
/// secret: the same name always gets the same answer, a registered name's
/// answer looks the same (real salts are 16 random bytes), and without the
/// secret nobody can tell them apart. Half the names get a Secret Key (one
/// bit of the same MAC): real accounts have one or not, so neither answer
/// can say that nobody registered the name.
pub fn fake_for(prelogin_key: &[u8], username_key: &str) -> v1::KdfParams {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(prelogin_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(username_key.as_bytes());
    let digest = mac.finalize().into_bytes();
    let algorithm = if digest[SALT_LEN] & 1 == 1 {
        SECRET_KEY_ALGORITHM
    } else {
        ALGORITHM
    };
    v1::KdfParams {
        algorithm: algorithm.into(),
        memory_kib: DEFAULT_MEMORY_KIB,
        iterations: DEFAULT_ITERATIONS,
        parallelism: DEFAULT_PARALLELISM,
        salt: digest[..SALT_LEN].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> v1::KdfParams {
        v1::KdfParams {
            algorithm: ALGORITHM.into(),
            memory_kib: DEFAULT_MEMORY_KIB,
            iterations: 3,
            parallelism: 4,
            salt: vec![7; 16],
        }
    }

    #[test]
    fn accepts_the_default_and_refuses_weak_or_absurd_parameters() {
        assert!(validate(Some(&good())).is_ok());
        let legacy = v1::KdfParams {
            algorithm: LEGACY_ALGORITHM.into(),
            ..good()
        };
        assert!(
            validate(Some(&legacy)).is_ok(),
            "older clients still register"
        );
        let with_key = v1::KdfParams {
            algorithm: SECRET_KEY_ALGORITHM.into(),
            ..good()
        };
        assert!(validate(Some(&with_key)).is_ok());
        assert_eq!(validate(None), Err(KdfError::Missing));
        type Spoil = fn(&mut v1::KdfParams);
        let cases: [(Spoil, KdfError); 6] = [
            (|k| k.algorithm = "pbkdf2".into(), KdfError::Algorithm),
            (|k| k.memory_kib = 1024, KdfError::Memory),
            (|k| k.iterations = 1, KdfError::Iterations),
            (|k| k.iterations = 1000, KdfError::Iterations),
            (|k| k.parallelism = 0, KdfError::Parallelism),
            (|k| k.salt = vec![1; 8], KdfError::Salt),
        ];
        for (spoil, expected) in cases {
            let mut kdf = good();
            spoil(&mut kdf);
            assert_eq!(validate(Some(&kdf)), Err(expected));
        }
    }

    #[test]
    fn fake_parameters_are_stable_per_name_and_differ_between_names() {
        let a = fake_for(b"key", "alice");
        assert_eq!(a, fake_for(b"key", "alice"));
        assert_ne!(a.salt, fake_for(b"key", "bob").salt);
        assert_ne!(a.salt, fake_for(b"other key", "alice").salt);
        assert_eq!(a.salt.len(), SALT_LEN);
        assert!(validate(Some(&a)).is_ok());
        // Both answers a real account can give, about half each.
        let with_key = (0..1000)
            .filter(|i| fake_for(b"key", &format!("user{i}")).algorithm == SECRET_KEY_ALGORITHM)
            .count();
        assert!((400..=600).contains(&with_key), "{with_key} of 1000");
    }
}

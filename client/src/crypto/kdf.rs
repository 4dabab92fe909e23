//! Argon2id parameters, the floor and ceiling that keep a server from
//! choosing them for us, and the salt's binding to the user name that
//! keeps it from handing several users one salt.

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
use gophkeeper_proto::v1;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use super::CryptoError;

/// Argon2id over the salt as stored: accounts registered before the salt
/// was bound to the user name, until their next login upgrades them.
pub const KDF_ALGORITHM: &str = "argon2id";
/// Argon2id over the stored salt bound to the user name
/// ([`KdfParams::argon2_salt`]): what every account gets now.
pub const KDF_ALGORITHM_USER_SALT: &str = "argon2id-user-salt";
/// As [`KDF_ALGORITHM_USER_SALT`], over the password mixed with the
/// account's Secret Key (crypto/secret_key.rs).
pub const KDF_ALGORITHM_SECRET_KEY: &str = "argon2id-user-salt+secret-key";

/// Which salt Argon2id is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaltBinding {
    /// The stored salt as it is: legacy accounts, and export files, whose
    /// salt this client makes itself.
    Unbound,
    /// The stored salt hashed with the account's user name (its comparison
    /// key, [`user_key`]): a server that hands many users one salt still
    /// gets a different Argon2id salt for each, so no guess is tested
    /// against several accounts at once.
    User(String),
}

/// A user name as the server compares it (NFKC, lower case: the rule of
/// `server/src/auth/username.rs`), so that every spelling the server takes
/// for one account binds the salt the same way.
pub fn user_key(username: &str) -> String {
    username.nfkc().collect::<String>().to_lowercase()
}

/// Length of the per-user Argon2 salt.
pub const SALT_LEN: usize = 16;

/// Argon2id cost parameters and salt for one user.
///
/// Made by the client at registration, stored by the server, and returned by
/// prelogin so that a new device can derive the same master key. Because they
/// come back from the server they are untrusted: run [`KdfParams::validate`]
/// (which [`MasterKey::derive`](super::MasterKey::derive) does) before use.
/// None of it is secret, so `Debug` shows it all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub salt: [u8; SALT_LEN],
    pub binding: SaltBinding,
    /// Whether the account mixes a Secret Key into the password.
    pub secret_key: bool,
}

impl KdfParams {
    /// 64 MiB: RFC 9106's second recommended profile, also Bitwarden's default.
    pub const MIN_MEMORY_KIB: u32 = 64 * 1024;
    /// 1 GiB: what a phone-class device can still spare, and the most a
    /// hostile server can make a client allocate.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    pub const MIN_ITERATIONS: u32 = 3;
    /// At 1 GiB, 10 passes take several seconds on a laptop already.
    pub const MAX_ITERATIONS: u32 = 10;
    pub const MIN_PARALLELISM: u32 = 1;
    pub const MAX_PARALLELISM: u32 = 16;

    /// RFC 9106 §4 second profile (m = 64 MiB, t = 3, p = 4) with a fresh
    /// random salt, unbound: for what the client salts itself (exports).
    pub fn generate_default() -> Self {
        let mut salt = [0; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        Self {
            memory_kib: Self::MIN_MEMORY_KIB,
            iterations: 3,
            parallelism: 4,
            salt,
            binding: SaltBinding::Unbound,
            secret_key: false,
        }
    }

    /// The defaults for an account: the salt bound to its user name. Used
    /// at registration.
    pub fn generate_for(username: &str) -> Self {
        Self {
            binding: SaltBinding::User(user_key(username)),
            ..Self::generate_default()
        }
    }

    /// The salt Argon2id gets: the stored one, or bound to the user name
    /// as the first 16 bytes of SHA-256("gophkeeper/v2/kdf-salt" ‖ length
    /// of the key (u16) ‖ user key ‖ stored salt).
    pub fn argon2_salt(&self) -> [u8; SALT_LEN] {
        match &self.binding {
            SaltBinding::Unbound => self.salt,
            SaltBinding::User(key) => {
                let mut hash = Sha256::new();
                hash.update(b"gophkeeper/v2/kdf-salt");
                hash.update(u16::try_from(key.len()).unwrap_or(u16::MAX).to_be_bytes());
                hash.update(key.as_bytes());
                hash.update(self.salt);
                let mut salt = [0; SALT_LEN];
                salt.copy_from_slice(&hash.finalize()[..SALT_LEN]);
                salt
            }
        }
    }

    /// A prelogin or login answer for `username`; the result is validated.
    pub fn from_wire(wire: &v1::KdfParams, username: &str) -> Result<Self, CryptoError> {
        let (binding, secret_key) = Self::scheme(&wire.algorithm, username).ok_or_else(|| {
            // Bounded so that a hostile server cannot flood the error text.
            let algorithm = wire.algorithm.chars().take(32).collect();
            CryptoError::UnsupportedKdf { algorithm }
        })?;
        let salt =
            <[u8; SALT_LEN]>::try_from(wire.salt.as_slice()).map_err(|_| CryptoError::BadSalt {
                len: wire.salt.len(),
            })?;
        let params = Self {
            memory_kib: wire.memory_kib,
            iterations: wire.iterations,
            parallelism: wire.parallelism,
            salt,
            binding,
            secret_key,
        };
        params.validate()?;
        Ok(params)
    }

    /// What an algorithm name says for `username`'s account: the salt's
    /// binding and whether a Secret Key is mixed in. `None` for a name
    /// this client does not know.
    pub fn scheme(algorithm: &str, username: &str) -> Option<(SaltBinding, bool)> {
        match algorithm {
            KDF_ALGORITHM => Some((SaltBinding::Unbound, false)),
            KDF_ALGORITHM_USER_SALT => Some((SaltBinding::User(user_key(username)), false)),
            KDF_ALGORITHM_SECRET_KEY => Some((SaltBinding::User(user_key(username)), true)),
            _ => None,
        }
    }

    /// The algorithm name these parameters go by on the wire and in the
    /// profile. A Secret Key comes only with a bound salt.
    pub fn algorithm(&self) -> &'static str {
        match (&self.binding, self.secret_key) {
            (SaltBinding::Unbound, _) => KDF_ALGORITHM,
            (SaltBinding::User(_), false) => KDF_ALGORITHM_USER_SALT,
            (SaltBinding::User(_), true) => KDF_ALGORITHM_SECRET_KEY,
        }
    }

    /// Refuses parameters cheaper, in any cost, than `known`: what this
    /// device already used for the account. A server that lowers them
    /// (to make the password cheaper to guess) is refused before any
    /// hashing; higher ones, set from another device, pass.
    pub fn check_not_lower_than(&self, known: &KdfParams) -> Result<(), CryptoError> {
        if self.binding == SaltBinding::Unbound && known.binding != SaltBinding::Unbound {
            // Back to a salt the server alone chooses: pooled guessing.
            return Err(CryptoError::SaltUnbound);
        }
        if known.secret_key && !self.secret_key {
            // The password alone again: what the server would see of it
            // could be guessed against without the Secret Key.
            return Err(CryptoError::SecretKeyDropped);
        }
        let costs = [
            ("memory (KiB)", self.memory_kib, known.memory_kib),
            ("iterations", self.iterations, known.iterations),
            ("parallelism", self.parallelism, known.parallelism),
        ];
        for (parameter, value, known) in costs {
            if value < known {
                return Err(CryptoError::KdfLowered {
                    parameter,
                    value,
                    known,
                });
            }
        }
        Ok(())
    }

    /// Fresh parameters for `username`'s account, the salt bound, but no
    /// cheaper in any cost than `current`: a password change (or the
    /// upgrade of a legacy account) never lowers what another device
    /// raised, and keeps the Secret Key if the account has one.
    pub fn generate_at_least(current: &KdfParams, username: &str) -> Self {
        let fresh = Self::generate_for(username);
        Self {
            memory_kib: fresh.memory_kib.max(current.memory_kib),
            iterations: fresh.iterations.max(current.iterations),
            parallelism: fresh.parallelism.max(current.parallelism),
            secret_key: current.secret_key,
            ..fresh
        }
    }

    /// Refuses parameters below the RFC 9106 floor or absurdly above it.
    pub fn validate(&self) -> Result<(), CryptoError> {
        let checks = [
            (
                "memory (KiB)",
                self.memory_kib,
                Self::MIN_MEMORY_KIB,
                Self::MAX_MEMORY_KIB,
            ),
            (
                "iterations",
                self.iterations,
                Self::MIN_ITERATIONS,
                Self::MAX_ITERATIONS,
            ),
            (
                "parallelism",
                self.parallelism,
                Self::MIN_PARALLELISM,
                Self::MAX_PARALLELISM,
            ),
        ];
        for (parameter, value, minimum, maximum) in checks {
            if value < minimum {
                return Err(CryptoError::KdfTooWeak {
                    parameter,
                    value,
                    minimum,
                });
            }
            if value > maximum {
                return Err(CryptoError::KdfTooExpensive {
                    parameter,
                    value,
                    maximum,
                });
            }
        }
        Ok(())
    }
}

impl From<&KdfParams> for v1::KdfParams {
    fn from(params: &KdfParams) -> Self {
        Self {
            algorithm: params.algorithm().to_owned(),
            memory_kib: params.memory_kib,
            iterations: params.iterations,
            parallelism: params.parallelism,
            salt: params.salt.to_vec(),
        }
    }
}

/// Raw Argon2id v1.3 with no policy checks.
///
/// `secret` and `associated_data` are unused by GophKeeper; they exist so
/// that the RFC 9106 test vector, which sets both, runs through this code.
pub(crate) fn argon2id(
    password: &[u8],
    salt: &[u8],
    cost: (u32, u32, u32),
    secret: Option<&[u8]>,
    associated_data: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let (memory_kib, iterations, parallelism) = cost;
    let params = ParamsBuilder::new()
        .m_cost(memory_kib)
        .t_cost(iterations)
        .p_cost(parallelism)
        .output_len(out.len())
        .data(AssociatedData::new(associated_data)?)
        .build()?;
    let argon = match secret {
        Some(secret) => {
            Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, params)?
        }
        None => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
    };
    argon.hash_password_into(password, salt, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(memory_kib: u32, iterations: u32, parallelism: u32) -> KdfParams {
        KdfParams {
            memory_kib,
            iterations,
            parallelism,
            salt: [7; SALT_LEN],
            binding: SaltBinding::User("alice".into()),
            secret_key: false,
        }
    }

    /// The third name says the account mixes in a Secret Key; it survives
    /// the wire, a password change, and a server that drops it is refused.
    #[test]
    fn the_secret_key_is_named_kept_and_never_dropped() {
        let with_key = KdfParams {
            secret_key: true,
            ..params(65536, 3, 4)
        };
        let wire = v1::KdfParams::from(&with_key);
        assert_eq!(wire.algorithm, KDF_ALGORITHM_SECRET_KEY);
        assert_eq!(KdfParams::from_wire(&wire, "alice").unwrap(), with_key);
        assert!(KdfParams::generate_at_least(&with_key, "alice").secret_key);
        assert!(!KdfParams::generate_at_least(&params(65536, 3, 4), "alice").secret_key);
        let dropped = v1::KdfParams {
            algorithm: KDF_ALGORITHM_USER_SALT.into(),
            ..wire
        };
        let dropped = KdfParams::from_wire(&dropped, "alice").unwrap();
        assert!(matches!(
            dropped.check_not_lower_than(&with_key),
            Err(CryptoError::SecretKeyDropped)
        ));
        // Turning it on (from another device) is no downgrade.
        with_key.check_not_lower_than(&dropped).unwrap();
        assert_eq!(
            KdfParams::scheme(KDF_ALGORITHM_SECRET_KEY, "Alice"),
            Some((SaltBinding::User("alice".into()), true))
        );
        assert_eq!(KdfParams::scheme("argon2id+secret-key", "alice"), None);
    }

    #[test]
    fn default_is_rfc9106_second_profile_with_random_salt() {
        let a = KdfParams::generate_default();
        let b = KdfParams::generate_default();
        assert_eq!((a.memory_kib, a.iterations, a.parallelism), (65536, 3, 4));
        assert_ne!(a.salt, b.salt);
        a.validate().unwrap();
    }

    #[test]
    fn downgrades_are_refused() {
        for weak in [
            params(65535, 3, 4),
            params(65536, 2, 4),
            params(65536, 3, 0),
        ] {
            let err = weak.validate().unwrap_err();
            assert!(matches!(err, CryptoError::KdfTooWeak { .. }), "{err}");
        }
        let msg = params(19 * 1024, 2, 1).validate().unwrap_err().to_string();
        assert!(
            msg.contains("memory (KiB) is 19456, below the minimum of 65536"),
            "{msg}"
        );
    }

    #[test]
    fn a_server_cannot_lower_what_the_device_knows() {
        let known = params(128 * 1024, 4, 4);
        known.check_not_lower_than(&known).unwrap();
        params(256 * 1024, 5, 8)
            .check_not_lower_than(&known)
            .unwrap();
        for lower in [
            params(65536, 4, 4),
            params(128 * 1024, 3, 4),
            params(128 * 1024, 4, 2),
        ] {
            let err = lower.check_not_lower_than(&known).unwrap_err();
            assert!(matches!(err, CryptoError::KdfLowered { .. }), "{err}");
        }
        let msg = params(65536, 4, 4)
            .check_not_lower_than(&known)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("memory (KiB) is 65536"), "{msg}");
        assert!(msg.contains("131072"), "{msg}");
        // A password change keeps the higher costs and takes a new salt.
        let next = KdfParams::generate_at_least(&known, "Alice");
        assert_eq!(
            (next.memory_kib, next.iterations, next.parallelism),
            (128 * 1024, 4, 4)
        );
        assert_ne!(next.salt, known.salt);
        assert_eq!(next.binding, SaltBinding::User("alice".into()));
    }

    /// One stored salt handed to several users still gives each its own
    /// Argon2id salt; every spelling the server takes for one name gives
    /// the same; an unbound (legacy) account uses the stored salt.
    #[test]
    fn the_salt_is_bound_to_the_user_name() {
        let wire = v1::KdfParams {
            algorithm: KDF_ALGORITHM_USER_SALT.into(),
            memory_kib: 65536,
            iterations: 3,
            parallelism: 4,
            salt: vec![9; SALT_LEN],
        };
        let salt_of = |name| KdfParams::from_wire(&wire, name).unwrap().argon2_salt();
        assert_ne!(salt_of("alice"), salt_of("bob"));
        assert_ne!(salt_of("alice"), [9; SALT_LEN]);
        assert_eq!(salt_of("alice"), salt_of("Alice"));
        assert_eq!(
            salt_of("alice"),
            salt_of("\u{FF41}lice"),
            "NFKC: fullwidth a"
        );
        let legacy = v1::KdfParams {
            algorithm: KDF_ALGORITHM.into(),
            ..wire.clone()
        };
        let legacy = KdfParams::from_wire(&legacy, "alice").unwrap();
        assert_eq!(legacy.binding, SaltBinding::Unbound);
        assert_eq!(legacy.argon2_salt(), [9; SALT_LEN]);
        // A device that knows the account bound refuses the unbound form.
        let known = KdfParams::from_wire(&wire, "alice").unwrap();
        assert!(matches!(
            legacy.check_not_lower_than(&known),
            Err(CryptoError::SaltUnbound)
        ));
        known.check_not_lower_than(&legacy).unwrap();
        assert_eq!(v1::KdfParams::from(&known), wire);
    }

    #[test]
    fn absurd_costs_are_refused() {
        let max_mem = KdfParams::MAX_MEMORY_KIB;
        assert_eq!(max_mem, 1024 * 1024, "issue 16: a 1 GiB ceiling");
        params(max_mem, 10, 16).validate().unwrap();
        for absurd in [
            params(max_mem + 1, 3, 4),
            params(65536, 11, 4),
            params(65536, 3, 17),
        ] {
            let err = absurd.validate().unwrap_err();
            assert!(matches!(err, CryptoError::KdfTooExpensive { .. }), "{err}");
        }
    }

    #[test]
    fn proto_round_trip_and_rejections() {
        let ours = KdfParams::generate_for("alice");
        let wire = v1::KdfParams::from(&ours);
        assert_eq!(KdfParams::from_wire(&wire, "alice").unwrap(), ours);

        let other_algorithm = v1::KdfParams {
            algorithm: "pbkdf2".into(),
            ..wire.clone()
        };
        assert!(matches!(
            KdfParams::from_wire(&other_algorithm, "alice"),
            Err(CryptoError::UnsupportedKdf { .. })
        ));
        let short_salt = v1::KdfParams {
            salt: vec![1; 8],
            ..wire.clone()
        };
        assert!(matches!(
            KdfParams::from_wire(&short_salt, "alice"),
            Err(CryptoError::BadSalt { len: 8 })
        ));
        let weak = v1::KdfParams {
            memory_kib: 1024,
            ..wire
        };
        assert!(matches!(
            KdfParams::from_wire(&weak, "alice"),
            Err(CryptoError::KdfTooWeak { .. })
        ));
    }
}

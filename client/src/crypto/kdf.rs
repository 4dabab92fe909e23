//! Argon2id parameters, and the floor and ceiling that keep a server from
//! choosing them for us.

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
use gophkeeper_proto::v1;
use rand::RngCore;
use rand::rngs::OsRng;

use super::CryptoError;

/// The only KDF name this client accepts in prelogin answers.
pub const KDF_ALGORITHM: &str = "argon2id";

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
    /// random salt. Used at registration and on password change.
    pub fn generate_default() -> Self {
        let mut salt = [0; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        Self {
            memory_kib: Self::MIN_MEMORY_KIB,
            iterations: 3,
            parallelism: 4,
            salt,
        }
    }

    /// Refuses parameters cheaper, in any cost, than `known`: what this
    /// device already used for the account. A server that lowers them
    /// (to make the password cheaper to guess) is refused before any
    /// hashing; higher ones, set from another device, pass.
    pub fn check_not_lower_than(&self, known: &KdfParams) -> Result<(), CryptoError> {
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

    /// Fresh default parameters, but no cheaper in any cost than `current`:
    /// a password change never lowers what another device raised.
    pub fn generate_at_least(current: &KdfParams) -> Self {
        let fresh = Self::generate_default();
        Self {
            memory_kib: fresh.memory_kib.max(current.memory_kib),
            iterations: fresh.iterations.max(current.iterations),
            parallelism: fresh.parallelism.max(current.parallelism),
            salt: fresh.salt,
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

/// Reads a prelogin answer; the result is validated.
impl TryFrom<&v1::KdfParams> for KdfParams {
    type Error = CryptoError;

    fn try_from(wire: &v1::KdfParams) -> Result<Self, CryptoError> {
        if wire.algorithm != KDF_ALGORITHM {
            // Bounded so that a hostile server cannot flood the error text.
            let algorithm = wire.algorithm.chars().take(32).collect();
            return Err(CryptoError::UnsupportedKdf { algorithm });
        }
        let salt =
            <[u8; SALT_LEN]>::try_from(wire.salt.as_slice()).map_err(|_| CryptoError::BadSalt {
                len: wire.salt.len(),
            })?;
        let params = Self {
            memory_kib: wire.memory_kib,
            iterations: wire.iterations,
            parallelism: wire.parallelism,
            salt,
        };
        params.validate()?;
        Ok(params)
    }
}

impl From<&KdfParams> for v1::KdfParams {
    fn from(params: &KdfParams) -> Self {
        Self {
            algorithm: KDF_ALGORITHM.to_owned(),
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
        }
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
        let next = KdfParams::generate_at_least(&known);
        assert_eq!(
            (next.memory_kib, next.iterations, next.parallelism),
            (128 * 1024, 4, 4)
        );
        assert_ne!(next.salt, known.salt);
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
        let ours = KdfParams::generate_default();
        let wire = v1::KdfParams::from(&ours);
        assert_eq!(KdfParams::try_from(&wire).unwrap(), ours);

        let other_algorithm = v1::KdfParams {
            algorithm: "pbkdf2".into(),
            ..wire.clone()
        };
        assert!(matches!(
            KdfParams::try_from(&other_algorithm),
            Err(CryptoError::UnsupportedKdf { .. })
        ));
        let short_salt = v1::KdfParams {
            salt: vec![1; 8],
            ..wire.clone()
        };
        assert!(matches!(
            KdfParams::try_from(&short_salt),
            Err(CryptoError::BadSalt { len: 8 })
        ));
        let weak = v1::KdfParams {
            memory_kib: 1024,
            ..wire
        };
        assert!(matches!(
            KdfParams::try_from(&weak),
            Err(CryptoError::KdfTooWeak { .. })
        ));
    }
}

//! The server's OPAQUE keys and its four steps, on bytes. The OPRF seed
//! and the long-term key pair are derived from the server secret (config or
//! `secrets/auth.key`), never stored in a database: a copy of the auth
//! database alone cannot run the OPRF, so it cannot test a guess.

use gophkeeper_proto::opaque::Suite;
use gophkeeper_proto::opaque::opaque_ke::{
    CredentialFinalization, CredentialRequest, RegistrationRequest, RegistrationUpload,
    ServerLogin, ServerLoginParameters, ServerRegistration, ServerSetup,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroizing;

use crate::auth::seal::SealKey;
use crate::secrets::ServerSecret;

/// Why a step refused its input.
#[derive(Debug, thiserror::Error)]
pub enum OpaqueError {
    #[error("{0} is not an OPAQUE message of this server's suite")]
    Malformed(&'static str),
    /// The finish message does not match: a wrong password, another
    /// server's keys, or a forged message; all look the same.
    #[error("the login does not verify")]
    DoesNotVerify,
    #[error("a stored OPAQUE value does not open under this server's secret")]
    Corrupt,
}

pub struct OpaqueKeys {
    setup: ServerSetup<Suite>,
    state: SealKey,
}

impl std::fmt::Debug for OpaqueKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpaqueKeys(<redacted>)")
    }
}

impl OpaqueKeys {
    /// The same secret gives the same keys, so every auth process of a
    /// cluster (which share `auth.secret`) answers for every account.
    pub fn new(secret: &ServerSecret) -> Self {
        let mut rng = ChaCha20Rng::from_seed(*secret.derive("opaque-server-setup"));
        Self {
            setup: ServerSetup::new(&mut rng),
            state: SealKey::derive(secret, "opaque-login-state"),
        }
    }

    /// The OPRF answer to a registration's first message. Stateless: the
    /// per-account OPRF key comes from the seed and `credential_id`.
    pub fn registration_response(
        &self,
        credential_id: &str,
        request: &[u8],
    ) -> Result<Vec<u8>, OpaqueError> {
        let request = RegistrationRequest::<Suite>::deserialize(request)
            .map_err(|_| OpaqueError::Malformed("registration_request"))?;
        let start = ServerRegistration::start(&self.setup, request, credential_id.as_bytes())
            .map_err(|_| OpaqueError::Malformed("registration_request"))?;
        Ok(start.message.serialize().to_vec())
    }

    /// The record to keep, from a registration's upload.
    pub fn record_from_upload(upload: &[u8]) -> Result<Vec<u8>, OpaqueError> {
        let upload = RegistrationUpload::<Suite>::deserialize(upload)
            .map_err(|_| OpaqueError::Malformed("registration_upload"))?;
        Ok(ServerRegistration::finish(upload).serialize().to_vec())
    }

    /// A login's first answer, and the state to finish it with (sealed to
    /// `login_id`). Without a record (no such account) opaque-ke answers
    /// with a fake record made from the seed: the same steps, an answer of
    /// the same shape, and a finish that fails like a wrong password.
    pub fn login_start(
        &self,
        credential_id: &str,
        record: Option<&[u8]>,
        request: &[u8],
        login_id: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), OpaqueError> {
        let record = record
            .map(ServerRegistration::<Suite>::deserialize)
            .transpose()
            .map_err(|_| OpaqueError::Corrupt)?;
        let request = CredentialRequest::<Suite>::deserialize(request)
            .map_err(|_| OpaqueError::Malformed("credential_request"))?;
        let start = ServerLogin::start(
            &mut rand::rngs::OsRng,
            &self.setup,
            record,
            request,
            credential_id.as_bytes(),
            ServerLoginParameters::default(),
        )
        .map_err(|_| OpaqueError::Malformed("credential_request"))?;
        let state = Zeroizing::new(start.state.serialize().to_vec());
        Ok((
            start.message.serialize().to_vec(),
            self.state.seal(login_id, &state),
        ))
    }

    /// Checks a login's last message against its sealed state.
    pub fn login_finish(
        &self,
        login_id: &[u8],
        sealed_state: &[u8],
        finalization: &[u8],
    ) -> Result<(), OpaqueError> {
        let state = self
            .state
            .open(login_id, sealed_state)
            .ok_or(OpaqueError::Corrupt)?;
        let state = ServerLogin::<Suite>::deserialize(&state).map_err(|_| OpaqueError::Corrupt)?;
        let finalization = CredentialFinalization::<Suite>::deserialize(finalization)
            .map_err(|_| OpaqueError::Malformed("credential_finalization"))?;
        state
            .finish(finalization, ServerLoginParameters::default())
            .map(drop)
            .map_err(|_| OpaqueError::DoesNotVerify)
    }

    /// The long-term public key, for the test that pins the derivation.
    #[cfg(test)]
    fn public_key(&self) -> Vec<u8> {
        self.setup.keypair().public().serialize().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_follow_the_secret_and_only_it() {
        let configured = |hex: &str| {
            let dir = tempfile::tempdir().unwrap();
            ServerSecret::load_or_create(&hex.to_owned().into(), dir.path()).unwrap()
        };
        let a = OpaqueKeys::new(&configured(&"ab".repeat(32)));
        let again = OpaqueKeys::new(&configured(&"ab".repeat(32)));
        let b = OpaqueKeys::new(&configured(&"cd".repeat(32)));
        assert_eq!(a.public_key(), again.public_key());
        assert_ne!(a.public_key(), b.public_key());
        // Pinned: a new opaque-ke or rand_chacha that derived other keys
        // from the same secret would lock every account out.
        assert_eq!(
            hex::encode(a.public_key()),
            "fc6d478be88afd3233aeb5efa73afe1bb29236ce31952366eb9e7f194a872117",
            "the OPAQUE key derivation changed"
        );
        assert_eq!(format!("{a:?}"), "OpaqueKeys(<redacted>)");
    }

    #[test]
    fn malformed_messages_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let secret = ServerSecret::load_or_create(&String::new().into(), dir.path()).unwrap();
        let keys = OpaqueKeys::new(&secret);
        assert!(matches!(
            keys.registration_response("alice", &[1, 2, 3]),
            Err(OpaqueError::Malformed("registration_request"))
        ));
        assert!(matches!(
            OpaqueKeys::record_from_upload(&[0; 10]),
            Err(OpaqueError::Malformed("registration_upload"))
        ));
        assert!(matches!(
            keys.login_start("alice", None, &[0; 5], &[0; 16]),
            Err(OpaqueError::Malformed("credential_request"))
        ));
        assert!(matches!(
            keys.login_finish(&[0; 16], &[0; 40], &[0; 64]),
            Err(OpaqueError::Corrupt)
        ));
    }
}

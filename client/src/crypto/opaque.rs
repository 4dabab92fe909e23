//! The client's side of OPAQUE (RFC 9807; docs/design.md, "OPAQUE"): the
//! password proves itself to the server without reaching it, and OPAQUE's
//! export key, which needs the server's OPRF, wraps the vault key on the
//! server. Argon2id with the account's parameters stretches the OPRF
//! output, here on the client; the server never runs it.

use super::keys::KeyEncryptionKey;
use super::{CryptoError, KdfParams, MasterSecret};
use gophkeeper_proto::opaque::Suite;
use gophkeeper_proto::opaque::opaque_ke::argon2::{Algorithm, Argon2, Params, Version};
use gophkeeper_proto::opaque::opaque_ke::errors::ProtocolError;
use gophkeeper_proto::opaque::opaque_ke::{
    ClientLogin, ClientLoginFinishParameters, ClientRegistration,
    ClientRegistrationFinishParameters, CredentialResponse, Identifiers, RegistrationResponse,
};

/// The client's state between a login's two round trips.
pub struct OpaqueLogin(ClientLogin<Suite>);

/// The client's state between a registration's two round trips.
pub struct OpaqueRegistration(ClientRegistration<Suite>);

/// What a finished login or registration gives: the message to send and
/// the key that wraps the vault key on the server.
pub struct OpaqueFinish {
    pub message: Vec<u8>,
    pub wrap_key: KeyEncryptionKey,
}

/// Why a step failed. `Refused` is a wrong password, a server without the
/// account's keys, or a forged answer: one case, as for a wrong password.
#[derive(Debug, thiserror::Error)]
pub enum OpaqueError {
    #[error("the password does not match this account on this server")]
    Refused,
    #[error("the server's OPAQUE message is malformed")]
    Malformed,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

fn ksf(params: &KdfParams) -> Result<Argon2<'static>, OpaqueError> {
    params.validate()?;
    let cost = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(CryptoError::Kdf)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, cost))
}

fn protocol(err: ProtocolError) -> OpaqueError {
    match err {
        ProtocolError::InvalidLoginError | ProtocolError::ReflectedValueError => {
            OpaqueError::Refused
        }
        _ => OpaqueError::Malformed,
    }
}

impl OpaqueLogin {
    /// The login's first message (KE1), for an account with a Secret Key
    /// if `secret` holds one: the finish must be for the same kind.
    pub fn start(secret: &MasterSecret) -> Result<(Self, Vec<u8>), OpaqueError> {
        let input = secret.input(secret.secret_key().is_some())?;
        let start =
            ClientLogin::<Suite>::start(&mut rand::rngs::OsRng, &input).map_err(protocol)?;
        Ok((Self(start.state), start.message.serialize().to_vec()))
    }

    /// Checks the server's answer and makes the last message (KE3). Runs
    /// Argon2id: call it off the async workers.
    pub fn finish(
        self,
        secret: &MasterSecret,
        response: &[u8],
        params: &KdfParams,
    ) -> Result<OpaqueFinish, OpaqueError> {
        let ksf = ksf(params)?;
        let input = secret.input(params.secret_key)?;
        let response = CredentialResponse::<Suite>::deserialize(response)
            .map_err(|_| OpaqueError::Malformed)?;
        let finish = self
            .0
            .finish(
                &mut rand::rngs::OsRng,
                &input,
                response,
                ClientLoginFinishParameters::new(None, Identifiers::default(), Some(&ksf)),
            )
            .map_err(protocol)?;
        Ok(OpaqueFinish {
            message: finish.message.serialize().to_vec(),
            wrap_key: KeyEncryptionKey::from_export_key(&finish.export_key),
        })
    }
}

impl OpaqueRegistration {
    /// The registration's first message, for an account under `params`.
    pub fn start(
        secret: &MasterSecret,
        params: &KdfParams,
    ) -> Result<(Self, Vec<u8>), OpaqueError> {
        let input = secret.input(params.secret_key)?;
        let start =
            ClientRegistration::<Suite>::start(&mut rand::rngs::OsRng, &input).map_err(protocol)?;
        Ok((Self(start.state), start.message.serialize().to_vec()))
    }

    /// The record to upload. Runs Argon2id: call it off the async workers.
    pub fn finish(
        self,
        secret: &MasterSecret,
        response: &[u8],
        params: &KdfParams,
    ) -> Result<OpaqueFinish, OpaqueError> {
        let ksf = ksf(params)?;
        let input = secret.input(params.secret_key)?;
        let response = RegistrationResponse::<Suite>::deserialize(response)
            .map_err(|_| OpaqueError::Malformed)?;
        let finish = self
            .0
            .finish(
                &mut rand::rngs::OsRng,
                &input,
                response,
                ClientRegistrationFinishParameters::new(Identifiers::default(), Some(&ksf)),
            )
            .map_err(protocol)?;
        Ok(OpaqueFinish {
            message: finish.message.serialize().to_vec(),
            wrap_key: KeyEncryptionKey::from_export_key(&finish.export_key),
        })
    }
}

redacted_debug!(OpaqueLogin, OpaqueRegistration, OpaqueFinish);

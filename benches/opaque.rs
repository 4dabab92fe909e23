//! OPAQUE as the benches and the load generator run it: the protocol a
//! client runs, with the key-stretching function at its cheapest. The
//! server never runs that function, so its cost is the client's alone;
//! at 64 MiB per login it would measure this machine's Argon2id, not the
//! server (BENCHMARKS.md, "Login").

use anyhow::Context as _;
use gophkeeper_proto::opaque::Suite;
use gophkeeper_proto::opaque::opaque_ke::argon2::{Algorithm, Argon2, Params, Version};
use gophkeeper_proto::opaque::opaque_ke::{
    ClientLogin, ClientLoginFinishParameters, ClientRegistration,
    ClientRegistrationFinishParameters, CredentialResponse, Identifiers, RegistrationResponse,
};
use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use rand::rngs::OsRng;
use tonic::transport::Channel;

/// The KDF parameters the benches register with: the floor, which the
/// server checks, though only a real client would run them.
pub fn kdf() -> v1::KdfParams {
    v1::KdfParams {
        algorithm: "argon2id".into(),
        memory_kib: 65536,
        iterations: 3,
        parallelism: 4,
        salt: vec![1; 16],
    }
}

fn cheap_ksf() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(8, 1, 1, None).map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Registers `username` with `password`.
pub async fn register(
    account: &mut AccountClient<Channel>,
    username: &str,
    password: &[u8],
    kdf: v1::KdfParams,
    wrapped_vault_key: Vec<u8>,
) -> anyhow::Result<String> {
    let start = ClientRegistration::<Suite>::start(&mut OsRng, password)
        .map_err(|e| anyhow::anyhow!("registration start: {e:?}"))?;
    let answer = account
        .register_start(v1::RegisterStartRequest {
            username: username.to_owned(),
            registration_request: start.message.serialize().to_vec(),
        })
        .await
        .context("register start")?
        .into_inner();
    let ksf = cheap_ksf()?;
    let upload = start
        .state
        .finish(
            &mut OsRng,
            password,
            RegistrationResponse::deserialize(&answer.registration_response)
                .map_err(|e| anyhow::anyhow!("registration response: {e:?}"))?,
            ClientRegistrationFinishParameters::new(Identifiers::default(), Some(&ksf)),
        )
        .map_err(|e| anyhow::anyhow!("registration finish: {e:?}"))?
        .message;
    let registered = account
        .register(v1::RegisterRequest {
            username: username.to_owned(),
            kdf: Some(kdf),
            registration_upload: upload.serialize().to_vec(),
            wrapped_vault_key,
        })
        .await
        .context("register")?
        .into_inner();
    Ok(registered.user_id)
}

/// Logs `username` in: both round trips.
pub async fn login(
    account: &mut AccountClient<Channel>,
    username: &str,
    password: &[u8],
    device_name: &str,
) -> anyhow::Result<v1::LoginResponse> {
    let start = ClientLogin::<Suite>::start(&mut OsRng, password)
        .map_err(|e| anyhow::anyhow!("login start: {e:?}"))?;
    let answer = account
        .login_start(v1::LoginStartRequest {
            username: username.to_owned(),
            credential_request: start.message.serialize().to_vec(),
        })
        .await
        .context("login start")?
        .into_inner();
    let ksf = cheap_ksf()?;
    let finish = start
        .state
        .finish(
            &mut OsRng,
            password,
            CredentialResponse::deserialize(&answer.credential_response)
                .map_err(|e| anyhow::anyhow!("credential response: {e:?}"))?,
            ClientLoginFinishParameters::new(None, Identifiers::default(), Some(&ksf)),
        )
        .map_err(|e| anyhow::anyhow!("login finish: {e:?}"))?;
    Ok(account
        .login_finish(v1::LoginFinishRequest {
            login_id: answer.login_id,
            credential_finalization: finish.message.serialize().to_vec(),
            device_name: device_name.to_owned(),
            second_factor: String::new(),
        })
        .await
        .context("login finish")?
        .into_inner())
}

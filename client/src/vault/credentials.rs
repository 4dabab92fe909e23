//! The master password's trips to the server (docs/design.md, "OPAQUE"):
//! OPAQUE login, registration of a password (new account, new password,
//! or a legacy account moving over), and proof of the password for a
//! sensitive change. A login or a new password stretches the password
//! with Argon2id twice, on two blocking threads at once: once inside OPAQUE
//! (the key that opens the server's copy of the vault key) and once for
//! this device's own key (the copy that unlocks offline). A new account's
//! registration stretches only inside OPAQUE: the login that follows it
//! makes the device's key.

use secrecy::SecretString;

use super::two_factor::sign_in;
use super::{ConnectOptions, VaultError, derive};
use crate::crypto::{
    KdfParams, KeyEncryptionKey, OpaqueError, OpaqueFinish, OpaqueLogin, OpaqueRegistration,
    VaultKey,
};
use crate::session::{ApiError, LoginOutcome, PasswordProof, Session};

impl From<OpaqueError> for VaultError {
    fn from(err: OpaqueError) -> Self {
        match err {
            // Exactly what a wrong password gets from the server.
            OpaqueError::Refused => VaultError::Api(ApiError::BadCredentials),
            OpaqueError::Malformed => VaultError::Api(ApiError::Protocol(err.to_string())),
            OpaqueError::Crypto(err) => VaultError::Crypto(err),
        }
    }
}

/// Runs CPU-bound work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, VaultError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| VaultError::Unexpected(format!("key derivation task failed: {e}")))
}

/// A signed-in account: the session's outcome, with this device's copy of
/// the vault key in `wrapped_vault_key`, and the vault key.
pub(super) struct SignedIn {
    pub login: LoginOutcome,
    pub vault_key: VaultKey,
}

/// Logs in with the password. `known` is what this device's profile holds
/// of the account's parameters: lower ones from the server are refused.
pub(super) async fn log_in(
    session: &Session,
    username: &str,
    password: &SecretString,
    known: Option<&KdfParams>,
    options: &ConnectOptions,
) -> Result<SignedIn, VaultError> {
    let (state, request) = OpaqueLogin::start(password)?;
    let start = session.login_start(username, request).await?;
    if let Some(known) = known {
        start.kdf.check_not_lower_than(known)?;
    }
    if start.legacy {
        return legacy_log_in(session, username, password, start.kdf, options).await;
    }
    let (finish, local) = tokio::try_join!(
        stretch(
            password,
            &start.credential_response,
            &start.kdf,
            move |p, r, k| state.finish(p, r, k)
        ),
        derive(password, &start.kdf),
    )?;
    let device = &options.device_name;
    let mut login = sign_in(options, async |code| {
        session
            .login_finish(username, &start.login_id, &finish.message, device, code)
            .await
    })
    .await?;
    let vault_key = finish.wrap_key.unwrap(&login.wrapped_vault_key)?;
    login.kdf = start.kdf;
    login.wrapped_vault_key = local.key_encryption_key().wrap(&vault_key);
    Ok(SignedIn { login, vault_key })
}

/// A finish that runs Argon2id (login or registration), off the async
/// workers.
async fn stretch(
    password: &SecretString,
    response: &[u8],
    kdf: &KdfParams,
    finish: impl FnOnce(&SecretString, &[u8], &KdfParams) -> Result<OpaqueFinish, OpaqueError>
    + Send
    + 'static,
) -> Result<OpaqueFinish, VaultError> {
    let (password, response, kdf) = (password.clone(), response.to_vec(), kdf.clone());
    Ok(blocking(move || finish(&password, &response, &kdf)).await??)
}

/// An account from before OPAQUE: the legacy login, then the move to
/// OPAQUE with the same password (under parameters no lower, the salt
/// bound to the user name), keeping every other session: nothing changed
/// that they should be cut off for. If the server cannot be told, the
/// account stays as it was and a later login tries again.
async fn legacy_log_in(
    session: &Session,
    username: &str,
    password: &SecretString,
    kdf: KdfParams,
    options: &ConnectOptions,
) -> Result<SignedIn, VaultError> {
    let master = derive(password, &kdf).await?;
    let auth_key = master.auth_key();
    let device = &options.device_name;
    let mut login = sign_in(options, async |code| {
        session
            .legacy_login(username, &auth_key, device, code)
            .await
    })
    .await?;
    let vault_key = master
        .key_encryption_key()
        .unwrap(&login.wrapped_vault_key)?;
    let new_kdf = KdfParams::generate_at_least(&kdf, username);
    let proof = PasswordProof::Legacy(auth_key);
    match set_password(session, password, &new_kdf, &vault_key, &proof, true).await {
        Ok(local) => {
            tracing::info!("the account moved to OPAQUE");
            login.kdf = new_kdf;
            login.wrapped_vault_key = local.wrap(&vault_key);
        }
        Err(err) => {
            tracing::warn!(error = %err, "the account stays on the legacy login until a later one");
            login.kdf = kdf;
        }
    }
    Ok(SignedIn { login, vault_key })
}

/// Registers `password` under `kdf` with the server (OPAQUE) for the
/// signed-in account, wrapping `vault_key` under its export key; returns
/// this device's key for the same password.
pub(super) async fn set_password(
    session: &Session,
    password: &SecretString,
    kdf: &KdfParams,
    vault_key: &VaultKey,
    current: &PasswordProof,
    keep_other_sessions: bool,
) -> Result<KeyEncryptionKey, VaultError> {
    let (finish, local) = tokio::try_join!(
        registration(password, kdf, async |request| {
            session.change_password_start(request).await
        }),
        derive(password, kdf),
    )?;
    session
        .change_password(
            current,
            &finish.message,
            kdf,
            &finish.wrap_key.wrap(vault_key),
            keep_other_sessions,
        )
        .await?;
    Ok(local.key_encryption_key())
}

/// A new account's OPAQUE record and server-side wrapped vault key. This
/// device's own key comes with the login that follows.
pub(super) async fn register(
    session: &Session,
    username: &str,
    password: &SecretString,
    kdf: &KdfParams,
    vault_key: &VaultKey,
) -> Result<(), VaultError> {
    let finish = registration(password, kdf, async |request| {
        session.register_start(username, request).await
    })
    .await?;
    session
        .register(
            username,
            kdf,
            finish.message,
            finish.wrap_key.wrap(vault_key),
        )
        .await?;
    Ok(())
}

/// OPAQUE registration of `password` under `kdf`: the first message, the
/// server's answer to it from `answer`, and the stretched finish.
async fn registration(
    password: &SecretString,
    kdf: &KdfParams,
    answer: impl AsyncFnOnce(Vec<u8>) -> Result<Vec<u8>, ApiError>,
) -> Result<OpaqueFinish, VaultError> {
    let (state, request) = OpaqueRegistration::start(password)?;
    let response = answer(request).await?;
    stretch(password, &response, kdf, move |p, r, k| {
        state.finish(p, r, k)
    })
    .await
}

/// Proof of `password` for a sensitive change of the signed-in account,
/// checked first against this device's copy of the vault key, so that a
/// typo costs no server attempt (and the server's limit counts only
/// passwords that open this device's copy).
pub(super) async fn prove(
    session: &Session,
    username: &str,
    password: &SecretString,
    profile_kdf: &KdfParams,
    profile_wrapped: &[u8],
) -> Result<PasswordProof, VaultError> {
    let master = derive(password, profile_kdf).await?;
    master
        .key_encryption_key()
        .unwrap(profile_wrapped)
        .map_err(|_| VaultError::WrongPassword)?;
    let (state, request) = OpaqueLogin::start(password)?;
    let start = session.login_start(username, request).await?;
    start.kdf.check_not_lower_than(profile_kdf)?;
    if start.legacy {
        let auth_key = if start.kdf == *profile_kdf {
            master.auth_key()
        } else {
            derive(password, &start.kdf).await?.auth_key()
        };
        return Ok(PasswordProof::Legacy(auth_key));
    }
    let finish = stretch(
        password,
        &start.credential_response,
        &start.kdf,
        move |p, r, k| state.finish(p, r, k),
    )
    .await?;
    Ok(PasswordProof::Opaque {
        login_id: start.login_id,
        finalization: finish.message,
    })
}

//! The master password's trips to the server (docs/design.md, "OPAQUE"):
//! OPAQUE login, registration of a password (new account, new password,
//! or a legacy account moving over), and proof of the password for a
//! sensitive change. A login or a new password stretches the password
//! with Argon2id twice, on two blocking threads at once: once inside OPAQUE
//! (the key that opens the server's copy of the vault key) and once for
//! this device's own key (the copy that unlocks offline). A new account's
//! registration stretches only inside OPAQUE: the login that follows it
//! makes the device's key.

use super::two_factor::sign_in;
use super::{ConnectOptions, VaultError, derive};
use crate::crypto::{
    CryptoError, KdfParams, KeyEncryptionKey, MasterSecret, OpaqueError, OpaqueFinish, OpaqueLogin,
    OpaqueRegistration, SecretKey, VaultKeys,
};
use crate::session::LoginStart;
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
/// the vault key in `wrapped_vault_key`, the vault key, and the account's
/// Secret Key if it has one.
pub(super) struct SignedIn {
    pub login: LoginOutcome,
    pub vault_key: VaultKeys,
    pub secret_key: Option<SecretKey>,
}

/// Logs in with the password (and the Secret Key `secret` holds, if any).
/// `known` is what this device's profile holds of the account's
/// parameters: lower ones from the server are refused. `kept` is a key
/// this device keeps that the profile does not know the account has (a
/// change to turn it on that stopped half-way): tried before asking.
pub(super) async fn log_in(
    session: &Session,
    username: &str,
    secret: &MasterSecret,
    kept: Option<SecretKey>,
    known: Option<&KdfParams>,
    options: &ConnectOptions,
) -> Result<SignedIn, VaultError> {
    let (state, start, secret) =
        log_in_start(session, username, secret, kept, known, options).await?;
    if start.legacy {
        return legacy_log_in(session, username, &secret, start.kdf, options).await;
    }
    let (finish, local) = tokio::try_join!(
        stretch(
            &secret,
            &start.credential_response,
            &start.kdf,
            move |p, r, k| state.finish(p, r, k)
        ),
        derive(&secret, &start.kdf),
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
    Ok(SignedIn {
        login,
        vault_key,
        secret_key: secret.secret_key().cloned(),
    })
}

/// The login's first round trip. OPAQUE's first message already depends
/// on whether a Secret Key is mixed in, and only the answer tells whether
/// the account has one: a device that started without one takes the key
/// it keeps (`kept`), else asks for it (`options.secret_key`), and starts
/// once more. Returns the secret the start was made with.
async fn log_in_start(
    session: &Session,
    username: &str,
    secret: &MasterSecret,
    mut kept: Option<SecretKey>,
    known: Option<&KdfParams>,
    options: &ConnectOptions,
) -> Result<(OpaqueLogin, LoginStart, MasterSecret), VaultError> {
    let mut secret = secret.clone();
    loop {
        let (state, request) = OpaqueLogin::start(&secret)?;
        let start = session.login_start(username, request).await?;
        if let Some(known) = known {
            start.kdf.check_not_lower_than(known)?;
        }
        if start.legacy || start.kdf.secret_key == secret.secret_key().is_some() {
            return Ok((state, start, secret));
        }
        if secret.secret_key().is_some() {
            // No account loses its Secret Key (there is no way to turn it
            // off): a server saying so wants the password alone.
            return Err(CryptoError::SecretKeyDropped.into());
        }
        let key = match kept.take() {
            Some(key) => key,
            None => options
                .secret_key
                .ask()?
                .ok_or(CryptoError::SecretKeyNeeded)?,
        };
        secret = secret.with_secret_key(Some(key));
    }
}

/// A finish that runs Argon2id (login or registration), off the async
/// workers.
async fn stretch(
    secret: &MasterSecret,
    response: &[u8],
    kdf: &KdfParams,
    finish: impl FnOnce(&MasterSecret, &[u8], &KdfParams) -> Result<OpaqueFinish, OpaqueError>
    + Send
    + 'static,
) -> Result<OpaqueFinish, VaultError> {
    let (secret, response, kdf) = (secret.clone(), response.to_vec(), kdf.clone());
    Ok(blocking(move || finish(&secret, &response, &kdf)).await??)
}

/// An account from before OPAQUE: the legacy login, then the move to
/// OPAQUE with the same password (under parameters no lower, the salt
/// bound to the user name), keeping every other session: nothing changed
/// that they should be cut off for. If the server cannot be told, the
/// account stays as it was and a later login tries again.
async fn legacy_log_in(
    session: &Session,
    username: &str,
    secret: &MasterSecret,
    kdf: KdfParams,
    options: &ConnectOptions,
) -> Result<SignedIn, VaultError> {
    let master = derive(secret, &kdf).await?;
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
    match set_password(session, secret, &new_kdf, &vault_key, &proof, true).await {
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
    Ok(SignedIn {
        login,
        vault_key,
        // Legacy accounts have none; a key the device holds is stale.
        secret_key: None,
    })
}

/// Registers `secret` under `kdf` with the server (OPAQUE) for the
/// signed-in account, wrapping `vault_key` under its export key; returns
/// this device's key for the same secret.
pub(super) async fn set_password(
    session: &Session,
    secret: &MasterSecret,
    kdf: &KdfParams,
    vault_key: &VaultKeys,
    current: &PasswordProof,
    keep_other_sessions: bool,
) -> Result<KeyEncryptionKey, VaultError> {
    let (finish, local) = tokio::try_join!(
        registration(secret, kdf, async |request| {
            session.change_password_start(request).await
        }),
        derive(secret, kdf),
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
    secret: &MasterSecret,
    kdf: &KdfParams,
    vault_key: &VaultKeys,
) -> Result<(), VaultError> {
    let finish = registration(secret, kdf, async |request| {
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

/// OPAQUE registration of `secret` under `kdf`: the first message, the
/// server's answer to it from `answer`, and the stretched finish.
async fn registration(
    secret: &MasterSecret,
    kdf: &KdfParams,
    answer: impl AsyncFnOnce(Vec<u8>) -> Result<Vec<u8>, ApiError>,
) -> Result<OpaqueFinish, VaultError> {
    let (state, request) = OpaqueRegistration::start(secret, kdf)?;
    let response = answer(request).await?;
    stretch(secret, &response, kdf, move |p, r, k| state.finish(p, r, k)).await
}

/// Proof of `password` for a sensitive change of the signed-in account,
/// checked first against this device's copy of the vault key, so that a
/// typo costs no server attempt (and the server's limit counts only
/// passwords that open this device's copy). Also returns this device's key
/// for the password.
pub(super) async fn prove(
    session: &Session,
    username: &str,
    secret: &MasterSecret,
    profile_kdf: &KdfParams,
    profile_wrapped: &[u8],
) -> Result<(PasswordProof, KeyEncryptionKey), VaultError> {
    let master = derive(secret, profile_kdf).await?;
    let local = master.key_encryption_key();
    local
        .unwrap(profile_wrapped)
        .map_err(|_| VaultError::WrongPassword)?;
    let (state, request) = OpaqueLogin::start(secret)?;
    let start = session.login_start(username, request).await?;
    start.kdf.check_not_lower_than(profile_kdf)?;
    if start.legacy {
        let auth_key = if start.kdf == *profile_kdf {
            master.auth_key()
        } else {
            derive(secret, &start.kdf).await?.auth_key()
        };
        return Ok((PasswordProof::Legacy(auth_key), local));
    }
    let finish = stretch(
        secret,
        &start.credential_response,
        &start.kdf,
        move |p, r, k| state.finish(p, r, k),
    )
    .await?;
    let proof = PasswordProof::Opaque {
        login_id: start.login_id,
        finalization: finish.message,
    };
    Ok((proof, local))
}

//! Two-factor login as a user interface sees it (docs/design.md,
//! "Two-factor login"): where a login finds the second factor, and turning
//! it on and off. The server checks the codes; the device only carries
//! them.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::{ConnectOptions, Vault, VaultError};
use crate::session::{ApiError, LoginOutcome, PasswordProof};

/// Where a login finds the second factor of an account with two-factor
/// login on.
#[derive(Clone, Default)]
pub enum SecondFactor {
    /// None at hand: such a login fails with
    /// [`ApiError::SecondFactorRequired`].
    #[default]
    None,
    /// Sent with the login (a script's `GOPHKEEPER_2FA_CODE`).
    Code(SecretString),
    /// Asked for only when the server says the account needs one, so the
    /// master password is stretched once either way. `None` gives up.
    Ask(Arc<dyn Fn() -> Option<SecretString> + Send + Sync>),
}

impl std::fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Code(_) => "Code(<redacted>)",
            Self::Ask(_) => "Ask",
        })
    }
}

/// Finishes a login with `attempt`, with a second factor if the account
/// needs one. After the server asks for a code, the same login is finished
/// again with it: the password is not stretched twice.
pub(super) async fn sign_in(
    options: &ConnectOptions,
    attempt: impl AsyncFn(Option<&str>) -> Result<LoginOutcome, ApiError>,
) -> Result<LoginOutcome, VaultError> {
    let first = match &options.second_factor {
        SecondFactor::Code(code) => Some(code.expose_secret()),
        SecondFactor::None | SecondFactor::Ask(_) => None,
    };
    match attempt(first).await {
        Err(ApiError::SecondFactorRequired) => {
            let SecondFactor::Ask(ask) = &options.second_factor else {
                return Err(ApiError::SecondFactorRequired.into());
            };
            let code = ask().ok_or(ApiError::SecondFactorRequired)?;
            Ok(attempt(Some(code.expose_secret())).await?)
        }
        other => Ok(other?),
    }
}

/// Whether the account has two-factor login on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: u32,
}

/// A secret to put into an authenticator app: not in force until a code
/// of it confirms it ([`Vault::enable_two_factor`]).
pub struct TwoFactorSetup {
    /// `otpauth://totp/...`, for an app that reads it (or as a QR code).
    pub otpauth_uri: SecretString,
    /// The same secret in base32, for typing in.
    pub secret_base32: SecretString,
}

impl std::fmt::Debug for TwoFactorSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwoFactorSetup(<redacted>)")
    }
}

impl Vault {
    pub async fn two_factor_status(&self) -> Result<TwoFactorStatus, VaultError> {
        let status = self.session.two_factor_status().await?;
        Ok(TwoFactorStatus {
            enabled: status.enabled,
            recovery_codes_left: status.recovery_codes_left,
        })
    }

    /// Checks the master password and has the server make a new secret.
    pub async fn begin_two_factor(
        &self,
        password: &SecretString,
    ) -> Result<TwoFactorSetup, VaultError> {
        let proof = self.password_proof(password).await?;
        let setup = self.session.begin_two_factor(&proof).await?;
        Ok(TwoFactorSetup {
            otpauth_uri: setup.otpauth_uri.into(),
            secret_base32: setup.secret_base32.into(),
        })
    }

    /// Turns two-factor login on with a current code of the new secret;
    /// returns the ten recovery codes, shown this once.
    pub async fn enable_two_factor(&self, code: &str) -> Result<Vec<SecretString>, VaultError> {
        let codes = self.session.enable_two_factor(code).await?;
        Ok(codes.into_iter().map(SecretString::from).collect())
    }

    /// Turns two-factor login off: the master password and a code (TOTP
    /// or recovery).
    pub async fn disable_two_factor(
        &self,
        password: &SecretString,
        code: &str,
    ) -> Result<(), VaultError> {
        let proof = self.password_proof(password).await?;
        self.session.disable_two_factor(&proof, code).await?;
        Ok(())
    }

    /// Proof of the master password for a sensitive change, checked here
    /// first (it must unwrap this device's copy of the vault key), so that
    /// a typo costs no server attempt.
    pub(super) async fn password_proof(
        &self,
        password: &SecretString,
    ) -> Result<PasswordProof, VaultError> {
        super::credentials::prove(
            &self.session,
            &self.profile.username,
            &self.master_secret(password).await?,
            &self.profile.kdf,
            &self.profile.wrapped_vault_key,
        )
        .await
        .map(|(proof, _)| proof)
    }
}

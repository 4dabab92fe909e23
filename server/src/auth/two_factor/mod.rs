//! Two-factor login (docs/design.md, "Two-factor login"): an account may
//! require, besides the password, a TOTP code or a one-time recovery code
//! before the auth service starts a new session. Existing sessions (and so
//! unlocking a device that has one) need only the password. Turning it on
//! or off needs the password; off needs a code too.

mod codes;
mod sql;

pub use self::codes::TwoFactorKeys;
pub(crate) use self::sql::two_factor_store_sql;

use gophkeeper_proto::v1;
use zeroize::Zeroizing;

use super::store::TwoFactorRow;
use super::{Auth, AuthError};
use crate::ids::{SessionId, UserId, now_ms};

/// A second factor longer than this is neither a code nor a recovery code.
const MAX_SECOND_FACTOR_LEN: usize = 64;

fn unexpected(err: impl std::error::Error + Send + Sync + 'static) -> AuthError {
    AuthError::Unexpected(Box::new(err))
}

impl Auth {
    /// Refuses a new session of an account with two-factor login on unless
    /// `presented` is a TOTP code of a step not used before or an unused
    /// recovery code; either is then spent.
    pub(super) async fn check_second_factor(
        &self,
        user_id: UserId,
        presented: &str,
    ) -> Result<(), AuthError> {
        match self.enabled_two_factor(user_id).await? {
            Some(row) => self.spend_second_factor(user_id, &row, presented).await,
            None => Ok(()),
        }
    }

    /// The account's two-factor row, if two-factor login is on.
    async fn enabled_two_factor(&self, user_id: UserId) -> Result<Option<TwoFactorRow>, AuthError> {
        Ok(self
            .store
            .two_factor(user_id)
            .await?
            .filter(|row| row.enabled_at_ms.is_some()))
    }

    /// Accepts and spends `presented` as a second factor of `row`'s account.
    async fn spend_second_factor(
        &self,
        user_id: UserId,
        row: &TwoFactorRow,
        presented: &str,
    ) -> Result<(), AuthError> {
        let code = presented.trim();
        if code.is_empty() {
            return Err(AuthError::SecondFactorRequired);
        }
        let accepted = if code.len() > MAX_SECOND_FACTOR_LEN {
            false
        } else if codes::is_totp_code(code) {
            let secret = self
                .two_factor
                .open_secret(user_id, &row.sealed_secret)
                .map_err(unexpected)?;
            match codes::matching_step(&secret, code, now_secs()) {
                Some(step) => self.store.use_totp_step(user_id, to_sql(step)).await?,
                None => false,
            }
        } else {
            let hash = self.two_factor.recovery_hash(user_id, code);
            self.store
                .use_recovery_code(user_id, &hash, now_ms())
                .await?
        };
        if accepted {
            Ok(())
        } else {
            tracing::info!(%user_id, "second factor refused");
            Err(AuthError::SecondFactorInvalid)
        }
    }

    /// Whether two-factor login is on, and how many recovery codes are left.
    pub async fn two_factor_status(
        &self,
        user_id: UserId,
    ) -> Result<v1::TwoFactorStatusResponse, AuthError> {
        let enabled = self.enabled_two_factor(user_id).await?.is_some();
        let recovery_codes_left = if enabled {
            self.store.recovery_codes_left(user_id).await?
        } else {
            0
        };
        Ok(v1::TwoFactorStatusResponse {
            enabled,
            recovery_codes_left,
        })
    }

    /// Checks the password, then makes and keeps (sealed) a new secret, not
    /// in force until a code of it confirms it.
    pub async fn begin_two_factor(
        &self,
        user_id: UserId,
        session_id: SessionId,
        request: v1::BeginTwoFactorRequest,
    ) -> Result<v1::BeginTwoFactorResponse, AuthError> {
        let username = self
            .check_password(user_id, session_id, request.current)
            .await?;
        let secret = codes::new_secret();
        let sealed = self.two_factor.seal_secret(user_id, &secret);
        if !self
            .store
            .stage_two_factor(user_id, &sealed, now_ms())
            .await?
        {
            return Err(AuthError::TwoFactorState(
                "two-factor login is on already; turn it off first".into(),
            ));
        }
        let (otpauth_uri, secret_base32) = codes::enrolment(&secret, &username);
        tracing::info!(%user_id, "two-factor setup begun");
        Ok(v1::BeginTwoFactorResponse {
            otpauth_uri,
            secret_base32,
        })
    }

    /// Turns two-factor login on once a code of the staged secret confirms
    /// that the authenticator holds it; returns the recovery codes, which
    /// only their hashes outlive.
    pub async fn enable_two_factor(
        &self,
        user_id: UserId,
        session_id: SessionId,
        request: v1::EnableTwoFactorRequest,
    ) -> Result<Vec<Zeroizing<String>>, AuthError> {
        self.limit_session(user_id, session_id).await?;
        let row = match self.store.two_factor(user_id).await? {
            Some(row) if row.enabled_at_ms.is_none() => row,
            Some(_) => {
                return Err(AuthError::TwoFactorState(
                    "two-factor login is on already".into(),
                ));
            }
            None => {
                return Err(AuthError::TwoFactorState(
                    "no two-factor setup is in progress; begin one first".into(),
                ));
            }
        };
        let secret = self
            .two_factor
            .open_secret(user_id, &row.sealed_secret)
            .map_err(unexpected)?;
        let step = codes::matching_step(&secret, request.code.trim(), now_secs())
            .ok_or(AuthError::SecondFactorInvalid)?;
        let recovery = codes::new_recovery_codes();
        let hashes: Vec<[u8; 32]> = recovery
            .iter()
            .map(|code| self.two_factor.recovery_hash(user_id, code))
            .collect();
        if !self
            .store
            .enable_two_factor(user_id, to_sql(step), &hashes, now_ms())
            .await?
        {
            return Err(AuthError::TwoFactorState(
                "two-factor login is on already".into(),
            ));
        }
        tracing::info!(%user_id, "two-factor login turned on");
        Ok(recovery)
    }

    /// Turns two-factor login off: the password and a second factor.
    pub async fn disable_two_factor(
        &self,
        user_id: UserId,
        session_id: SessionId,
        request: v1::DisableTwoFactorRequest,
    ) -> Result<(), AuthError> {
        self.check_password(user_id, session_id, request.current)
            .await?;
        let row = self
            .enabled_two_factor(user_id)
            .await?
            .ok_or_else(|| AuthError::TwoFactorState("two-factor login is off".into()))?;
        self.spend_second_factor(user_id, &row, &request.second_factor)
            .await?;
        self.store.disable_two_factor(user_id).await?;
        tracing::info!(%user_id, "two-factor login turned off");
        Ok(())
    }
}

fn now_secs() -> u64 {
    u64::try_from(now_ms()).unwrap_or(0) / 1000
}

fn to_sql(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

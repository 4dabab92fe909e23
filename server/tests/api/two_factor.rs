//! Two-factor login: off until a code confirms the secret; then a new
//! session needs a TOTP code or a recovery code, each good once; existing
//! sessions go on; turning it off needs the password and a code.

// The helpers serve `tuned.rs` too, which the cluster binary leaves out.
#![allow(dead_code)]

use gophkeeper_proto::v1;
use tonic::Code;

use crate::helpers::*;

/// The code an authenticator app shows for this secret at `at_secs`.
pub fn totp_code(secret_base32: &str, at_secs: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build_noncompliant()
        .generate(at_secs)
        .to_string()
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A login with a second factor.
pub async fn login_with(
    app: &TestApp,
    username: &str,
    second_factor: &str,
) -> Result<v1::LoginResponse, tonic::Status> {
    app.login_with_code(username, &auth_key(username), second_factor)
        .await
}

impl Device {
    pub async fn two_factor_status(&self) -> v1::TwoFactorStatusResponse {
        self.account
            .clone()
            .two_factor_status(self.req(v1::TwoFactorStatusRequest {}))
            .await
            .unwrap()
            .into_inner()
    }

    /// Turns two-factor login on; returns its secret and recovery codes.
    pub async fn enable_two_factor(&self) -> (String, Vec<String>) {
        let setup = self
            .account
            .clone()
            .begin_two_factor(self.req(v1::BeginTwoFactorRequest {
                current: Some(
                    password_proof(&self.account, &self.username, &auth_key(&self.username)).await,
                ),
            }))
            .await
            .unwrap()
            .into_inner();
        let code = totp_code(&setup.secret_base32, now_secs());
        let enabled = self
            .account
            .clone()
            .enable_two_factor(self.req(v1::EnableTwoFactorRequest { code }))
            .await
            .unwrap()
            .into_inner();
        (setup.secret_base32, enabled.recovery_codes)
    }
}

#[tokio::test]
async fn two_factor_guards_new_sessions_and_each_code_works_once() {
    let app = spawn_app().await;
    let a = app.new_user().await;
    let name = a.username.clone();
    let mut account = a.account.clone();
    assert!(!a.two_factor_status().await.enabled);

    let status = account
        .begin_two_factor(a.req(v1::BeginTwoFactorRequest {
            current: Some(password_proof(&account, &name, &[0; 32]).await),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    let status = account
        .enable_two_factor(a.req(v1::EnableTwoFactorRequest {
            code: "123456".into(),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::FailedPrecondition, "TWO_FACTOR_STATE");

    let setup = account
        .begin_two_factor(a.req(v1::BeginTwoFactorRequest {
            current: Some(password_proof(&account, &name, &auth_key(&name)).await),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        setup.otpauth_uri.starts_with("otpauth://totp/GophKeeper:")
            && setup
                .otpauth_uri
                .contains(&format!("secret={}", setup.secret_base32)),
        "{}",
        setup.otpauth_uri
    );
    // Not in force until confirmed.
    app.login(&name, &auth_key(&name)).await.unwrap();
    let valid: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|d| totp_code(&setup.secret_base32, now_secs().saturating_add_signed(*d)))
        .collect();
    let wrong = (0..)
        .map(|n| format!("{:06}", 111_111 * (n % 9)))
        .find(|code| !valid.contains(code))
        .unwrap();
    let status = account
        .enable_two_factor(a.req(v1::EnableTwoFactorRequest { code: wrong }))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_INVALID");
    let enabling_code = totp_code(&setup.secret_base32, now_secs());
    let recovery = account
        .enable_two_factor(a.req(v1::EnableTwoFactorRequest {
            code: enabling_code.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .recovery_codes;
    assert_eq!(recovery.len(), 10);
    let status = a.two_factor_status().await;
    assert!(status.enabled);
    assert_eq!(status.recovery_codes_left, 10);
    let status = account
        .begin_two_factor(a.req(v1::BeginTwoFactorRequest {
            current: Some(password_proof(&account, &name, &auth_key(&name)).await),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::FailedPrecondition, "TWO_FACTOR_STATE");

    // A new session needs the second factor; a wrong password says only that.
    let status = app.login(&name, &auth_key(&name)).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_REQUIRED");
    let status = app.login(&name, &[0; 32]).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    // The code that turned it on is spent; the next step's is good once.
    let status = login_with(&app, &name, &enabling_code).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_INVALID");
    let next = totp_code(&setup.secret_base32, now_secs() + 30);
    login_with(&app, &name, &next).await.unwrap();
    let status = login_with(&app, &name, &next).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_INVALID");
    // A recovery code, however typed, is good once.
    let typed = recovery[0].to_uppercase().replace('-', " ");
    login_with(&app, &name, &typed).await.unwrap();
    let status = login_with(&app, &name, &recovery[0]).await.unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_INVALID");
    for made_up in ["abcd-efgh-jkmn", "", &"9".repeat(100)] {
        let status = login_with(&app, &name, made_up).await.unwrap_err();
        let reason = if made_up.is_empty() {
            "SECOND_FACTOR_REQUIRED"
        } else {
            "SECOND_FACTOR_INVALID"
        };
        assert_status(&status, Code::Unauthenticated, reason);
    }
    assert_eq!(a.two_factor_status().await.recovery_codes_left, 9);
    // The session that existed goes on.
    a.changes(0).await.unwrap();

    let disable = |proof: v1::PasswordProof, code: &str| v1::DisableTwoFactorRequest {
        current: Some(proof),
        second_factor: code.into(),
    };
    let status = account
        .disable_two_factor(a.req(disable(
            password_proof(&account, &name, &[0; 32]).await,
            &recovery[1],
        )))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "BAD_CREDENTIALS");
    let status = account
        .disable_two_factor(a.req(disable(
            password_proof(&account, &name, &auth_key(&name)).await,
            "",
        )))
        .await
        .unwrap_err();
    assert_status(&status, Code::Unauthenticated, "SECOND_FACTOR_REQUIRED");
    assert!(a.two_factor_status().await.enabled);
    account
        .disable_two_factor(a.req(disable(
            password_proof(&account, &name, &auth_key(&name)).await,
            &recovery[1],
        )))
        .await
        .unwrap();
    assert!(!a.two_factor_status().await.enabled);
    app.login(&name, &auth_key(&name)).await.unwrap();
    let status = account
        .disable_two_factor(a.req(disable(
            password_proof(&account, &name, &auth_key(&name)).await,
            &recovery[2],
        )))
        .await
        .unwrap_err();
    assert_status(&status, Code::FailedPrecondition, "TWO_FACTOR_STATE");
}

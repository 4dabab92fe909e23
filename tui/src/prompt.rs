//! Questions to the person at the keyboard: master passwords without echo,
//! and the first-contact certificate question.
//!
//! Scripts set `GOPHKEEPER_PASSWORD` instead of typing; a master password
//! is never taken from a command-line flag, where every user of the machine
//! could read it in the process list.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, bail};
use gophkeeper_client::vault::{SecondFactor, SecretKey, SecretKeyInput};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// The master password of the profile, for unlocking and logging in.
pub const PASSWORD_ENV: &str = "GOPHKEEPER_PASSWORD";
/// The new master password for `passwd`.
pub const NEW_PASSWORD_ENV: &str = "GOPHKEEPER_NEW_PASSWORD";
/// The password an export file was made with, for `import --format gophkeeper`.
pub const EXPORT_PASSWORD_ENV: &str = "GOPHKEEPER_EXPORT_PASSWORD";
/// A two-factor code (TOTP or recovery) for `login` and `2fa`.
pub const TWO_FACTOR_ENV: &str = "GOPHKEEPER_2FA_CODE";
/// The account's Secret Key (the emergency kit's `GK-...` line), for a
/// new device's `login`.
pub const SECRET_KEY_ENV: &str = "GOPHKEEPER_SECRET_KEY";

/// From `env` if set, else asked once on the terminal.
pub fn password(env: &str, question: &str) -> anyhow::Result<SecretString> {
    if let Some(value) = from_env(env) {
        return Ok(value);
    }
    ask_hidden(question, env)
}

/// A new master password: from `env` if set (once), else asked twice on
/// the terminal, which must agree. Its strength is checked where it is
/// used (`Vault::register`, `Vault::change_password`), for every UI alike.
pub fn new_password(env: &str, question: &str) -> anyhow::Result<SecretString> {
    match from_env(env) {
        Some(value) => Ok(value),
        None => {
            let first = ask_hidden(question, env)?;
            let second = ask_hidden("Type it again: ", env)?;
            if first.expose_secret() != second.expose_secret() {
                bail!("the two passwords differ; nothing was changed");
            }
            Ok(first)
        }
    }
}

fn from_env(env: &str) -> Option<SecretString> {
    std::env::var(env).ok().map(SecretString::from)
}

/// Reads from the terminal itself (not standard input, which a script may
/// be piping `yes` into), with echo off. Only when a person is plausibly
/// there (standard input or standard error is a terminal): a job whose
/// output is captured fails at once instead of waiting on a terminal it
/// happened to inherit.
fn ask_hidden(question: &str, env: &str) -> anyhow::Result<SecretString> {
    if !(std::io::stdin().is_terminal() || std::io::stderr().is_terminal()) {
        bail!("no terminal to ask on; set {env} instead");
    }
    let answer = Zeroizing::new(
        rpassword::prompt_password(question)
            .with_context(|| format!("no terminal to ask on; set {env} instead"))?,
    );
    Ok(SecretString::from(answer.as_str()))
}

/// Where `login` finds a second factor: `GOPHKEEPER_2FA_CODE` if set,
/// else asked only if the account turns out to need one.
pub fn second_factor() -> SecondFactor {
    match from_env(TWO_FACTOR_ENV) {
        Some(code) => SecondFactor::Code(code),
        None => SecondFactor::Ask(Arc::new(|| {
            code("Two-factor code (or a recovery code): ").ok()
        })),
    }
}

/// Where `login` finds the Secret Key: `GOPHKEEPER_SECRET_KEY` if set
/// (a typo in it is an error at once), else the one this device keeps,
/// else asked (without echo) only if the account turns out to have one.
pub fn secret_key() -> anyhow::Result<SecretKeyInput> {
    match from_env(SECRET_KEY_ENV) {
        Some(text) => Ok(SecretKeyInput::Given(
            SecretKey::parse(text.expose_secret()).context(SECRET_KEY_ENV)?,
        )),
        None => Ok(SecretKeyInput::Ask(Arc::new(|| {
            ask_hidden(
                "This account has a Secret Key; type it from the emergency kit (GK-...): ",
                SECRET_KEY_ENV,
            )
            .ok()
        }))),
    }
}

/// A two-factor code: from `GOPHKEEPER_2FA_CODE` if set, else a line of
/// standard input (a code is good once, so it need not be hidden, and a
/// script that has just read the new secret can answer).
pub fn code(question: &str) -> anyhow::Result<SecretString> {
    if let Some(value) = from_env(TWO_FACTOR_ENV) {
        return Ok(value);
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the code from standard input")?;
    let code = line.trim();
    if code.is_empty() {
        bail!("no code given; set {TWO_FACTOR_ENV} or type it");
    }
    Ok(SecretString::from(code))
}

/// The first-contact question: shows the certificate's SHA-256 fingerprint
/// and reads `y`/`n` from standard input, so that `yes | gophkeeper login`
/// accepts in a script. Anything but yes (including end of input) is no.
pub fn accept_certificate(fingerprint: &str) -> bool {
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "The server's certificate is not signed by an authority this computer trusts.\n\
         Its SHA-256 fingerprint is\n  {fingerprint}\n\
         Compare it with the fingerprint the server logs when it starts (or ask whoever runs it).\n\
         Trust this certificate from now on? [y/N] "
    );
    let _ = err.flush();
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    let yes = read.is_ok() && is_yes(&line);
    let _ = writeln!(err, "{}", if yes { "yes" } else { "no" });
    yes
}

fn is_yes(line: &str) -> bool {
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_is_yes() {
        for yes in ["y\n", "Y", " yes ", "YES\r\n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yess", "sure"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}

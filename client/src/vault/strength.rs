//! The master-password rule: at least [`MIN_MASTER_PASSWORD_CHARS`]
//! characters and a zxcvbn score of at least [`MIN_SCORE`] (of 4).
//!
//! The whole vault rests on this one password, and a stolen server
//! database or laptop lets an attacker guess it offline: Argon2id makes
//! each guess cost, but a password from the top of a cracking list falls
//! anyway. zxcvbn estimates how many guesses such a list needs (common
//! passwords, words, names, keyboard patterns, dates, repeats, and the
//! account's own user name); 3 means about 10^8 guesses or more.
//!
//! Checked in the library where a password is set ([`Vault::register`],
//! [`Vault::change_password`]), before anything is written or sent, so
//! every user interface gets the same rule; they may call
//! [`check_master_password`] earlier to answer a form at once.
//!
//! [`Vault::register`]: super::Vault::register
//! [`Vault::change_password`]: super::Vault::change_password

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// Fewer characters than this are refused whatever their score.
pub const MIN_MASTER_PASSWORD_CHARS: usize = 12;
/// zxcvbn's score, 0 to 4: 3 is "safely unguessable" against an online
/// attack and a fair start against an offline one slowed by Argon2id.
pub const MIN_SCORE: u8 = 3;

/// Why a new master password was refused. It holds the estimate's verdict
/// and zxcvbn's fixed advice texts, never the password or a part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the master password is too weak: {}.{}{} (The rule: at least {MIN_MASTER_PASSWORD_CHARS} \
     characters and a strength estimate (zxcvbn) of at least {MIN_SCORE} of 4.)",
    self.problem(),
    self.warning.as_ref().map(|w| format!(" {w}")).unwrap_or_default(),
    self.suggestions.iter().map(|s| format!(" {s}")).collect::<String>()
)]
pub struct WeakPassword {
    /// Shorter than [`MIN_MASTER_PASSWORD_CHARS`].
    pub too_short: bool,
    /// zxcvbn's score, 0 to 4.
    pub score: u8,
    /// What is wrong with it, e.g. "This is a very common password."
    pub warning: Option<String>,
    /// How to do better, e.g. "Add another word or two. Uncommon words are
    /// better."
    pub suggestions: Vec<String>,
}

impl WeakPassword {
    fn problem(&self) -> String {
        let score = format!("its estimated strength is {} of 4", self.score);
        match (self.too_short, self.score < MIN_SCORE) {
            (true, true) => {
                format!("it has fewer than {MIN_MASTER_PASSWORD_CHARS} characters and {score}")
            }
            (true, false) => format!("it has fewer than {MIN_MASTER_PASSWORD_CHARS} characters"),
            (false, _) => score,
        }
    }
}

/// Refuses a master password that breaks the rule. `username` is the
/// account's: it is no secret, so zxcvbn gets it (and its parts) as known
/// words, and what is left of the password without it must be strong by
/// itself ("alice2026alice" is weak for alice).
pub fn check_master_password(password: &SecretString, username: &str) -> Result<(), WeakPassword> {
    let password = password.expose_secret();
    // Counted as the key derivation sees it (NFC): "é" typed either way is
    // one character.
    let too_short =
        password.nfc().take(MIN_MASTER_PASSWORD_CHARS).count() < MIN_MASTER_PASSWORD_CHARS;
    let Estimate {
        score,
        warning,
        mut suggestions,
    } = estimate(password, &known_words(&["gophkeeper", username]));
    if !too_short && score >= MIN_SCORE {
        return Ok(());
    }
    // zxcvbn gives advice only for scores up to 2; a short password that
    // scores well still needs to hear how to make it longer.
    if suggestions.is_empty() {
        suggestions.push(
            "A few uncommon words (a passphrase) are long, strong and easy to type.".to_owned(),
        );
    }
    Err(WeakPassword {
        too_short,
        score,
        warning,
        suggestions,
    })
}

/// zxcvbn's verdict on a password: fixed texts, nothing of the password.
pub(super) struct Estimate {
    /// 0 to 4.
    pub score: u8,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

/// Estimates `password`, `known` being words an attacker knows (see
/// [`known_words`]): what is left of the password without them must be
/// strong by itself ("alice2026alice" is weak for alice).
pub(super) fn estimate(password: &str, known: &[String]) -> Estimate {
    let inputs: Vec<&str> = known.iter().map(String::as_str).collect();
    // The estimates keep pieces of the password (their match sequences):
    // they are dropped here and never logged or shown.
    let full = zxcvbn::zxcvbn(password, &inputs);
    let (warning, suggestions) = full.feedback().map(advice).unwrap_or_default();
    let mut verdict = Estimate {
        score: u8::from(full.score()),
        warning,
        suggestions,
    };
    // zxcvbn counts every piece it recognises as at least 50 guesses and
    // multiplies in 10^4 per extra piece, so any three pieces reach score
    // 3: "alice2026alice" for alice too. Hence the second look, without
    // the known words.
    let rest = without_names(password, known);
    if rest.len() < password.len() {
        let rest_estimate = zxcvbn::zxcvbn(&rest, &inputs);
        let rest_score = u8::from(rest_estimate.score());
        if rest_score < verdict.score {
            verdict = Estimate {
                score: rest_score,
                warning: Some(
                    "It is built on the user name or other words that are no secret.".to_owned(),
                ),
                suggestions: rest_estimate.feedback().map(advice).unwrap_or_default().1,
            };
        }
    }
    verdict
}

/// zxcvbn's advice as text: fixed sentences, nothing of the password.
fn advice(feedback: &zxcvbn::feedback::Feedback) -> (Option<String>, Vec<String>) {
    (
        feedback.warning().map(|w| w.to_string()),
        feedback
            .suggestions()
            .iter()
            .map(ToString::to_string)
            .collect(),
    )
}

/// The password, lower-cased, with every occurrence of the user name and
/// of its parts taken out, longest first.
fn without_names(password: &str, names: &[String]) -> Zeroizing<String> {
    let mut rest = Zeroizing::new(password.to_lowercase());
    let mut names: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n.chars().count() >= 3)
        .collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for name in names {
        if rest.contains(name) {
            rest = Zeroizing::new(rest.replace(name, ""));
        }
    }
    rest
}

/// What an attacker knows, as zxcvbn's user inputs: each text lower-cased,
/// and its parts (an e-mail address's, a host name's) of 3 characters or
/// more.
pub(super) fn known_words(texts: &[&str]) -> Vec<String> {
    let mut words = Vec::new();
    for text in texts {
        let text = text.trim().to_lowercase();
        if text.is_empty() {
            continue;
        }
        words.extend(
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|part| part.chars().count() >= 3)
                .map(str::to_owned),
        );
        words.push(text);
    }
    words.sort();
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str, username: &str) -> Result<(), WeakPassword> {
        check_master_password(&SecretString::from(password), username)
    }

    #[test]
    fn short_passwords_are_refused_whatever_their_score() {
        let err = check("k7#Qv9!zLp2", "ann").unwrap_err();
        assert!(err.too_short, "{err:?}");
        let text = err.to_string();
        assert!(text.contains("fewer than 12 characters"), "{text}");
        assert!(text.contains("passphrase"), "{text}");
        assert!(check("", "ann").unwrap_err().too_short);
    }

    #[test]
    fn long_but_common_passwords_are_refused_with_advice() {
        for common in [
            "passwordpassword",
            "123456789012",
            "qwertyuiopasdf",
            "iloveyou2026!",
        ] {
            let err = check(common, "ann").unwrap_err();
            assert!(!err.too_short, "{common}");
            assert!(err.score < MIN_SCORE, "{common}: {err:?}");
            assert!(
                err.warning.is_some() || !err.suggestions.is_empty(),
                "{common}"
            );
        }
        let text = check("passwordpassword", "ann").unwrap_err().to_string();
        assert!(text.contains("estimated strength is"), "{text}");
        assert!(text.contains("at least 12 characters"), "{text}");
        assert!(text.contains("zxcvbn) of at least 3 of 4"), "{text}");
    }

    #[test]
    fn the_user_name_counts_as_known() {
        // Strong enough for zxcvbn (three pieces), not with alice's name
        // taken out.
        let password = "alice2026alice";
        assert_eq!(check(password, "bob"), Ok(()));
        let err = check(password, "alice").unwrap_err();
        assert!(err.score < MIN_SCORE, "{err:?}");
        assert!(err.to_string().contains("built on the user name"), "{err}");
        assert_eq!(check("aliceliddell2026", "bob"), Ok(()));
        assert!(check("AliceLiddell2026", "alice").is_err());
        assert!(check("zqwombat2026zqwombat", "zqwombat").is_err());
        // A name inside a strong passphrase takes nothing away.
        assert_eq!(check("correct horse battery staple", "horse"), Ok(()));
        let parts = check(
            "wonderland.alice.liddell",
            "alice.liddell@wonderland.example",
        );
        assert!(parts.is_err(), "the parts of an e-mail address count too");
    }

    #[test]
    fn strong_passwords_are_accepted() {
        for strong in [
            "correct horse battery staple",
            "plinth-marmot-saffron-quiver",
            // What `gophkeeper generate --words 6` makes.
            "sphere-sandy-riverbed-cobbler-poplar-thumb",
            "Tk8#vQ2m!Lz9pW4x",
        ] {
            assert_eq!(check(strong, "ann"), Ok(()), "{strong}");
        }
    }

    #[test]
    fn the_refusal_never_holds_the_password() {
        for weak in [
            "passwordpassword",
            "alice2026alice",
            "Summer2026!",
            "hunter2",
        ] {
            let err = check(weak, "alice").unwrap_err();
            assert!(!err.to_string().contains(weak), "{err}");
            assert!(!format!("{err:?}").contains(weak), "{err:?}");
        }
    }
}

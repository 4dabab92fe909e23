//! Random passwords and passphrases, from the operating system's CSPRNG.
//!
//! Both are uniform over their space, so their strength is exactly the
//! number of bits reported by [`password_bits`] and [`passphrase_bits`]:
//! no "pronounceable" tricks, no user-chosen parts.

mod passphrase;
mod password;

pub use passphrase::{DEFAULT_SEPARATOR, WORDS, passphrase, passphrase_bits};
pub use password::{
    DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH, SYMBOLS, password, password_bits,
    password_without_symbols, password_without_symbols_bits,
};

/// Requests the generators refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error(
        "a password of {0} characters cannot hold one of each class; use {MIN_LENGTH} to {MAX_LENGTH}"
    )]
    Length(usize),
    #[error("{0} words is outside 3 to 64; fewer than 3 is too weak to be worth it")]
    Words(usize),
}

//! Character passwords with every class present.

use rand::Rng;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::GenerateError;

pub const DEFAULT_LENGTH: usize = 20;
/// One of each of the four classes needs at least four characters.
pub const MIN_LENGTH: usize = 4;
pub const MAX_LENGTH: usize = 1024;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
/// Symbols that need no quoting in a shell's double quotes and that sites
/// commonly accept: no quotes, backslash, backtick, dollar or space.
pub const SYMBOLS: &[u8] = b"!#%&()*+,-./:;<=>?@[]^_{|}~";

const CLASSES: [&[u8]; 4] = [LOWER, UPPER, DIGITS, SYMBOLS];

fn alphabet() -> Vec<u8> {
    CLASSES.concat()
}

/// A password of `length` characters drawn uniformly from lower case, upper
/// case, digits and [`SYMBOLS`], with at least one of each.
///
/// Drawn whole and redrawn until every class is present (rejection
/// sampling), which keeps it uniform over all passwords that satisfy the
/// rule; forcing one character per class at fixed places would not. At 20
/// characters fewer than 1 in 3 draws is rejected.
pub fn password(length: usize) -> Result<Zeroizing<String>, GenerateError> {
    password_of(length, &CLASSES)
}

/// The same without symbols, for the sites that refuse them (the
/// generator dialog's character option).
pub fn password_without_symbols(length: usize) -> Result<Zeroizing<String>, GenerateError> {
    password_of(length, &CLASSES[..3])
}

fn password_of(length: usize, classes: &[&[u8]]) -> Result<Zeroizing<String>, GenerateError> {
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(GenerateError::Length(length));
    }
    let alphabet = classes.concat();
    let mut rng = OsRng;
    loop {
        let mut bytes = Zeroizing::new(Vec::with_capacity(length));
        for _ in 0..length {
            bytes.push(alphabet[rng.gen_range(0..alphabet.len())]);
        }
        if classes
            .iter()
            .all(|class| bytes.iter().any(|b| class.contains(b)))
        {
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            return Ok(Zeroizing::new(text));
        }
    }
}

/// Bits of strength of a [`password`] of `length` characters (slightly
/// under `length × log2(alphabet)` because of the every-class rule, which
/// is ignored here: it removes far less than one bit).
pub fn password_bits(length: usize) -> f64 {
    bits_over(length, alphabet().len())
}

/// Bits of strength of a [`password_without_symbols`].
pub fn password_without_symbols_bits(length: usize) -> f64 {
    bits_over(length, CLASSES[..3].concat().len())
}

fn bits_over(length: usize, alphabet: usize) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "small numbers")]
    let bits = length as f64 * (alphabet as f64).log2();
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_every_time_and_only_the_alphabet() {
        let alphabet = alphabet();
        for length in [MIN_LENGTH, 5, DEFAULT_LENGTH, 64] {
            for _ in 0..200 {
                let pw = password(length).unwrap();
                assert_eq!(pw.len(), length);
                for class in CLASSES {
                    assert!(pw.bytes().any(|b| class.contains(&b)), "{length}");
                }
                assert!(pw.bytes().all(|b| alphabet.contains(&b)));
            }
        }
    }

    #[test]
    fn lengths_outside_the_range_are_refused() {
        assert_eq!(password(3), Err(GenerateError::Length(3)));
        assert_eq!(password(0), Err(GenerateError::Length(0)));
        assert_eq!(password(MAX_LENGTH + 1), Err(GenerateError::Length(1025)));
        assert_eq!(password(MAX_LENGTH).unwrap().len(), MAX_LENGTH);
    }

    #[test]
    fn draws_differ_and_cover_the_alphabet() {
        let a = password(DEFAULT_LENGTH).unwrap();
        let b = password(DEFAULT_LENGTH).unwrap();
        assert_ne!(a, b);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            seen.extend(password(DEFAULT_LENGTH).unwrap().bytes());
        }
        assert_eq!(seen.len(), alphabet().len());
    }

    #[test]
    fn without_symbols_means_letters_and_digits_of_every_class() {
        for _ in 0..200 {
            let pw = password_without_symbols(8).unwrap();
            assert!(
                pw.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{}",
                pw.as_str()
            );
            for class in &CLASSES[..3] {
                assert!(pw.bytes().any(|b| class.contains(&b)));
            }
        }
        assert_eq!(password_without_symbols(3), Err(GenerateError::Length(3)));
        assert!(password_without_symbols_bits(20) < password_bits(20));
    }

    #[test]
    fn twenty_characters_are_over_120_bits() {
        assert_eq!(alphabet().len(), 89);
        assert!(password_bits(DEFAULT_LENGTH) > 120.0);
    }
}

//! Diceware-style passphrases from the EFF large word list (see
//! `tui/assets/README.md` for its source and licence).

use std::sync::LazyLock;

use rand::Rng;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::GenerateError;

/// Between words. A hyphen survives copy and paste, shells and sites that
/// refuse spaces.
pub const DEFAULT_SEPARATOR: &str = "-";

/// The list as published: a five-digit dice roll, a tab, the word.
const RAW: &str = include_str!("../../assets/eff_large_wordlist.txt");

/// The 7,776 words.
pub static WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    RAW.lines()
        .filter_map(|line| line.split_once('\t').map(|(_, word)| word.trim()))
        .filter(|word| !word.is_empty())
        .collect()
});

/// `words` words, each drawn uniformly and independently, joined by
/// [`DEFAULT_SEPARATOR`].
pub fn passphrase(words: usize) -> Result<Zeroizing<String>, GenerateError> {
    passphrase_with(words, DEFAULT_SEPARATOR)
}

fn passphrase_with(words: usize, separator: &str) -> Result<Zeroizing<String>, GenerateError> {
    if !(3..=64).contains(&words) {
        return Err(GenerateError::Words(words));
    }
    let list = &*WORDS;
    let mut rng = OsRng;
    let mut out = Zeroizing::new(String::new());
    for i in 0..words {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(list[rng.gen_range(0..list.len())]);
    }
    Ok(out)
}

/// Bits of strength of a [`passphrase`] of `words` words.
pub fn passphrase_bits(words: usize) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "small numbers")]
    let bits = words as f64 * (WORDS.len() as f64).log2();
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_whole_eff_large_list() {
        assert_eq!(WORDS.len(), 7776);
        let unique: std::collections::HashSet<_> = WORDS.iter().collect();
        assert_eq!(unique.len(), 7776);
        assert_eq!(WORDS[0], "abacus");
        assert_eq!(WORDS[7775], "zoom");
        assert!(
            WORDS
                .iter()
                .all(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
    }

    #[test]
    fn passphrases_have_the_asked_number_of_listed_words() {
        for n in [3, 6, 10] {
            let phrase = passphrase_with(n, " ").unwrap();
            let words: Vec<&str> = phrase.split(' ').collect();
            assert_eq!(words.len(), n);
            assert!(
                words.iter().all(|w| WORDS.contains(w)),
                "{}",
                phrase.as_str()
            );
        }
        assert_ne!(passphrase(6).unwrap(), passphrase(6).unwrap());
        assert!(passphrase(4).unwrap().contains(DEFAULT_SEPARATOR));
    }

    #[test]
    fn word_counts_outside_the_range_are_refused() {
        assert_eq!(passphrase(2), Err(GenerateError::Words(2)));
        assert_eq!(passphrase(65), Err(GenerateError::Words(65)));
        assert!((passphrase_bits(6) - 77.5).abs() < 0.1);
    }
}

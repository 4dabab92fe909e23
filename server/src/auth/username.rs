//! User names: what is accepted, and the form they are compared in, so that
//! "Alice" and "alice" (or two Unicode spellings of one name) are one user.

use unicode_normalization::UnicodeNormalization;

pub const MAX_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("user name is empty")]
    Empty,
    #[error("user name is longer than 64 characters")]
    TooLong,
    #[error("user name must not start or end with white space")]
    Padded,
    #[error("user name must not contain control or invisible characters")]
    Control,
}

/// Checks a name and returns its comparison key (NFKC, lower case).
pub fn key(name: &str) -> Result<String, UsernameError> {
    if name.is_empty() {
        return Err(UsernameError::Empty);
    }
    // Count before normalising so that a 1 MB name is refused cheaply.
    if name.chars().take(MAX_CHARS + 1).count() > MAX_CHARS {
        return Err(UsernameError::TooLong);
    }
    if name.trim() != name {
        return Err(UsernameError::Padded);
    }
    if name.chars().any(is_invisible) {
        return Err(UsernameError::Control);
    }
    let key: String = name.nfkc().collect::<String>().to_lowercase();
    if key.chars().count() > MAX_CHARS {
        return Err(UsernameError::TooLong);
    }
    Ok(key)
}

/// Control characters, and format characters that render as nothing (soft
/// hyphen, zero width space/joiners, bidi marks, overrides and isolates)
/// and would let two names look alike or display reordered. Device names
/// use it too: they are shown in every other device's session list.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{AD}'
                | '\u{61C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_case_and_unicode_insensitively() {
        assert_eq!(key("Alice").unwrap(), "alice");
        // "é" precomposed and as e + combining accent are one name.
        assert_eq!(key("Ren\u{e9}").unwrap(), key("Rene\u{301}").unwrap());
        // Full-width letters fold to ASCII under NFKC.
        assert_eq!(key("\u{ff41}lice").unwrap(), "alice");
        assert_eq!(key("\u{1F511} keeper").unwrap(), "\u{1F511} keeper");
    }

    #[test]
    fn refuses_empty_long_padded_and_invisible_names() {
        assert_eq!(key(""), Err(UsernameError::Empty));
        assert_eq!(key(&"a".repeat(65)), Err(UsernameError::TooLong));
        assert_eq!(key(&"a".repeat(1_000_000)), Err(UsernameError::TooLong));
        assert!(key(&"a".repeat(64)).is_ok());
        assert_eq!(key(" alice"), Err(UsernameError::Padded));
        assert_eq!(key("alice\n"), Err(UsernameError::Padded));
        assert_eq!(key("al\u{0}ice"), Err(UsernameError::Control));
        assert_eq!(key("al\u{200B}ice"), Err(UsernameError::Control));
        assert_eq!(key("\u{202E}ecila"), Err(UsernameError::Control));
        // Bidi isolates (U+2066..U+2069) reorder text as overrides do.
        assert_eq!(key("alice\u{2066}x"), Err(UsernameError::Control));
        assert_eq!(key("ali\u{AD}ce"), Err(UsernameError::Control));
    }
}

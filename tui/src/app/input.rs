//! A one-line (or, for notes, multi-line) text field. The text is wiped
//! when the field is dropped or cleared, since it may be a password.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use zeroize::Zeroizing;

#[derive(Clone, Default)]
pub struct TextInput {
    value: Zeroizing<String>,
    /// Shown as dots unless revealed.
    pub secret: bool,
}

impl std::fmt::Debug for TextInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextInput")
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl TextInput {
    pub fn new(value: &str) -> Self {
        Self {
            value: Zeroizing::new(value.to_owned()),
            secret: false,
        }
    }

    pub fn secret(value: &str) -> Self {
        Self {
            secret: true,
            ..Self::new(value)
        }
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    pub fn set(&mut self, value: &str) {
        self.value.clear();
        self.value.push_str(value);
    }

    pub fn clear(&mut self) {
        self.value.clear();
    }

    pub fn push(&mut self, c: char) {
        self.value.push(c);
    }

    /// Typing, Backspace, and Ctrl-U to clear. Returns whether the text
    /// changed; keys it does not use are left to the caller.
    pub fn handle(&mut self, key: KeyEvent) -> bool {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match key.code {
            KeyCode::Char(c) if plain => {
                self.value.push(c);
                true
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.value.clear();
                true
            }
            KeyCode::Backspace => self.value.pop().is_some(),
            _ => false,
        }
    }

    /// What the screen shows: the text, or one dot per character.
    pub fn shown(&self, reveal: bool) -> String {
        if self.secret && !reveal {
            mask(&self.value)
        } else {
            self.value.to_string()
        }
    }
}

/// One dot per character, so the length shows but nothing else.
pub fn mask(value: &str) -> String {
    "•".repeat(value.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_editing_and_masking() {
        let mut input = TextInput::secret("");
        assert!(input.handle(key(KeyCode::Char('a'))));
        assert!(input.handle(KeyEvent::new(KeyCode::Char('B'), KeyModifiers::SHIFT)));
        assert!(!input.handle(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
        assert_eq!(input.value(), "aB");
        assert_eq!(input.shown(false), "••");
        assert_eq!(input.shown(true), "aB");
        assert!(input.handle(key(KeyCode::Backspace)));
        assert_eq!(input.value(), "a");
        assert!(input.handle(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)));
        assert!(input.is_empty());
        assert!(!input.handle(key(KeyCode::Backspace)));
        assert!(!format!("{input:?}").contains('a'));
    }
}

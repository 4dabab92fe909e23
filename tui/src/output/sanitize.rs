//! Terminal safety: text that the server or an imported file chose never
//! reaches the terminal with control characters in it.
//!
//! Item names, fields and notes come from other devices through the server
//! (or from a server that lies), or from a file being imported; server
//! messages come from the server. Printed raw, an ESC starts a terminal
//! command (`ESC ] 52 ;` writes the clipboard, `ESC [ 2J` clears the
//! screen, others retitle the window or remap keys on some terminals), and
//! a CR or backspace lets later text overwrite what was shown before it.
//!
//! Every text path (the commands' text output, their messages on standard
//! error, the full-screen vault) shows such text through here. Each control
//! character (`char::is_control`: C0, DEL and C1, which includes ESC and
//! the 8-bit CSI) becomes its Rust escape, `\u{1b}`, `\r`, `\u{9b}`: visible,
//! it says what was there, and it is what `{:?}` prints for the names quoted
//! in messages, so both read the same. An ESC sequence cannot survive: its
//! ESC is always replaced, and without it the rest is plain text. JSON
//! output needs none of this: JSON escapes every control character itself.

use std::borrow::Cow;

/// A one-line value (a name, a user name, a server message): every
/// control character escaped, newlines and tabs too, so a value cannot
/// start a line of its own that looks like another field.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// A value that is multi-line by nature (notes): newlines and tabs stay, a
/// CR-LF line end (Windows files, imports) becomes a newline; every other
/// control character is escaped, a CR anywhere else too.
pub fn lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// The same for the full-screen vault, split into lines: ratatui draws no
/// tab (it drops control characters silently), so a tab becomes spaces.
pub fn screen_lines(text: &str) -> Vec<String> {
    lines(text)
        .split('\n')
        .map(|part| part.replace('\t', "    "))
        .collect()
}

fn escape(text: &str, multiline: bool) -> Cow<'_, str> {
    let kept = |c: char| multiline && matches!(c, '\n' | '\t');
    if !text.chars().any(|c| c.is_control() && !kept(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if multiline && c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if c.is_control() && !kept(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every control character there is, by `char::is_control`.
    fn controls() -> impl Iterator<Item = char> {
        (0u32..=0x10_ffff)
            .filter_map(char::from_u32)
            .filter(|c| c.is_control())
    }

    #[test]
    fn no_control_character_survives_a_line() {
        let all: String = controls().collect();
        assert_eq!(all.chars().count(), 65, "C0, DEL and C1");
        let shown = line(&all);
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(shown.contains(r"\u{1b}") && shown.contains(r"\u{9b}"));
        assert!(shown.contains(r"\r") && shown.contains(r"\n") && shown.contains(r"\t"));
    }

    #[test]
    fn multi_line_keeps_newlines_and_tabs_only() {
        let all: String = controls().collect();
        let shown = lines(&all);
        let left: Vec<char> = shown.chars().filter(|c| c.is_control()).collect();
        assert_eq!(left, ['\t', '\n'], "{shown}");
        assert!(shown.contains(r"\r") && shown.contains(r"\u{1b}"));
    }

    #[test]
    fn escape_sequences_become_visible_text() {
        let osc52 = "a\x1b]52;c;aGVsbG8=\x07b";
        assert_eq!(line(osc52), r"a\u{1b}]52;c;aGVsbG8=\u{7}b");
        assert_eq!(line("\x1b[2Jx"), r"\u{1b}[2Jx");
        assert_eq!(line("paid\rnot paid"), r"paid\rnot paid");
        assert_eq!(line("one\ntwo"), r"one\ntwo");
        // The 8-bit CSI, a C1 control, starts a sequence on some terminals.
        assert_eq!(line("\u{9b}31m"), r"\u{9b}31m");
        assert_eq!(line("del\x7f"), r"del\u{7f}");
        // The same escape as `{:?}`, so a quoted name reads the same.
        let name = "x\x1b[2J\r\u{9b}";
        assert_eq!(format!("\"{}\"", line(name)), format!("{name:?}"));
    }

    #[test]
    fn notes_keep_their_lines_but_not_a_lone_carriage_return() {
        assert_eq!(lines("a\r\nb\n\tc"), "a\nb\n\tc");
        assert_eq!(lines("a\rb"), r"a\rb");
        assert_eq!(lines("a\r"), r"a\r");
        assert_eq!(lines("a\x1b[2J\nb"), "a\\u{1b}[2J\nb");
        assert_eq!(screen_lines("a\r\n\tb\x1b"), ["a", r"    b\u{1b}"]);
    }

    #[test]
    fn clean_text_is_not_copied() {
        for text in ["", "GitHub", "Zoë's café 🔑", "línea\tcon tab"] {
            assert!(matches!(lines(text), Cow::Borrowed(_)), "{text}");
        }
        assert!(matches!(line("plain"), Cow::Borrowed(_)));
        assert_eq!(line("Zoë's café 🔑"), "Zoë's café 🔑");
    }
}

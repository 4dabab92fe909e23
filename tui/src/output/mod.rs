//! What commands print. Two forms, both stable:
//!
//! - text for people, with secrets masked unless a single field was asked
//!   for (`text.rs`);
//! - JSON for scripts (`--json`), whose field names are part of the
//!   interface and documented on each type in `json.rs`.
//!
//! Times in text are local unless `--utc` is given (`time.rs`); in JSON
//! they are milliseconds since the Unix epoch.
//!
//! Text that the server or an imported file chose (names, fields, notes,
//! server messages) goes through `sanitize.rs` on every text path, so it
//! cannot drive the terminal.
//!
//! Anything that holds a secret is built in a [`Zeroizing`] buffer, so the
//! printed copy does not linger in memory after it is written.

pub mod json;
pub mod sanitize;
pub mod text;
pub mod time;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use gophkeeper_private_file::Existing;
use zeroize::Zeroizing;

/// Serialises `value` as one line of JSON on standard output.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    write_stdout(&json_line(value)?)
}

/// One line of JSON, ending in a newline, with no control character in
/// it: JSON escapes C0 itself, and [`TerminalSafe`] escapes DEL and C1 too.
pub fn json_line<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut line = Zeroizing::new(Vec::new());
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut *line,
        TerminalSafe,
    ))?;
    line.push(b'\n');
    Ok(line)
}

/// serde_json's compact output, except that DEL and the C1 controls
/// (U+007F to U+009F) are written as `\u00XX` escapes rather than as they
/// are: JSON allows them raw, but some terminals act on the 8-bit CSI
/// (U+009B) even in UTF-8. Still valid JSON, the same values.
struct TerminalSafe;

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        // C0 never gets here: serde_json escapes it before calling this.
        for (at, c) in fragment.char_indices().filter(|(_, c)| c.is_control()) {
            writer.write_all(&fragment.as_bytes()[start..at])?;
            write!(writer, "\\u{:04x}", u32::from(c))?;
            start = at + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Writes and flushes standard output; a closed pipe is an error too, so a
/// script sees the failure.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Writes a file readable by its owner only (0600 on Unix), whole or not
/// at all. With `replace` false an existing file is an error, so a backup
/// never overwrites another one by accident.
pub fn write_private(path: &Path, bytes: &[u8], replace: bool) -> anyhow::Result<()> {
    let existing = if replace {
        Existing::Replace
    } else {
        Existing::Keep
    };
    gophkeeper_private_file::write(path, bytes, existing)
        .with_context(|| format!("cannot write {}", path.display()))
}

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
//! Anything that holds a secret is built in a [`Zeroizing`] buffer, so the
//! printed copy does not linger in memory after it is written.

pub mod json;
pub mod text;
pub mod time;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use gophkeeper_private_file::Existing;
use zeroize::Zeroizing;

/// Serialises `value` as one line of JSON on standard output.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut line = Zeroizing::new(serde_json::to_vec(value)?);
    line.push(b'\n');
    write_stdout(&line)
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

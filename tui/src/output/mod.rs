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

/// Writes a file readable by its owner only (0600 on Unix). With
/// `replace` false an existing file is an error, so a backup never
/// overwrites another one by accident.
pub fn write_private(path: &Path, bytes: &[u8], replace: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    #[cfg(unix)]
    {
        // An existing file keeps its old mode through open(); tighten it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

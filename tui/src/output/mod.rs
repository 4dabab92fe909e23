//! What commands print. Two forms, both stable:
//!
//! - text for people, with secrets masked unless a single field was asked
//!   for (`text.rs`);
//! - JSON for scripts (`--json`), whose field names are part of the
//!   interface and documented on each type in `json.rs`.
//!
//! Anything that holds a secret is built in a [`Zeroizing`] buffer, so the
//! printed copy does not linger in memory after it is written.

pub mod json;
pub mod text;

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

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`, without a
/// date crate: Howard Hinnant's `civil_from_days`.
pub fn utc_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_time(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc_time(-1000), "1969-12-31 23:59:59 UTC");
    }
}

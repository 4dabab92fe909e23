//! `get --copy` and `totp --copy`: the value goes to the system clipboard,
//! never to the terminal, and comes off it after the clear time
//! (`--clipboard-clear`, 30 s) if the clipboard still holds it.
//!
//! A one-shot command exits at once, but on X11 and Wayland a clipboard is
//! served by the process that set it, and somebody has to clear it later.
//! So a small process of our own holds it: `gophkeeper clipboard-keeper`
//! (hidden) reads the text from its standard input, puts it on the
//! clipboard marked to stay out of clipboard history and cloud sync where
//! the platform has such marks, answers `ok`, and at the deadline clears
//! the clipboard if it still holds that text (what the person copied since
//! is theirs). The agent (#18) will take this over.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use zeroize::Zeroizing;

use super::Done;
use crate::app::clipboard::{Keeper, System};

/// What the keeper answers once the text is on the clipboard.
const READY: &str = "ok";

/// Puts `text` on the clipboard for `clear_after` through a keeper process
/// and says so on standard error; fails, with the keeper's reason, if
/// there is no clipboard to put it on.
pub fn copy(what: &str, text: &str, clear_after: Duration) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find this program to start the keeper")?;
    let mut command = Command::new(exe);
    command
        .args(["clipboard-keeper", "--clear-after"])
        .arg(clear_after.as_secs().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group: Ctrl-C in the shell, or the terminal closing,
    // must not end it before it clears the clipboard.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    // Not waited for once it is ready: it outlives this command on purpose.
    let mut keeper = command
        .spawn()
        .context("cannot start the clipboard keeper")?;
    let mut stdin = keeper.stdin.take().context("keeper without stdin")?;
    stdin.write_all(text.as_bytes())?;
    drop(stdin);
    let mut answer = String::new();
    let stdout = keeper.stdout.take().context("keeper without stdout")?;
    BufReader::new(stdout).read_line(&mut answer)?;
    if answer.trim_end() != READY {
        let mut reason = String::new();
        if let Some(mut stderr) = keeper.stderr.take() {
            let _ = stderr.read_to_string(&mut reason);
        }
        let _ = keeper.wait();
        let reason = reason.trim();
        let reason = reason.strip_prefix("error: ").unwrap_or(reason);
        bail!("{what} not copied: {reason}");
    }
    eprintln!(
        "{what} copied to the clipboard; cleared in {} s",
        clear_after.as_secs()
    );
    Ok(())
}

/// The keeper itself: `gophkeeper clipboard-keeper --clear-after SECONDS`.
pub async fn keep(clear_after: Duration) -> anyhow::Result<Done> {
    // It holds a secret for a while: no core file with it in.
    crate::hardening::forbid_core_dumps().context("cannot turn off core dumps")?;
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the text to copy")?;
    let Some(system) = System::open() else {
        bail!(
            "no clipboard here (no X11 display or Windows/macOS session); \
             print the value with --field instead"
        );
    };
    let mut keeper = Keeper::new(Box::new(system), clear_after);
    keeper.copy("", &text)?;
    drop(text);
    println!("{READY}");
    std::io::stdout().flush()?;
    tokio::time::sleep(clear_after).await;
    keeper.take_back();
    Ok(Done::Success)
}

//! `gophkeeper run [--env-file FILE] [--no-masking] -- COMMAND [ARGS...]`:
//! runs a command with secrets in its environment, where the environment
//! (or the file) names them as `gk://ITEM/FIELD`, so they live in no
//! `.env` file and no shell history. What the command prints has those
//! values replaced by `<concealed by gophkeeper>`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use clap::Args;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::Command;
use zeroize::Zeroizing;

use super::references::resolve;
use super::{Done, Globals};
use crate::prompt::{EXPORT_PASSWORD_ENV, NEW_PASSWORD_ENV, PASSWORD_ENV};
use crate::reference::{Masker, Reference};

#[derive(Debug, Args)]
pub struct Run {
    /// Read KEY=VALUE lines from this file too (after the environment, so
    /// it wins); `#` starts a comment, `export ` and quotes are allowed
    #[arg(long, value_name = "FILE")]
    env_file: Vec<PathBuf>,
    /// Let the command print secret values as they are
    #[arg(long)]
    no_masking: bool,
    /// The command and its arguments
    #[arg(required = true, last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// One `KEY=VALUE` line of an env file; `None` for blanks and comments.
fn env_line(line: &str) -> Option<Result<(String, String), String>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line);
    let Some((key, value)) = line.split_once('=') else {
        return Some(Err("expected KEY=VALUE".into()));
    };
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        return Some(Err(format!("{key:?} is not a variable name")));
    }
    let value = value.trim();
    let unquoted = [('"', '"'), ('\'', '\'')]
        .iter()
        .find_map(|(open, close)| value.strip_prefix(*open)?.strip_suffix(*close))
        .unwrap_or(value);
    Some(Ok((key.to_owned(), unquoted.to_owned())))
}

fn read_env_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the env file {}", path.display()))?;
    let mut vars = Vec::new();
    for (number, line) in text.lines().enumerate() {
        match env_line(line) {
            None => {}
            Some(Ok(var)) => vars.push(var),
            Some(Err(why)) => bail!("{}, line {}: {why}", path.display(), number + 1),
        }
    }
    Ok(vars)
}

pub async fn run(globals: &Globals, args: Run) -> anyhow::Result<Done> {
    // The variables that name a reference, from the environment and files.
    let mut named: Vec<(String, Reference)> = Vec::new();
    let mut from_files = Vec::new();
    for path in &args.env_file {
        from_files.extend(read_env_file(path)?);
    }
    let environment = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    for (key, value) in environment.chain(from_files.iter().cloned()) {
        named.retain(|(k, _)| *k != key);
        if Reference::looks_like(&value) {
            let reference = Reference::parse(&value).with_context(|| format!("in ${key}"))?;
            named.push((key, reference));
        }
    }
    let wanted: BTreeSet<Reference> = named.iter().map(|(_, r)| r.clone()).collect();
    let values = resolve(globals, &wanted).await?;

    let (program, rest) = args.command.split_first().context("no command given")?;
    let mut command = Command::new(program);
    command.args(rest);
    // The master password is for us, not for the command.
    for key in [PASSWORD_ENV, NEW_PASSWORD_ENV, EXPORT_PASSWORD_ENV] {
        command.env_remove(key);
    }
    for (key, value) in &from_files {
        command.env(key, value);
    }
    for (key, reference) in &named {
        command.env(key, values[reference].as_str());
    }
    let masking = !args.no_masking && !values.is_empty();
    if masking {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    let secrets: Vec<&str> = values.values().map(|v| v.as_str()).collect();
    let copies = if masking {
        let out = child.stdout.take().context("no stdout pipe")?;
        let err = child.stderr.take().context("no stderr pipe")?;
        Some((
            tokio::spawn(copy_masked(
                out,
                tokio::io::stdout(),
                Masker::new(secrets.clone()),
            )),
            tokio::spawn(copy_masked(err, tokio::io::stderr(), Masker::new(secrets))),
        ))
    } else {
        None
    };
    // The values are the child's (and the maskers') now: ours go.
    drop(values);
    // Ctrl-C reaches the child from the terminal; we stay to report how
    // it ended (and to finish masking its output).
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.context("cannot wait for the command")?,
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    if let Some((out, err)) = copies {
        out.await??;
        err.await??;
    }
    Ok(Done::Exit(exit_code(status)))
}

async fn copy_masked(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut masker: Masker,
) -> std::io::Result<()> {
    let mut buffer = Zeroizing::new(vec![0u8; 16 * 1024]);
    loop {
        let n = from.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        to.write_all(&masker.push(&buffer[..n])).await?;
        to.flush().await?;
    }
    to.write_all(&masker.finish()).await?;
    to.flush().await
}

/// The child's exit code; killed by a signal, 128 + the signal, as shells do.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from((128 + signal) & 0xff).unwrap_or(1);
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_lines() {
        let ok = |line: &str| env_line(line).unwrap().unwrap();
        assert_eq!(ok("A=1"), ("A".into(), "1".into()));
        assert_eq!(
            ok("export DB_PASS = \"gk://db/password\""),
            ("DB_PASS".into(), "gk://db/password".into())
        );
        assert_eq!(ok("B='x y'"), ("B".into(), "x y".into()));
        assert_eq!(ok("C="), ("C".into(), String::new()));
        assert!(env_line("  # comment").is_none());
        assert!(env_line("").is_none());
        assert!(env_line("no equals sign").unwrap().is_err());
        assert!(env_line("BAD-NAME=1").unwrap().is_err());
    }
}

//! What `--version` says and the server logs at start: the version, the
//! commit, the build date and the target, so a bug report names the exact
//! build. Used twice by each binary's package: from its build script,
//! [`emit`] hands the facts to the compiler as environment variables, and
//! [`version!`] puts them into one line at compile time.
//!
//! The commit is `git rev-parse --short=12 HEAD`, or `unknown` outside a
//! git checkout (a source tarball). Uncommitted changes are not marked:
//! watching the index would rebuild the server on every `git add`. The date honours `SOURCE_DATE_EPOCH`, so a reproducible
//! build says the same date every time.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `0.1.0 (3f2a9c1d8e7b 2026-12-04, x86_64-unknown-linux-gnu)`.
#[macro_export]
macro_rules! version {
    () => {
        concat!(
            env!("CARGO_PKG_VERSION"),
            " (",
            env!("GOPHKEEPER_COMMIT"),
            " ",
            env!("GOPHKEEPER_BUILD_DATE"),
            ", ",
            env!("GOPHKEEPER_TARGET"),
            ")"
        )
    };
}

/// For a build script: sets `GOPHKEEPER_COMMIT`, `GOPHKEEPER_BUILD_DATE`
/// and `GOPHKEEPER_TARGET` for the package being built, and asks to run
/// again when the checked-out commit changes.
pub fn emit() {
    let commit = commit().unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=GOPHKEEPER_COMMIT={commit}");
    println!("cargo:rustc-env=GOPHKEEPER_BUILD_DATE={}", build_date());
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=GOPHKEEPER_TARGET={target}");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from) {
        // A commit moves the branch's ref: a loose file, or packed-refs.
        rerun_if_changed(&git_dir.join("HEAD"));
        rerun_if_changed(&git_dir.join("packed-refs"));
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            rerun_if_changed(&git_dir.join(head));
        }
    }
}

fn rerun_if_changed(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn commit() -> Option<String> {
    git(&["rev-parse", "--short=12", "HEAD"])
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn build_date() -> String {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    now.strftime("%Y-%m-%d").to_string()
}

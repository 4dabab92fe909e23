//! End-to-end tests of the real `gophkeeper` binary against a real
//! single-node server started in this process on a loopback port (real
//! TLS; the binary trusts the server's CA through `--ca-cert` and reads the
//! master password from GOPHKEEPER_PASSWORD). One test binary; each module
//! is one story.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly; clippy.toml allows this only inside #[test] fns"
)]

mod helpers;

mod audit;
mod clipboard;
mod conflicts;
mod devices;
mod import_export;
#[cfg(target_os = "linux")] // GNOME Keyring on a private D-Bus session.
mod keyring;
mod offline;
mod password;
mod rejections;
mod rotation;
mod scan;
mod secret_key;
mod secrets;
mod shell;
mod tamper;
mod terminal;
mod times;
mod trust;
#[cfg(unix)] // tmux, and `env -u` in the command it runs.
mod tui;
mod two_factor;

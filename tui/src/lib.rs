//! The `gophkeeper` terminal client, as a library with a thin binary
//! (`main.rs`), so that every part can be tested without a terminal.
//!
//! - [`app`]: the full-screen vault (ratatui), `gophkeeper` with no
//!   command.
//! - [`cli`]: the subcommands, one file each, and what they share
//!   (reporting what a change did, a sync before a read).
//! - [`globals`]: the flags both share, and the profile they open.
//! - [`hardening`]: no core dumps from the full-screen vault.
//! - [`output`]: text for people (secrets masked) and the documented JSON
//!   shapes for scripts.
//! - [`reference`]: `gk://ITEM/FIELD` secret references and output masking.
//! - [`prompt`]: master passwords without echo, the certificate question.
//! - [`generate`]: passwords and passphrases from the OS CSPRNG.
//! - [`totp`]: RFC 6238 codes from a login's TOTP secret.
//! - [`import`]: Bitwarden JSON and KeePassXC CSV exports, turned into items.
//!
//! Everything that touches keys, records or the server goes through the
//! `gophkeeper-client` library's facade (`vault`, `item`, and `backup`, the
//! encrypted export file that `export` writes and `import --format
//! gophkeeper` reads); this crate holds no network code and no cipher of
//! its own.

pub mod app;
pub mod cli;
pub mod generate;
pub mod globals;
pub mod hardening;
pub mod import;
pub mod output;
pub mod prompt;
pub mod reference;
pub mod totp;

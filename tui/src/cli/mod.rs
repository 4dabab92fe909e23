//! The subcommands, one file each. Each file holds the command's
//! arguments (clap derive) and a `run` that does it and prints the result.
//! What they share lives in `context.rs` (finding and unlocking the
//! profile, syncing before a read), `report.rs` (saying what a change did),
//! `item_args.rs` (the flags of `add` and `edit`) and `references.rs`
//! (resolving `gk://` references for `run` and `inject`).
//!
//! Exit codes ([`exit`]): 0 done (a change queued while offline counts as
//! done), 1 error, 2 usage error, 3 a change met another device's change and
//! both versions are waiting in `gophkeeper conflicts`; `run` passes on its
//! command's code.

mod add;
mod audit;
mod conflicts;

mod context;
mod copy;
mod edit;
mod export;
mod generate;
mod get;
mod import;
mod inject;
mod item_args;
mod list;
mod login;
mod logout;
mod passwd;
mod references;
mod register;
mod report;
mod resolve;
mod rm;
pub(crate) mod rotate_key;
mod run;
mod secret_key;
mod sessions;
mod shell;
mod status;
mod sync;
mod totp;
mod two_factor;
mod verify;

use clap::{Parser, Subcommand};

pub use self::report::Tampered;
pub use crate::globals::Globals;

/// Process exit codes.
pub mod exit {
    pub const ERROR: u8 = 1;
    /// Bad arguments (clap uses it too), or no command given.
    pub const USAGE: u8 = 2;
    pub const CONFLICT: u8 = 3;
    /// The sync refused something the server served (an older version, a
    /// made-up deletion, a record that does not open, a fork).
    pub const TAMPERED: u8 = 4;
}

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Success,
    /// Saved, but the server holds another version: the person chooses.
    Conflict,
    /// `run`: the command's own exit code.
    Exit(u8),
}

/// GophKeeper: a zero-knowledge password manager. Everything is encrypted
/// on this device before it is sent; the server cannot read your vault.
///
/// The master password is asked on the terminal without echo, or taken
/// from GOPHKEEPER_PASSWORD in scripts (GOPHKEEPER_NEW_PASSWORD for
/// `passwd`, GOPHKEEPER_EXPORT_PASSWORD for importing an export made with
/// another password). It is never taken from a flag. A two-factor code is
/// read from standard input, or from GOPHKEEPER_2FA_CODE; an account's
/// Secret Key is asked on a new device, or taken from GOPHKEEPER_SECRET_KEY.
///
/// With no command, `gophkeeper` opens the full-screen vault.
#[derive(Debug, Parser)]
#[command(
    name = "gophkeeper",
    version = gophkeeper_build_info::version!(),
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    #[command(flatten)]
    pub vault: crate::app::Options,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account on the server and log this device in.
    Register(register::Register),
    /// Log this device in to an existing account (again after a password
    /// change elsewhere).
    Login(login::Login),
    /// End this device's session; the local copy stays readable.
    Logout,
    /// Where this profile stands (no master password needed).
    Status(status::Status),
    /// Send queued changes and fetch other devices' changes.
    Sync,
    /// List items (no secrets).
    List(list::List),
    /// Show one item, secrets masked unless asked for.
    Get(get::Get),
    /// Add an item.
    #[command(subcommand)]
    Add(add::Add),
    /// Change an item; only the flags given change.
    Edit(edit::Edit),
    /// Delete an item.
    Rm(rm::Rm),
    /// Print a random password or passphrase (nothing is stored).
    Generate(generate::Generate),
    /// Print the current TOTP code of a login.
    Totp(totp::Totp),
    /// Change the master password (other devices must log in again).
    Passwd(passwd::Passwd),
    /// Make a new vault key and re-seal every item under it (other
    /// devices must log in again); finishes one that stopped half-way.
    RotateKey,
    /// List this account's signed-in devices, or revoke one.
    Sessions(sessions::Sessions),
    /// Show changes that met another device's change, both versions.
    Conflicts(conflicts::Conflicts),
    /// Settle a conflict: keep mine, theirs, or both.
    Resolve(resolve::Resolve),
    /// Import items from another password manager or a GophKeeper export.
    Import(import::Import),
    /// Write an encrypted backup of every item.
    Export(export::Export),
    /// Run a command with secrets in its environment: variables whose
    /// value is gk://ITEM/FIELD get that field; its output is masked.
    Run(run::Run),
    /// Fill in the {{ gk://ITEM/FIELD }} references of a template.
    Inject(inject::Inject),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(shell::Completions),
    /// Print the manual page (roff): `gophkeeper man | man -l -`.
    Man,
    /// Check this device's copy and the server's against each other, and
    /// print the vault fingerprint to compare between devices.
    Verify(verify::Verify),
    /// Vault health: weak, reused and year-old passwords, logins without
    /// TOTP (judged on this device; nothing is sent).
    Audit(audit::Audit),
    /// Two-factor login: a code from an authenticator app at each new
    /// device's login.
    #[command(name = "2fa", subcommand)]
    TwoFactor(two_factor::TwoFactor),
    /// The account's Secret Key: a second secret, kept on each device,
    /// that every password guess would also need.
    #[command(subcommand)]
    SecretKey(secret_key::SecretKeyCommand),
    /// Holds a copied value on the clipboard and clears it later (started
    /// by `--copy`; the text comes on standard input).
    #[command(hide = true)]
    ClipboardKeeper {
        #[arg(long, value_name = "SECONDS")]
        clear_after: u64,
    },
}

impl Command {
    /// `options` are the full-screen vault's; `--copy` uses its clipboard
    /// clear time.
    pub async fn run(
        self,
        globals: &Globals,
        options: &crate::app::Options,
    ) -> anyhow::Result<Done> {
        let clear_after = std::time::Duration::from_secs(options.clipboard_clear.max(1));
        match self {
            Self::Register(args) => register::run(globals, args).await,
            Self::Login(args) => login::run(globals, args).await,
            Self::Logout => logout::run(globals).await,
            Self::Status(args) => status::run(globals, args).await,
            Self::Sync => sync::run(globals).await,
            Self::List(args) => list::run(globals, args).await,
            Self::Get(args) => get::run(globals, args, clear_after).await,
            Self::Add(args) => add::run(globals, args).await,
            Self::Edit(args) => edit::run(globals, args).await,
            Self::Rm(args) => rm::run(globals, args).await,
            Self::Generate(args) => generate::run(&args),
            Self::Totp(args) => totp::run(globals, args, clear_after).await,
            Self::Passwd(args) => passwd::run(globals, args).await,
            Self::RotateKey => rotate_key::run(globals).await,
            Self::Sessions(args) => sessions::run(globals, args).await,
            Self::Conflicts(args) => conflicts::run(globals, args).await,
            Self::Resolve(args) => resolve::run(globals, args).await,
            Self::Import(args) => import::run(globals, args).await,
            Self::Export(args) => export::run(globals, args).await,
            Self::Run(args) => run::run(globals, args).await,
            Self::Inject(args) => inject::run(globals, args).await,
            Self::Completions(args) => shell::completions(&args),
            Self::Man => shell::man(),
            Self::Verify(args) => verify::run(globals, args).await,
            Self::Audit(args) => audit::run(globals, args).await,
            Self::TwoFactor(args) => two_factor::run(globals, args).await,
            Self::SecretKey(args) => secret_key::run(globals, args).await,
            Self::ClipboardKeeper { clear_after } => {
                copy::keep(std::time::Duration::from_secs(clear_after.max(1))).await
            }
        }
    }
}

/// `Debug` for argument structs that hold item content: names and notes
/// are as private as passwords, so none of it is shown.
macro_rules! redacted_debug {
    ($($ty:ty),+ $(,)?) => {$(
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty)).finish_non_exhaustive()
            }
        }
    )+};
}
pub(crate) use redacted_debug;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}

//! The two vocabularies of the app: [`Event`]s come in (keys, ticks, and
//! what the vault worker finished), [`Effect`]s go out (anything that
//! touches the vault, the disk, the clipboard or the process). `update`
//! turns one into the other; nothing else changes the state.

use std::path::PathBuf;

use crossterm::event::{KeyEvent, MouseEventKind};
use gophkeeper_client::item::Item;
use gophkeeper_client::vault::{
    AuditReport, ConflictView, DeviceSession, Entry, Resolution, VaultStatus,
};
use secrecy::SecretString;
use uuid::Uuid;
use zeroize::Zeroizing;

/// Something that happened.
pub enum Event {
    Key(KeyEvent),
    /// The terminal changed size: nothing to do but draw again.
    Resize,
    /// A mouse event (only with `--mouse`): where, and how tall the
    /// terminal was, which is all the layout needs to find what is there.
    Mouse {
        kind: MouseEventKind,
        row: u16,
        height: u16,
    },
    /// Time passed: spinner, TOTP countdown, idle lock. Carries the wall
    /// clock (seconds since the Unix epoch) for TOTP codes.
    Tick(u64),
    /// The server's certificate is not vouched for by the system: ask.
    TrustQuestion {
        fingerprint: String,
    },
    /// Logged in or unlocked; the vault is open.
    Opened {
        entries: Vec<Entry>,
        status: VaultStatus,
    },
    /// Fresh entries (after a change here, or live from another device).
    Loaded {
        entries: Vec<Entry>,
        status: VaultStatus,
    },
    Status(VaultStatus),
    /// A short note for the message line.
    Info(String),
    /// Something failed; the message is safe to show (it holds no secret).
    Failed(String),
    /// A change was saved (locally at least); `Loaded` follows.
    Saved(String),
    FileRead {
        file_name: String,
        bytes: Zeroizing<Vec<u8>>,
    },
    Sessions(Vec<DeviceSession>),
    Conflicts(Vec<ConflictView>),
    /// The audit finished (item names and ids, no password).
    Audited(AuditReport),
    PasswordChanged,
}

/// Something the app wants done outside `update`.
pub enum Effect {
    /// Log in (or register) and open the vault. `accept` is the certificate
    /// fingerprint the person accepted, for a second attempt.
    Connect {
        server: String,
        username: String,
        password: SecretString,
        register: bool,
        /// A two-factor code typed with the login.
        second_factor: Option<SecretString>,
        /// A Secret Key typed with the login (checked by the form).
        secret_key: Option<SecretString>,
        accept: Option<String>,
    },
    /// Open the local profile with the master password (works offline).
    Unlock {
        password: SecretString,
    },
    /// Push, pull and reload.
    Sync,
    Save {
        id: Option<Uuid>,
        base_revision: u64,
        item: Box<Item>,
    },
    Delete {
        id: Uuid,
    },
    ReadFile {
        path: PathBuf,
    },
    WriteFile {
        path: PathBuf,
        bytes: Zeroizing<Vec<u8>>,
    },
    LoadSessions,
    RevokeSession {
        id: String,
    },
    ChangePassword {
        current: SecretString,
        new: SecretString,
    },
    LoadConflicts,
    /// Judge the vault's passwords (CPU-heavy: off the screen's thread).
    Audit,
    Resolve {
        id: Uuid,
        choice: Resolution,
    },
    Copy {
        what: &'static str,
        text: Zeroizing<String>,
    },
    /// Drop the vault: keys and decrypted items are wiped.
    Lock,
    Quit,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Key(key) => return f.debug_tuple("Key").field(key).finish(),
            Self::Resize => "Resize",
            Self::Mouse { .. } => "Mouse",
            Self::Tick(_) => "Tick",
            Self::TrustQuestion { .. } => "TrustQuestion",
            Self::Opened { .. } => "Opened",
            Self::Loaded { .. } => "Loaded",
            Self::Status(_) => "Status",
            Self::Info(_) => "Info",
            Self::Failed(_) => "Failed",
            Self::Saved(_) => "Saved",
            Self::FileRead { .. } => "FileRead",
            Self::Sessions(_) => "Sessions",
            Self::Conflicts(_) => "Conflicts",
            Self::Audited(_) => "Audited",
            Self::PasswordChanged => "PasswordChanged",
        };
        f.write_str(name)
    }
}

/// Names only: effects carry passwords, items and clipboard text.
impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Connect { .. } => "Connect",
            Self::Unlock { .. } => "Unlock",
            Self::Sync => "Sync",
            Self::Save { .. } => "Save",
            Self::Delete { .. } => "Delete",
            Self::ReadFile { .. } => "ReadFile",
            Self::WriteFile { .. } => "WriteFile",
            Self::LoadSessions => "LoadSessions",
            Self::RevokeSession { .. } => "RevokeSession",
            Self::ChangePassword { .. } => "ChangePassword",
            Self::LoadConflicts => "LoadConflicts",
            Self::Audit => "Audit",
            Self::Resolve { .. } => "Resolve",
            Self::Copy { what, .. } => return write!(f, "Copy({what})"),
            Self::Lock => "Lock",
            Self::Quit => "Quit",
        };
        f.write_str(name)
    }
}

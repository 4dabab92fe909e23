//! Everything the screen shows, and nothing the screen does not need.
//! Decrypted items live here only while the vault is unlocked
//! ([`State::vault`]); locking drops them, and they wipe themselves.

use std::time::Duration;

use gophkeeper_client::vault::{Entry, VaultStatus};
use tokio::time::Instant;

use super::input::TextInput;
use super::screens::{
    audit::AuditView, conflicts::ConflictsView, connect::ConnectForm, detail::DetailView,
    form::ItemForm, generator::Generator, list::ListView, passwd::PasswdForm,
    sessions::SessionsView, unlock::UnlockForm,
};
use crate::output::time::Clock;

/// What the person can tune (flags or environment of `gophkeeper`).
#[derive(Debug, Clone)]
pub struct Config {
    /// Lock after this long without a key press.
    pub idle_lock: Duration,
    /// Clear the clipboard this long after a copy.
    pub clipboard_clear: Duration,
    /// The zone times are shown in.
    pub clock: Clock,
}

impl Default for Config {
    /// Times in UTC here, so that what tests draw does not depend on the
    /// machine's zone; `gophkeeper` builds its `Config` from the command
    /// line, local time by default.
    fn default() -> Self {
        Self {
            idle_lock: Duration::from_secs(5 * 60),
            clipboard_clear: Duration::from_secs(30),
            clock: Clock::utc(),
        }
    }
}

/// The stored profile, readable without the master password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileInfo {
    pub username: String,
    pub server: String,
}

/// The unlocked vault as the screen sees it.
#[derive(Debug)]
pub struct VaultData {
    /// Sorted by name, as the library returns them.
    pub entries: Vec<Entry>,
    pub status: VaultStatus,
    pub list: ListView,
}

impl VaultData {
    pub fn new(entries: Vec<Entry>, status: VaultStatus) -> Self {
        let mut data = Self {
            entries,
            status,
            list: ListView::default(),
        };
        data.list.refilter(&data.entries);
        data
    }

    pub fn entry(&self, id: uuid::Uuid) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

#[derive(Debug)]
pub enum Screen {
    Connect(ConnectForm),
    Unlock(UnlockForm),
    List,
    Detail(DetailView),
    Form(Box<ItemForm>),
    Sessions(SessionsView),
    Passwd(PasswdForm),
    Conflicts(ConflictsView),
    Audit(AuditView),
}

/// A dialog drawn over the screen; it gets the keys first.
#[derive(Debug)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    Generator(Generator),
    /// First contact with a server whose certificate nobody vouches for.
    Trust {
        fingerprint: String,
    },
    /// Where to save a file item.
    SavePath {
        id: uuid::Uuid,
        path: TextInput,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Delete { id: uuid::Uuid, name: String },
    Revoke { id: String, device: String },
}

/// The message line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flash {
    Info(String),
    Error(String),
}

#[derive(Debug)]
pub struct State {
    pub config: Config,
    pub profile: Option<ProfileInfo>,
    pub screen: Screen,
    pub overlay: Option<Overlay>,
    pub vault: Option<VaultData>,
    pub flash: Option<Flash>,
    /// Set while something slow runs (Argon2id, first sync); the spinner
    /// turns and keys other than quit wait.
    pub busy: Option<String>,
    pub spinner: usize,
    pub last_activity: Instant,
    /// Seconds since the Unix epoch, for TOTP codes; set by ticks so that
    /// drawing reads no clock.
    pub unix_now: u64,
    pub quit: bool,
}

impl State {
    /// The first screen: unlock if this device has a profile, else log in.
    pub fn new(config: Config, profile: Option<ProfileInfo>, server: &str) -> Self {
        let screen = match &profile {
            Some(_) => Screen::Unlock(UnlockForm::default()),
            None => Screen::Connect(ConnectForm::new(server)),
        };
        Self {
            config,
            profile,
            screen,
            overlay: None,
            vault: None,
            flash: None,
            busy: None,
            spinner: 0,
            last_activity: Instant::now(),
            unix_now: 0,
            quit: false,
        }
    }

    /// When the idle lock falls due, if the vault is open.
    pub fn lock_deadline(&self) -> Option<Instant> {
        self.vault
            .as_ref()
            .map(|_| self.last_activity + self.config.idle_lock)
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash::Info(text.into()));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash::Error(text.into()));
    }
}

//! The JSON shapes of `--json` output. Field names and value forms are a
//! stable interface for scripts; add fields, never rename or remove them.
//!
//! - `list --json`: an array of [`Summary`].
//! - `get --json`: one [`Full`], secrets included (asking for JSON is
//!   asking for everything).
//! - `status --json`: one [`Status`].
//! - `sessions --json`: an array of [`Session`].
//! - `conflicts --json`: an array of [`Conflict`].
//! - `totp --json`: one [`TotpCode`].
//! - `verify --json`: one [`Verify`].
//! - `audit --json`: one [`Audit`].
//!
//! Ids are UUID strings, times are milliseconds since the Unix epoch, kinds
//! are `login`, `text`, `binary` or `card`, and states are `synced`,
//! `pending` (changed on this device, not yet applied by the server) or
//! `conflict`.

use base64::Engine as _;
use gophkeeper_client::item::{Item, Payload};
use gophkeeper_client::vault::{Entry, EntryState};
use serde::{Serialize, Serializer};
use uuid::Uuid;

pub fn state_name(state: EntryState) -> &'static str {
    match state {
        EntryState::Synced => "synced",
        EntryState::Pending => "pending",
        EntryState::Conflict => "conflict",
    }
}

/// One line of `list --json`: no secrets.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub kind: &'static str,
    /// The server revision this device last saw; 0 for an item not yet
    /// applied by the server.
    pub revision: u64,
    pub state: &'static str,
}

impl<'a> Summary<'a> {
    pub fn of(entry: &'a Entry) -> Self {
        Self {
            id: entry.id,
            name: &entry.item.name,
            kind: entry.item.kind().name(),
            revision: entry.revision,
            state: state_name(entry.state),
        }
    }
}

/// `get --json`: an [`ItemJson`] with where it stands.
#[derive(Debug, Serialize)]
pub struct Full<'a> {
    pub id: Uuid,
    pub revision: u64,
    pub state: &'static str,
    #[serde(flatten)]
    pub item: ItemJson<'a>,
}

impl<'a> Full<'a> {
    pub fn of(entry: &'a Entry) -> Self {
        Self {
            id: entry.id,
            revision: entry.revision,
            state: state_name(entry.state),
            item: ItemJson::of(&entry.item),
        }
    }
}

/// An item's whole content: `name`, `kind`, `notes` (the free-text
/// metadata), `fields` and exactly one of `login`, `text`, `binary` or
/// `card`, named after the kind.
#[derive(Debug, Serialize)]
pub struct ItemJson<'a> {
    pub name: &'a str,
    pub kind: &'static str,
    pub notes: &'a str,
    pub fields: Vec<Field<'a>>,
    #[serde(flatten)]
    pub payload: PayloadJson<'a>,
}

impl<'a> ItemJson<'a> {
    pub fn of(item: &'a Item) -> Self {
        Self {
            name: &item.name,
            kind: item.kind().name(),
            notes: &item.notes,
            fields: item
                .fields
                .iter()
                .map(|f| Field {
                    key: &f.key,
                    value: &f.value,
                    hidden: f.hidden,
                })
                .collect(),
            payload: PayloadJson::of(&item.payload),
        }
    }
}

/// A custom field; `hidden` ones are masked in text output.
#[derive(Debug, Serialize)]
pub struct Field<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub hidden: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadJson<'a> {
    /// `totp` is the secret as stored (base32 or `otpauth://` URI), or null.
    Login {
        username: &'a str,
        password: &'a str,
        urls: &'a [String],
        totp: Option<&'a str>,
    },
    Text {
        text: &'a str,
    },
    /// `content_base64`: the file's bytes, standard base64 with padding.
    Binary {
        file_name: &'a str,
        size: usize,
        #[serde(serialize_with = "base64_bytes")]
        content_base64: &'a [u8],
    },
    /// `expiry` is `MM/YYYY`.
    Card {
        holder: &'a str,
        number: &'a str,
        expiry: String,
        cvv: &'a str,
    },
}

impl<'a> PayloadJson<'a> {
    fn of(payload: &'a Payload) -> Self {
        match payload {
            Payload::Login {
                username,
                password,
                urls,
                totp,
            } => Self::Login {
                username,
                password,
                urls,
                totp: totp.as_deref(),
            },
            Payload::Text { text } => Self::Text { text },
            Payload::Binary { file_name, bytes } => Self::Binary {
                file_name,
                size: bytes.len(),
                content_base64: bytes,
            },
            Payload::Card {
                holder,
                number,
                expiry,
                cvv,
            } => Self::Card {
                holder,
                number,
                expiry: expiry.to_string(),
                cvv,
            },
        }
    }
}

/// Straight into the output, with no intermediate copy of the content.
fn base64_bytes<S: Serializer>(bytes: &&[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&base64::display::Base64Display::new(
        bytes,
        &base64::engine::general_purpose::STANDARD,
    ))
}

/// Decodes what [`PayloadJson::Binary`] wrote (for tests and tools).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(text)
}

/// `status --json`. Works without the master password.
#[derive(Debug, Serialize)]
pub struct Status {
    pub profile: String,
    pub server: String,
    pub username: String,
    pub user_id: Uuid,
    /// This device holds a session (it may still turn out to be revoked).
    pub logged_in: bool,
    /// The server answered a health check just now.
    pub online: bool,
    /// Changes made on this device that the server has not applied yet.
    pub pending: usize,
    pub conflicts: usize,
    /// Records the sync refused as tampered with by the server.
    pub tampered: usize,
    pub last_sync_ms: Option<i64>,
}

/// `sessions --json`: one signed-in device.
#[derive(Debug, Serialize)]
pub struct Session<'a> {
    pub id: &'a str,
    pub device: &'a str,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    /// The session of the device that asked.
    pub current: bool,
}

/// `conflicts --json`: both sides; `null` means that side deleted it.
#[derive(Debug, Serialize)]
pub struct Conflict<'a> {
    pub id: Uuid,
    /// The server's revision of "theirs".
    pub theirs_revision: u64,
    pub mine: Option<ItemJson<'a>>,
    pub theirs: Option<ItemJson<'a>>,
}

/// `totp --json`.
#[derive(Debug, Serialize)]
pub struct TotpCode<'a> {
    pub code: &'a str,
    pub remaining_seconds: u64,
    pub period: u64,
    pub digits: u32,
    pub algorithm: &'static str,
}

/// `verify --json`.
#[derive(Debug, Serialize)]
pub struct Verify {
    /// Records in this device's copy, tombstones included.
    pub records: usize,
    /// Records the server holds; null when it could not be reached.
    pub server_records: Option<usize>,
    pub fingerprint: String,
    pub problems: Vec<VerifyProblem>,
}

/// One record `verify` found wrong.
#[derive(Debug, Serialize)]
pub struct VerifyProblem {
    pub id: Uuid,
    /// The item's name as this device knows it, if it can show it.
    pub name: Option<String>,
    /// `rollback`, `forged-deletion`, `does-not-open`, `fork` or `withheld`.
    pub problem: &'static str,
    /// `this-device`, `server` or `earlier-sync`.
    pub place: &'static str,
}

/// `audit --json`: item ids and names, never a password.
#[derive(Debug, Serialize)]
pub struct Audit {
    /// Logins with a password: what the findings are out of.
    pub logins: usize,
    /// Weakest first.
    pub weak: Vec<AuditWeak>,
    /// Groups of logins sharing one password, largest first.
    pub reused: Vec<Vec<AuditItem>>,
    /// Oldest first.
    pub old: Vec<AuditOld>,
    pub without_totp: Vec<AuditItem>,
}

#[derive(Debug, Serialize)]
pub struct AuditItem {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct AuditWeak {
    pub id: Uuid,
    pub name: String,
    /// zxcvbn's score, 0 to 4 (3 and up is not weak).
    pub score: u8,
    pub warning: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditOld {
    pub id: Uuid,
    pub name: String,
    /// Days since the password was set, at least.
    pub days: i64,
    /// false: the item predates password dates, and `days` counts from
    /// its last change of any kind.
    pub exact: bool,
}

impl Audit {
    pub fn of(report: &gophkeeper_client::vault::AuditReport) -> Self {
        let item = |i: &gophkeeper_client::vault::AuditItem| AuditItem {
            id: i.id,
            name: i.name.clone(),
        };
        Self {
            logins: report.logins,
            weak: report
                .weak
                .iter()
                .map(|w| AuditWeak {
                    id: w.item.id,
                    name: w.item.name.clone(),
                    score: w.score,
                    warning: w.warning.clone(),
                })
                .collect(),
            reused: report
                .reused
                .iter()
                .map(|group| group.iter().map(item).collect())
                .collect(),
            old: report
                .old
                .iter()
                .map(|o| AuditOld {
                    id: o.item.id,
                    name: o.item.name.clone(),
                    days: o.days,
                    exact: o.exact,
                })
                .collect(),
            without_totp: report.without_totp.iter().map(item).collect(),
        }
    }
}

#[cfg(test)]
mod tests;

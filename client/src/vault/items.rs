//! Reading and changing items. The view a person sees is the server's
//! mirror with this device's queued changes laid over it, each item marked
//! as synced, pending (queued, not yet applied) or in conflict.

use std::collections::{BTreeMap, HashSet};

use uuid::Uuid;

use super::{Vault, VaultError};
use crate::cache::{NewOp, OpKind, TamperAlert, TamperKind, is_summary_kind, now_ms};
use crate::crypto::RecordAad;
use crate::item::{Item, ItemError, ItemKind, Payload};
use crate::sync::{Resolution, SyncError, SyncReport};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    Synced,
    /// Changed on this device; not yet applied by the server.
    Pending,
    /// The server has another version; see [`Vault::conflicts`].
    Conflict,
}

/// A decrypted item with where it stands. `Debug` hides secrets (see
/// [`Item`]).
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: Uuid,
    /// The server revision this device last saw; 0 if never applied.
    pub revision: u64,
    pub state: EntryState,
    /// When the server stored this version (Unix ms, the server's clock);
    /// now for a change not applied yet.
    pub updated_at_ms: i64,
    pub item: Item,
}

/// The result of a change: it is saved locally in any case.
#[derive(Debug, Clone)]
pub struct Saved {
    pub record_id: Uuid,
    /// What the push attempt right after it did (`offline` set when the
    /// server could not be reached; the change stays queued).
    pub report: SyncReport,
    /// Set when the push could not run because the session is over.
    pub login_required: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    /// The record made from "mine", when the choice made one.
    pub new_record_id: Option<Uuid>,
    pub report: SyncReport,
    pub login_required: Option<String>,
}

/// Both sides of a conflict, decrypted. `None` means that side deleted it.
#[derive(Debug, Clone)]
pub struct ConflictView {
    pub record_id: Uuid,
    pub mine: Option<Item>,
    pub theirs: Option<Item>,
    pub theirs_revision: u64,
}

/// What [`Vault::list_checked`] found.
#[derive(Debug, Clone)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub unreadable: Vec<Unreadable>,
}

/// A record this device holds but cannot show.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub id: Uuid,
    /// A kind from a newer client (update this one), rather than a copy
    /// that does not decrypt.
    pub newer_kind: bool,
    pub reason: String,
}

/// The newest local version of one record.
struct Local {
    kind: i32,
    ciphertext: Vec<u8>,
    revision: u64,
    state: EntryState,
    updated_at_ms: i64,
}

impl Vault {
    fn open_item(&self, id: Uuid, kind: i32, sealed: &[u8]) -> Result<Item, VaultError> {
        let kind = ItemKind::try_from(kind)?;
        let aad = RecordAad::new(self.profile.user_id, id, kind);
        Ok(Item::from_opened(
            &aad,
            &self.key.open_record(&aad, sealed)?,
        )?)
    }

    async fn local_view(&self) -> Result<BTreeMap<Uuid, Local>, VaultError> {
        let mut view = BTreeMap::new();
        for record in self.cache.live_records().await? {
            if is_summary_kind(record.kind) {
                continue;
            }
            view.insert(
                record.id,
                Local {
                    kind: record.kind,
                    ciphertext: record.ciphertext,
                    revision: record.revision,
                    state: EntryState::Synced,
                    updated_at_ms: record.updated_at_ms,
                },
            );
        }
        for op in self.cache.pending().await? {
            if is_summary_kind(op.kind) {
                continue;
            }
            match (op.op, op.ciphertext) {
                (OpKind::Delete, _) => {
                    view.remove(&op.record_id);
                }
                (_, Some(ciphertext)) => {
                    let revision = view.get(&op.record_id).map_or(0, |l| l.revision);
                    view.insert(
                        op.record_id,
                        Local {
                            kind: op.kind,
                            ciphertext,
                            revision,
                            state: EntryState::Pending,
                            updated_at_ms: now_ms(),
                        },
                    );
                }
                (_, None) => {}
            }
        }
        for conflict in self.cache.conflicts().await? {
            if let Some(local) = view.get_mut(&conflict.record_id) {
                local.state = EntryState::Conflict;
            } else if conflict.mine_op != OpKind::Delete
                && let Some(ciphertext) = conflict.mine_ciphertext
            {
                // Theirs is gone; show mine so that it is not lost from view.
                view.insert(
                    conflict.record_id,
                    Local {
                        kind: conflict.kind,
                        ciphertext,
                        revision: conflict.theirs.revision,
                        state: EntryState::Conflict,
                        updated_at_ms: now_ms(),
                    },
                );
            }
        }
        Ok(view)
    }

    /// Every item, sorted by name. Records this client cannot open are
    /// left out, never silently: see [`Vault::list_checked`].
    pub async fn list(&self) -> Result<Vec<Entry>, VaultError> {
        Ok(self.list_checked().await?.entries)
    }

    /// Every item, sorted by name, and the records this device holds but
    /// cannot open: a kind from a newer client, or a copy that does not
    /// decrypt. The latter are kept as tamper alerts (once per record and
    /// revision), so `status` counts them and `verify` lists them.
    pub async fn list_checked(&self) -> Result<Listing, VaultError> {
        let mut entries = Vec::new();
        let mut unreadable = Vec::new();
        for (id, local) in self.local_view().await? {
            match self.open_item(id, local.kind, &local.ciphertext) {
                Ok(item) => entries.push(Entry {
                    id,
                    revision: local.revision,
                    state: local.state,
                    updated_at_ms: local.updated_at_ms,
                    item,
                }),
                Err(err) => {
                    tracing::warn!(record_id = %id, %err, "a record does not open");
                    let newer_kind = matches!(err, VaultError::UnknownKind(_));
                    if !newer_kind {
                        let alert = TamperAlert::new(id, TamperKind::DoesNotOpen, local.revision);
                        self.cache.add_tamper_alert(&alert).await?;
                    }
                    unreadable.push(Unreadable {
                        id,
                        newer_kind,
                        reason: err.to_string(),
                    });
                }
            }
        }
        entries.sort_by(|a, b| a.item.name.cmp(&b.item.name).then(a.id.cmp(&b.id)));
        Ok(Listing {
            entries,
            unreadable,
        })
    }

    /// One item by id, or by name (exact, else ignoring case).
    pub async fn get(&self, id_or_name: &str) -> Result<Entry, VaultError> {
        if let Ok(id) = Uuid::try_parse(id_or_name.trim()) {
            let view = self.local_view().await?;
            let local = view
                .get(&id)
                .ok_or_else(|| VaultError::NotFound(id_or_name.to_owned()))?;
            return Ok(Entry {
                id,
                revision: local.revision,
                state: local.state,
                updated_at_ms: local.updated_at_ms,
                item: self.open_item(id, local.kind, &local.ciphertext)?,
            });
        }
        let entries = self.list().await?;
        let exact: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.item.name == id_or_name)
            .collect();
        let matches = if exact.is_empty() {
            entries
                .iter()
                .filter(|e| e.item.name.to_lowercase() == id_or_name.to_lowercase())
                .collect()
        } else {
            exact
        };
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(VaultError::NotFound(id_or_name.to_owned())),
            many => Err(VaultError::Ambiguous {
                name: id_or_name.to_owned(),
                ids: many.iter().map(|e| e.id).collect(),
            }),
        }
    }

    /// Pushes the queue; "offline" and "log in again" are reported, since
    /// the change is safe in the queue either way.
    async fn push_after_change(&self) -> Result<(SyncReport, Option<String>), VaultError> {
        match self.engine.push().await {
            Ok(report) => Ok((report, None)),
            Err(SyncError::Api(err)) if err.needs_login() => {
                let report = SyncReport {
                    pending: self.cache.pending_count().await?,
                    ..SyncReport::default()
                };
                Ok((report, Some(err.to_string())))
            }
            Err(err) => Err(err.into()),
        }
    }

    pub async fn add(&self, item: &Item) -> Result<Saved, VaultError> {
        let id = Uuid::new_v4();
        let kind = item.kind();
        let item = with_password_stamp(item, None, now_ms());
        let versions = self.cache.next_versions(id, OpKind::Create).await?;
        let ciphertext = self.engine.sealer().seal_item(id, &item, versions)?;
        self.cache
            .enqueue(&NewOp {
                record_id: id,
                kind: i32::from(kind.as_u8()),
                op: OpKind::Create,
                ciphertext: Some(ciphertext),
                base_revision: None,
            })
            .await?;
        let (report, login_required) = self.push_after_change().await?;
        Ok(Saved {
            record_id: id,
            report,
            login_required,
        })
    }

    /// The record's current kind and revision, refusing one in conflict.
    async fn current(&self, id: Uuid) -> Result<(i32, u64), VaultError> {
        if self.cache.conflict(id).await?.is_some() {
            return Err(VaultError::InConflict(id));
        }
        let view = self.local_view().await?;
        let local = view
            .get(&id)
            .ok_or_else(|| VaultError::NotFound(id.to_string()))?;
        Ok((local.kind, local.revision))
    }

    /// Replaces an item's content, based on whatever this device holds now.
    /// Its kind cannot change. A user interface that showed the item first
    /// should use [`Vault::edit_from`] with the revision it showed.
    pub async fn edit(&self, id: Uuid, item: &Item) -> Result<Saved, VaultError> {
        let (_, revision) = self.current(id).await?;
        self.edit_from(id, revision, item).await
    }

    /// Replaces an item's content, based on the revision the person saw
    /// (`Entry::revision` of what was shown).
    ///
    /// If another device changed the record since, and this device has
    /// already pulled that change, the edit is still queued on the old
    /// revision: the server then reports a conflict and both versions are
    /// kept, instead of this edit silently replacing a version the person
    /// never saw. The same holds for a record deleted elsewhere meanwhile.
    /// While this device has its own queued changes of the record, those
    /// carry the base (the person saw them, and they conflict on their own
    /// if the server moved on).
    pub async fn edit_from(
        &self,
        id: Uuid,
        base_revision: u64,
        item: &Item,
    ) -> Result<Saved, VaultError> {
        if self.cache.conflict(id).await?.is_some() {
            return Err(VaultError::InConflict(id));
        }
        let view = self.local_view().await?;
        let previous = view
            .get(&id)
            .and_then(|local| self.open_item(id, local.kind, &local.ciphertext).ok());
        let kind = match view.get(&id) {
            Some(local) => local.kind,
            // Gone from the view: deleted elsewhere (a pulled tombstone) or
            // deleted here (enqueue refuses that one).
            None => {
                self.cache
                    .record(id)
                    .await?
                    .ok_or_else(|| VaultError::NotFound(id.to_string()))?
                    .kind
            }
        };
        let record_kind = ItemKind::try_from(kind)?;
        if item.kind() != record_kind {
            return Err(ItemError::KindMismatch {
                item: item.kind(),
                record: record_kind,
            }
            .into());
        }
        let revision = base_revision;
        let item = with_password_stamp(item, previous.as_ref(), now_ms());
        let versions = self.cache.next_versions(id, OpKind::Update).await?;
        let ciphertext = self.engine.sealer().seal_item(id, &item, versions)?;
        self.cache
            .enqueue(&NewOp {
                record_id: id,
                kind,
                op: OpKind::Update,
                ciphertext: Some(ciphertext),
                base_revision: Some(revision),
            })
            .await?;
        let (report, login_required) = self.push_after_change().await?;
        Ok(Saved {
            record_id: id,
            report,
            login_required,
        })
    }

    pub async fn delete(&self, id: Uuid) -> Result<Saved, VaultError> {
        let (kind, revision) = self.current(id).await?;
        let versions = self.cache.next_versions(id, OpKind::Delete).await?;
        let tombstone =
            self.engine
                .sealer()
                .seal_tombstone(id, ItemKind::try_from(kind)?, versions);
        self.cache
            .enqueue(&NewOp {
                record_id: id,
                kind,
                op: OpKind::Delete,
                ciphertext: Some(tombstone),
                base_revision: Some(revision),
            })
            .await?;
        let (report, login_required) = self.push_after_change().await?;
        Ok(Saved {
            record_id: id,
            report,
            login_required,
        })
    }

    /// Push the queue, then pull everyone's changes.
    /// Push, then pull. Refused while a vault-key rotation this device
    /// started is pending: records other devices re-sealed under its new
    /// key would not open here yet, and read as tampered with.
    pub async fn sync(&self) -> Result<SyncReport, VaultError> {
        self.no_rotation_pending().await?;
        Ok(self.engine.sync().await?)
    }

    pub async fn conflicts(&self) -> Result<Vec<ConflictView>, VaultError> {
        let mut views = Vec::new();
        for conflict in self.cache.conflicts().await? {
            let mine = match &conflict.mine_ciphertext {
                Some(sealed) if conflict.mine_op != OpKind::Delete => {
                    Some(self.open_item(conflict.record_id, conflict.kind, sealed)?)
                }
                _ => None,
            };
            let theirs = if conflict.theirs.deleted {
                None
            } else {
                Some(self.open_item(
                    conflict.record_id,
                    conflict.theirs.kind,
                    &conflict.theirs.ciphertext,
                )?)
            };
            views.push(ConflictView {
                record_id: conflict.record_id,
                mine,
                theirs,
                theirs_revision: conflict.theirs.revision,
            });
        }
        Ok(views)
    }

    pub async fn resolve(&self, id: Uuid, choice: Resolution) -> Result<Resolved, VaultError> {
        let copy_name = match choice {
            Resolution::KeepBoth => self.conflict_copy_name(id).await?,
            _ => None,
        };
        let new_record_id = self
            .engine
            .resolve(id, choice, copy_name.as_deref())
            .await?;
        let (report, login_required) = self.push_after_change().await?;
        Ok(Resolved {
            new_record_id,
            report,
            login_required,
        })
    }

    /// "NAME (conflict YYYY-MM-DD)" for mine's copy of a conflict kept both
    /// ways, by this device's local date, with " 2", " 3"... if taken: two
    /// items of one name make `get NAME` ambiguous.
    async fn conflict_copy_name(&self, id: Uuid) -> Result<Option<String>, VaultError> {
        let conflicts = self.conflicts().await?;
        let Some(mine) = conflicts
            .iter()
            .find(|c| c.record_id == id)
            .and_then(|c| c.mine.as_ref())
        else {
            return Ok(None);
        };
        let taken: HashSet<String> = self
            .list()
            .await?
            .into_iter()
            .map(|e| e.item.name.clone())
            .collect();
        let date = jiff::tz::TimeZone::system()
            .to_datetime(jiff::Timestamp::now())
            .date();
        let stem = format!("{} (conflict {date})", mine.name);
        let name = (1..)
            .map(|n| match n {
                1 => stem.clone(),
                n => format!("{stem} {n}"),
            })
            .find(|name| !taken.contains(name))
            .unwrap_or(stem);
        Ok(Some(name))
    }
}

/// `item` as it is saved: a login's password carries when it was set, now
/// if it differs from `previous`'s (or there is none), else the time
/// `previous` says. Kept inside the sealed item, so the server never learns
/// when a password changed.
fn with_password_stamp(item: &Item, previous: Option<&Item>, now_ms: i64) -> Item {
    let mut item = item.clone();
    let Payload::Login { password, .. } = &item.payload else {
        return item;
    };
    let unchanged = previous.and_then(|previous| match &previous.payload {
        Payload::Login { password: old, .. } if old == password => {
            Some(previous.password_changed_ms)
        }
        _ => None,
    });
    item.password_changed_ms = match unchanged {
        Some(Some(then)) => Some(then),
        // Unchanged but never stamped: keep what the caller says (nothing,
        // unless it knows), rather than pretend it is new.
        Some(None) => item.password_changed_ms,
        None if password.is_empty() => None,
        None => Some(now_ms),
    };
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(password: &str) -> Item {
        Item::new(
            "bank",
            Payload::Login {
                username: "ann".into(),
                password: password.into(),
                urls: Vec::new(),
                totp: None,
            },
        )
    }

    #[test]
    fn a_password_is_stamped_when_set_and_kept_on_other_edits() {
        // New: stamped now; without a password, nothing to date.
        assert_eq!(
            with_password_stamp(&login("p1"), None, 10).password_changed_ms,
            Some(10)
        );
        assert_eq!(
            with_password_stamp(&login(""), None, 10).password_changed_ms,
            None
        );
        let saved = with_password_stamp(&login("p1"), None, 10);

        // Another field changed, the stamp dropped by the caller: kept.
        let mut renamed = login("p1");
        renamed.name = "my bank".into();
        assert_eq!(
            with_password_stamp(&renamed, Some(&saved), 20).password_changed_ms,
            Some(10)
        );
        // A new password: stamped again, whatever the caller carried over.
        let mut changed = saved.clone();
        changed.payload = login("p2").payload.clone();
        assert_eq!(
            with_password_stamp(&changed, Some(&saved), 30).password_changed_ms,
            Some(30)
        );
        // Unchanged and never stamped (saved before stamps): not dated now.
        assert_eq!(
            with_password_stamp(&login("p1"), Some(&login("p1")), 40).password_changed_ms,
            None
        );
        // Other kinds carry no stamp.
        let note = Item::new("n", Payload::Text { text: "t".into() });
        assert_eq!(
            with_password_stamp(&note, None, 50).password_changed_ms,
            None
        );
    }
}

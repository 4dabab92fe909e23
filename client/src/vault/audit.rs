//! Vault health (`gophkeeper audit`, the TUI's audit screen): weak, reused
//! and old passwords, and logins without a TOTP secret. Judged on this
//! device from the decrypted items; nothing is sent anywhere, and the
//! report names items, never a password.

use std::collections::HashMap;

use uuid::Uuid;

use super::items::Entry;
use super::strength::{MIN_SCORE, estimate, known_words};
use crate::cache::now_ms;
use crate::item::Payload;

/// A password set this many days ago or more is "unchanged for a year".
pub const OLD_PASSWORD_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;

/// An item a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditItem {
    pub id: Uuid,
    pub name: String,
}

/// A password zxcvbn scores below [`MIN_SCORE`], the user name, the
/// item's name and its URLs counting as known words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakLogin {
    pub item: AuditItem,
    /// 0 to 4.
    pub score: u8,
    /// zxcvbn's fixed advice, e.g. "This is a very common password."
    pub warning: Option<String>,
}

/// A password unchanged for [`OLD_PASSWORD_DAYS`] or more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldLogin {
    pub item: AuditItem,
    /// Days since the password was set, at least.
    pub days: i64,
    /// The age comes from the item's own record of when its password was
    /// set; otherwise (an item saved before that existed) from when the
    /// item last changed at all, so the password is at least that old.
    pub exact: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditReport {
    /// Logins with a password: what the findings are out of.
    pub logins: usize,
    /// Weakest first.
    pub weak: Vec<WeakLogin>,
    /// Groups of logins that share one password, largest group first.
    pub reused: Vec<Vec<AuditItem>>,
    /// Oldest first.
    pub old: Vec<OldLogin>,
    /// Logins with a password and no TOTP secret, by name.
    pub without_totp: Vec<AuditItem>,
}

impl AuditReport {
    pub fn is_clean(&self) -> bool {
        self.weak.is_empty()
            && self.reused.is_empty()
            && self.old.is_empty()
            && self.without_totp.is_empty()
    }
}

/// Audits the logins among `entries` as of now. Costs one zxcvbn
/// estimate per login (about a millisecond each).
pub fn audit(entries: &[Entry]) -> AuditReport {
    audit_at(entries, now_ms())
}

/// [`audit`] as of `now_ms` (Unix ms).
pub fn audit_at(entries: &[Entry], now_ms: i64) -> AuditReport {
    let mut report = AuditReport::default();
    // Keyed by the passwords themselves, borrowed: no copy of one is made.
    let mut by_password: HashMap<&str, Vec<AuditItem>> = HashMap::new();
    for entry in entries {
        let Payload::Login {
            username,
            password,
            urls,
            totp,
        } = &entry.item.payload
        else {
            continue;
        };
        if password.is_empty() {
            continue;
        }
        report.logins += 1;
        let item = AuditItem {
            id: entry.id,
            name: entry.item.name.clone(),
        };
        let mut known: Vec<&str> = vec![username, &entry.item.name];
        known.extend(urls.iter().map(String::as_str));
        let verdict = estimate(password, &known_words(&known));
        if verdict.score < MIN_SCORE {
            report.weak.push(WeakLogin {
                item: item.clone(),
                score: verdict.score,
                warning: verdict.warning,
            });
        }
        let (set_at, exact) = match entry.item.password_changed_ms {
            Some(at) => (at, true),
            None => (entry.updated_at_ms, false),
        };
        let days = now_ms.saturating_sub(set_at) / DAY_MS;
        if days >= OLD_PASSWORD_DAYS {
            report.old.push(OldLogin {
                item: item.clone(),
                days,
                exact,
            });
        }
        if totp.as_deref().is_none_or(str::is_empty) {
            report.without_totp.push(item.clone());
        }
        by_password.entry(password.as_str()).or_default().push(item);
    }
    report.reused = by_password
        .into_values()
        .filter(|group| group.len() > 1)
        .map(|mut group| {
            group.sort_by(|a, b| a.name.cmp(&b.name));
            group
        })
        .collect();
    report.reused.sort_by(|a, b| {
        b.len()
            .cmp(&a.len())
            .then_with(|| a[0].name.cmp(&b[0].name))
    });
    report.weak.sort_by(|a, b| {
        a.score
            .cmp(&b.score)
            .then_with(|| a.item.name.cmp(&b.item.name))
    });
    report.old.sort_by(|a, b| {
        b.days
            .cmp(&a.days)
            .then_with(|| a.item.name.cmp(&b.item.name))
    });
    report.without_totp.sort_by(|a, b| a.name.cmp(&b.name));
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Item;
    use crate::vault::EntryState;

    const NOW: i64 = 1_800_000_000_000;

    fn login(name: &str, password: &str, totp: Option<&str>, set_days_ago: Option<i64>) -> Entry {
        let mut item = Item::new(
            name,
            Payload::Login {
                username: "ann@example.com".into(),
                password: password.into(),
                urls: vec![format!("https://{name}.example.com/login")],
                totp: totp.map(str::to_owned),
            },
        );
        item.password_changed_ms = set_days_ago.map(|days| NOW - days * DAY_MS);
        Entry {
            id: Uuid::new_v4(),
            revision: 1,
            state: EntryState::Synced,
            updated_at_ms: NOW - 10 * DAY_MS,
            item,
        }
    }

    const STRONG: &str = "correct-zebra-lantern-quietly-7";

    #[test]
    fn a_healthy_vault_is_clean_and_other_kinds_are_not_judged() {
        let mut note = login("note", "", None, None);
        note.item.payload = Payload::Text {
            text: "password".into(),
        };
        let entries = vec![
            login("mail", STRONG, Some("JBSWY3DPEHPK3PXP"), Some(3)),
            note,
        ];
        let report = audit_at(&entries, NOW);
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.logins, 1);
    }

    #[test]
    fn weak_reused_old_and_without_totp_are_each_named() {
        let entries = vec![
            login("bank", "password1", Some("JBSWY3DPEHPK3PXP"), Some(1)),
            login("shop", "river-falcon-copper-9-window", None, Some(400)),
            login("forum", "river-falcon-copper-9-window", Some("X"), Some(2)),
            // The site's own name does not make a password strong.
            login("zebracorp", "zebracorp2024zebracorp", Some("X"), None),
        ];
        let report = audit_at(&entries, NOW);
        let names = |items: &[AuditItem]| items.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
        let weak: Vec<&str> = report.weak.iter().map(|w| w.item.name.as_str()).collect();
        assert_eq!(weak, ["bank", "zebracorp"], "{report:?}");
        assert!(report.weak.iter().all(|w| w.score < MIN_SCORE));
        assert_eq!(report.reused.len(), 1);
        assert_eq!(names(&report.reused[0]), ["forum", "shop"]);
        assert_eq!(report.old.len(), 1);
        assert_eq!(report.old[0].item.name, "shop");
        assert_eq!((report.old[0].days, report.old[0].exact), (400, true));
        assert_eq!(names(&report.without_totp), ["shop"]);
        assert_eq!(report.logins, 4);
        // The report never holds a password.
        let shown = format!("{report:?}");
        assert!(!shown.contains("password1") && !shown.contains("river-falcon"));
    }

    #[test]
    fn an_unstamped_password_is_at_least_as_old_as_its_item() {
        let mut unstamped = login("old", STRONG, Some("X"), None);
        unstamped.updated_at_ms = NOW - 500 * DAY_MS;
        let recent = login("recent", STRONG, Some("X"), None);
        let report = audit_at(&[unstamped, recent], NOW);
        assert_eq!(report.old.len(), 1, "{report:?}");
        assert_eq!((report.old[0].days, report.old[0].exact), (500, false));
        // A password set 364 days ago is not yet a year old.
        let report = audit_at(&[login("edge", STRONG, Some("X"), Some(364))], NOW);
        assert!(report.old.is_empty());
    }
}

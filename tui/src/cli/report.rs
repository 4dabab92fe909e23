//! Saying what a change did. A change is always saved on this device
//! first; then it was applied by the server, queued (offline), or it met
//! another device's change (a conflict, exit code 3).

use anyhow::bail;
use gophkeeper_client::vault::{SyncReport, TamperAlert, TamperKind, Unreadable, Vault};
use uuid::Uuid;

use super::Done;
use crate::output::sanitize::line;

/// The sync refused what the server served; the command ends with exit
/// code 4 after saying what (docs/cli.md).
#[derive(Debug, thiserror::Error)]
#[error(
    "{count} record(s) failed the integrity checks (see above); this device keeps showing the \
     newest versions it trusts (`gophkeeper verify` lists what is wrong)"
)]
pub struct Tampered {
    pub count: usize,
}

/// Names the records a listing had to leave out, on standard error.
pub fn unreadable(records: &[Unreadable]) {
    for record in records {
        if record.newer_kind {
            eprintln!(
                "warning: record {} is of a kind this client does not know ({}); update \
                 gophkeeper to see it",
                record.id, record.reason
            );
        } else {
            eprintln!(
                "WARNING: record {} does not decrypt on this device (altered or corrupted); it is \
                 not shown. `gophkeeper verify` checks the whole vault",
                record.id
            );
        }
    }
}

/// Says loudly what the sync refused, naming each item as this device
/// knows it, and fails with [`Tampered`] if it refused anything.
pub async fn tampered(vault: &Vault, alerts: &[TamperAlert]) -> anyhow::Result<()> {
    if alerts.is_empty() {
        return Ok(());
    }
    for alert in alerts {
        // Debug formatting escapes control characters in a name.
        let item = match vault.get(&alert.record_id.to_string()).await {
            Ok(entry) => format!("{:?} ({})", entry.item.name, alert.record_id),
            Err(_) => format!("record {}", alert.record_id),
        };
        let what = match alert.what {
            TamperKind::Rollback => format!(
                "the server served an older version of {item} than this device, or another of \
                 yours, has seen; refused, this device keeps the newest version it holds"
            ),
            TamperKind::ForgedDeletion => format!(
                "the server marked {item} deleted, but no device of yours deleted it; refused, \
                 the item stays"
            ),
            TamperKind::DoesNotOpen => format!(
                "the server served a version of {item} that does not decrypt (altered or \
                 corrupted); refused"
            ),
            TamperKind::Fork => format!(
                "the server served a version of {item} that contradicts one this device or \
                 another of yours holds (a forked history); refused"
            ),
            TamperKind::Withheld => format!(
                "the server withholds {item}, which another device of yours holds (its signed \
                 summary of the vault lists it)"
            ),
        };
        eprintln!("WARNING: {what}");
    }
    Err(Tampered {
        count: alerts.len(),
    }
    .into())
}

/// Reports the push that followed a change. `what` names the change for
/// people, e.g. `added login "Mail"`.
pub async fn change(
    vault: &Vault,
    what: &str,
    report: &SyncReport,
    login_required: Option<&str>,
) -> anyhow::Result<Done> {
    if let Some(reason) = login_required {
        bail!(
            "{what}: saved on this device and queued, but not sent: this device must log in \
             again ({reason}). Run: gophkeeper login {}",
            vault.username()
        );
    }
    if !report.rejected.is_empty() {
        let reasons: Vec<_> = report.rejected.iter().map(|r| line(&r.message)).collect();
        bail!("{what}: the server refused it: {}", reasons.join("; "));
    }
    if !report.conflicts.is_empty() {
        conflicts_hint(what, &report.conflicts);
    }
    tampered(vault, &report.tampered).await?;
    if !report.conflicts.is_empty() {
        return Ok(Done::Conflict);
    }
    if let Some(reason) = &report.offline {
        eprintln!(
            "{what}: queued on this device; the server is unreachable ({}). It will be sent \
             at the next `gophkeeper sync` or command that reaches the server.",
            line(reason)
        );
    } else if report.unconfirmed > 0 {
        eprintln!(
            "{what}: sent; the server has not confirmed it yet, the next sync will (resending \
             it is safe)"
        );
    } else {
        eprintln!("{what}: done");
    }
    Ok(Done::Success)
}

/// Tells the person how to look at and settle conflicts.
pub fn conflicts_hint(what: &str, ids: &[Uuid]) {
    eprintln!(
        "{what}: CONFLICT: another device changed it first. Both versions are kept on this \
         device."
    );
    for id in ids {
        eprintln!(
            "  see both: gophkeeper conflicts\n  choose:   gophkeeper resolve {id} --keep \
             mine|theirs|both"
        );
    }
}

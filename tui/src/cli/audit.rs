//! `gophkeeper audit [--json]`: vault health. Weak, reused and old
//! passwords and logins without TOTP, judged on this device (nothing is
//! sent); names items, never a password. Syncs first when the server is
//! reachable. Exit code 0 whatever it finds: findings are advice.

use clap::Args;
use gophkeeper_client::vault::{AuditItem, AuditReport, OLD_PASSWORD_DAYS, audit};

use super::context::refresh;
use super::{Done, Globals, report};
use crate::output::json::Audit as AuditJson;
use crate::output::{print_json, sanitize, write_stdout};

#[derive(Debug, Args)]
pub struct Audit {
    /// Print JSON (shape in docs/cli.md)
    #[arg(long)]
    json: bool,
}

pub async fn run(globals: &Globals, args: Audit) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    refresh(&vault).await?;
    let listing = vault.list_checked().await?;
    report::unreadable(&listing.unreadable);
    let found = audit(&listing.entries);
    if args.json {
        print_json(&AuditJson::of(&found))?;
    } else {
        write_stdout(text(&found).as_bytes())?;
    }
    Ok(Done::Success)
}

/// The report for people: one section per kind of finding, items by name.
pub fn text(report: &AuditReport) -> String {
    let mut out = format!(
        "audited {} login(s) with a password on this device; nothing was sent\n",
        report.logins
    );
    if report.is_clean() {
        out.push_str("no weak, reused or year-old passwords, and every login has TOTP\n");
        return out;
    }
    let name = |item: &AuditItem| sanitize::line(&item.name).into_owned();
    if !report.weak.is_empty() {
        out.push_str(&format!("\nweak passwords ({}):\n", report.weak.len()));
        for weak in &report.weak {
            out.push_str(&format!(
                "  {}: strength {} of 4{}\n",
                name(&weak.item),
                weak.score,
                weak.warning
                    .as_ref()
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            ));
        }
    }
    if !report.reused.is_empty() {
        out.push_str(&format!(
            "\nreused passwords ({} group(s); each line shares one password):\n",
            report.reused.len()
        ));
        for group in &report.reused {
            let names: Vec<String> = group.iter().map(name).collect();
            out.push_str(&format!("  {}\n", names.join(", ")));
        }
    }
    if !report.old.is_empty() {
        out.push_str(&format!(
            "\nunchanged for {OLD_PASSWORD_DAYS} days or more ({}):\n",
            report.old.len()
        ));
        for old in &report.old {
            let age = if old.exact {
                format!("{} days", old.days)
            } else {
                format!("at least {} days (the item's last change)", old.days)
            };
            out.push_str(&format!("  {}: {age}\n", name(&old.item)));
        }
    }
    if !report.without_totp.is_empty() {
        out.push_str(&format!(
            "\nlogins without TOTP ({}):\n",
            report.without_totp.len()
        ));
        for item in &report.without_totp {
            out.push_str(&format!("  {}\n", name(item)));
        }
    }
    out
}

//! `gophkeeper verify [--json]`: syncs, then checks this device's copy and
//! the server's current view against what this device trusts, and prints
//! the vault fingerprint to compare between devices. Exit code 4 when
//! anything is wrong (docs/cli.md).

use clap::Args;
use gophkeeper_client::vault::{Place, Problem, TamperKind};

use super::context::explain;
use super::report::Tampered;
use super::{Done, Globals};
use crate::output::json::{self, VerifyProblem};
use crate::output::{print_json, write_stdout};

#[derive(Debug, Args)]
pub struct Verify {
    /// Print JSON (shape in docs/cli.md)
    #[arg(long)]
    json: bool,
}

fn problem_name(problem: Problem) -> &'static str {
    match problem {
        Problem::Tampered(TamperKind::Rollback) => "rollback",
        Problem::Tampered(TamperKind::ForgedDeletion) => "forged-deletion",
        Problem::Tampered(TamperKind::DoesNotOpen) => "does-not-open",
        Problem::Tampered(TamperKind::Fork) => "fork",
        Problem::Tampered(TamperKind::Withheld) | Problem::Withheld => "withheld",
    }
}

fn place_name(place: Place) -> &'static str {
    match place {
        Place::ThisDevice => "this-device",
        Place::Server => "server",
        Place::EarlierSync => "earlier-sync",
    }
}

fn explain_problem(problem: Problem, place: Place) -> &'static str {
    match (problem, place) {
        (Problem::Withheld, _) => {
            "this device holds it, or a device's summary lists it; the server's answer lacks it"
        }
        (Problem::Tampered(TamperKind::Withheld), _) => {
            "a device's summary lists it; the server did not serve it"
        }
        (Problem::Tampered(TamperKind::DoesNotOpen), Place::ThisDevice) => {
            "this device's copy does not decrypt"
        }
        (Problem::Tampered(TamperKind::DoesNotOpen), _) => "the server's copy does not decrypt",
        (Problem::Tampered(TamperKind::Rollback), _) => {
            "the server serves an older version than this device has seen"
        }
        (Problem::Tampered(TamperKind::ForgedDeletion), _) => {
            "the server marks it deleted; no device of yours deleted it"
        }
        (Problem::Tampered(TamperKind::Fork), _) => {
            "the server serves a version that contradicts this device's (a fork)"
        }
    }
}

pub async fn run(globals: &Globals, args: Verify) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    // Verify what the server confirmed; what the sync refuses shows up as
    // a finding of an earlier sync.
    let synced = vault.sync().await.map_err(|err| explain(err, &vault))?;
    if let Some(reason) = &synced.offline {
        eprintln!("note: offline ({reason}); checking this device's copy only");
    }
    let report = vault.verify().await?;
    let mut problems = Vec::new();
    for finding in &report.findings {
        let name = vault
            .get(&finding.record_id.to_string())
            .await
            .ok()
            .map(|entry| entry.item.name.clone());
        problems.push(VerifyProblem {
            id: finding.record_id,
            name,
            problem: problem_name(finding.problem),
            place: place_name(finding.place),
        });
    }
    if args.json {
        print_json(&json::Verify {
            records: report.records,
            server_records: report.server_records,
            fingerprint: report.fingerprint.clone(),
            problems: std::mem::take(&mut problems),
        })?;
    } else {
        let mut text = format!("checked {} record(s) on this device", report.records);
        match report.server_records {
            Some(n) => text.push_str(&format!(", {n} on the server\n")),
            None => text.push_str("; the server was not reached\n"),
        }
        for (problem, finding) in problems.iter().zip(&report.findings) {
            // Debug formatting escapes control characters in a name.
            let item = problem.name.as_ref().map_or_else(
                || format!("record {}", problem.id),
                |name| format!("{name:?} ({})", problem.id),
            );
            text.push_str(&format!(
                "PROBLEM: {item}: {}\n",
                explain_problem(finding.problem, finding.place)
            ));
        }
        text.push_str(&format!(
            "vault fingerprint: {}\n(after each device has synced, every device of this vault \
             shows the same one: compare them)\n",
            report.fingerprint
        ));
        write_stdout(text.as_bytes())?;
    }
    if report.findings.is_empty() {
        Ok(Done::Success)
    } else {
        Err(Tampered {
            count: report.findings.len(),
        }
        .into())
    }
}

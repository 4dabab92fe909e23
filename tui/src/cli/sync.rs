//! `gophkeeper sync`: sends this device's queued changes and fetches
//! everyone else's. Unlike the quiet sync before a read, being offline is
//! an error here: the person asked to reach the server.

use anyhow::bail;

use super::context::explain;
use super::{Done, Globals, report};
use crate::output::sanitize::line;

pub async fn run(globals: &Globals) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    let result = vault.sync().await.map_err(|err| explain(err, &vault))?;
    if let Some(reason) = &result.offline {
        bail!(
            "cannot reach the server ({}); {} change(s) stay queued on this device",
            line(reason),
            result.pending
        );
    }
    for rejection in &result.rejected {
        eprintln!(
            "refused by the server, dropped: {} ({})",
            rejection.record_id,
            line(&rejection.message)
        );
    }
    eprintln!(
        "synced: {} change(s) sent, {} received, {} still queued",
        result.applied, result.pulled, result.pending
    );
    report::tampered(&vault, &result.tampered).await?;
    if !result.conflicts.is_empty() {
        report::conflicts_hint("sync", &result.conflicts);
        return Ok(Done::Conflict);
    }
    if !result.rejected.is_empty() {
        bail!("the server refused {} change(s)", result.rejected.len());
    }
    Ok(Done::Success)
}

//! `gophkeeper rm NAME-OR-ID`: deletes an item on every device. Based on
//! the revision this device holds, so a change made elsewhere meanwhile
//! turns into a conflict instead of being deleted unseen.

use clap::Args;

use super::context::{explain, find_for_change};
use super::{Done, Globals, report};

#[derive(Debug, Args)]
pub struct Rm {
    /// Item name or id
    target: String,
}

pub async fn run(globals: &Globals, args: Rm) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    let entry = find_for_change(&vault, &args.target).await?;
    let saved = vault
        .delete(entry.id)
        .await
        .map_err(|err| explain(err, &vault))?;
    let what = format!("deleted {} {:?}", entry.item.kind(), entry.item.name);
    report::change(
        &vault,
        &what,
        &saved.report,
        saved.login_required.as_deref(),
    )
    .await
}

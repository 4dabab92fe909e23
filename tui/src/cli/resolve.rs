//! `gophkeeper resolve NAME-OR-ID --keep mine|theirs|both`: settles a
//! conflict. Mine replaces theirs; theirs drops mine; both keeps mine as a
//! new item beside theirs. Nothing is lost unless the person chose so.

use anyhow::bail;
use clap::{Args, ValueEnum};
use gophkeeper_client::vault::Resolution;

use super::context::explain;
use super::{Done, Globals, report};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Keep {
    Mine,
    Theirs,
    Both,
}

#[derive(Debug, Args)]
pub struct Resolve {
    /// The conflicting item's id (or name)
    target: String,
    /// Which version to keep
    #[arg(long, value_enum)]
    keep: Keep,
}

pub async fn run(globals: &Globals, args: Resolve) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    let conflicts = vault.conflicts().await?;
    let target = args.target.trim();
    let matching: Vec<_> = conflicts
        .iter()
        .filter(|c| {
            c.record_id.to_string() == target
                || [&c.mine, &c.theirs]
                    .iter()
                    .any(|side| side.as_ref().is_some_and(|i| i.name == target))
        })
        .collect();
    let conflict = match matching.as_slice() {
        [one] => *one,
        [] => bail!("no conflict on {target:?}; see `gophkeeper conflicts`"),
        _ => bail!("several conflicts match {target:?}; use the id"),
    };
    let choice = match args.keep {
        Keep::Mine => Resolution::KeepMine,
        Keep::Theirs => Resolution::KeepTheirs,
        Keep::Both => Resolution::KeepBoth,
    };
    let id = conflict.record_id;
    let resolved = vault
        .resolve(id, choice)
        .await
        .map_err(|err| explain(err, &vault))?;
    if let Some(new_id) = resolved.new_record_id {
        eprintln!("my version is now item {new_id}");
    }
    let what = format!("resolved {id} (kept {:?})", args.keep).to_lowercase();
    report::change(
        &vault,
        &what,
        &resolved.report,
        resolved.login_required.as_deref(),
    )
    .await
}

//! `gophkeeper list [--kind K] [--json]`: every item's id, kind and name;
//! no secrets. Syncs first when the server is reachable.

use clap::{Args, ValueEnum};
use gophkeeper_client::item::ItemKind;

use super::context::refresh;
use super::{Done, Globals, report};
use crate::output::json::Summary;
use crate::output::text::summary_line;
use crate::output::{print_json, write_stdout};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Login,
    Text,
    Binary,
    Card,
}

impl From<KindArg> for ItemKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Login => Self::Login,
            KindArg::Text => Self::Text,
            KindArg::Binary => Self::Binary,
            KindArg::Card => Self::Card,
        }
    }
}

#[derive(Debug, Args)]
pub struct List {
    /// Only items of this kind
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// Print a JSON array (fields: id, name, kind, revision, state)
    #[arg(long)]
    json: bool,
}

pub async fn run(globals: &Globals, args: List) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    refresh(&vault).await?;
    let listing = vault.list_checked().await?;
    report::unreadable(&listing.unreadable);
    let mut entries = listing.entries;
    if let Some(kind) = args.kind {
        let kind = ItemKind::from(kind);
        entries.retain(|e| e.item.kind() == kind);
    }
    if args.json {
        let summaries: Vec<Summary<'_>> = entries.iter().map(Summary::of).collect();
        print_json(&summaries)?;
    } else {
        let mut text = String::new();
        for entry in &entries {
            text.push_str(&summary_line(entry));
            text.push('\n');
        }
        write_stdout(text.as_bytes())?;
    }
    Ok(Done::Success)
}

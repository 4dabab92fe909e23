//! `gophkeeper conflicts [--json]`: changes of this device that met
//! another device's change. Both versions are kept until `resolve`.

use clap::Args;

use super::{Done, Globals};
use crate::output::text::differences;
use crate::output::{json, print_json, write_stdout};

#[derive(Debug, Args)]
pub struct Conflicts {
    /// Print a JSON array (id, theirs_revision, mine, theirs); secrets
    /// included, as in `get --json`
    #[arg(long)]
    json: bool,
}

pub async fn run(globals: &Globals, args: Conflicts) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    let conflicts = vault.conflicts().await?;
    if args.json {
        let rows: Vec<json::Conflict<'_>> = conflicts
            .iter()
            .map(|c| json::Conflict {
                id: c.record_id,
                theirs_revision: c.theirs_revision,
                mine: c.mine.as_ref().map(json::ItemJson::of),
                theirs: c.theirs.as_ref().map(json::ItemJson::of),
            })
            .collect();
        print_json(&rows)?;
        return Ok(Done::Success);
    }
    let mut text = String::new();
    for c in &conflicts {
        let name = c
            .mine
            .as_ref()
            .or(c.theirs.as_ref())
            .map_or("", |i| i.name.as_str());
        let side = |item: Option<&gophkeeper_client::item::Item>| match item {
            Some(item) => format!("{} {:?}", item.kind(), item.name),
            None => "deleted".into(),
        };
        text.push_str(&format!("{}  {name:?}\n", c.record_id));
        text.push_str(&format!("  mine:   {}\n", side(c.mine.as_ref())));
        text.push_str(&format!(
            "  theirs: {} (server revision {})\n",
            side(c.theirs.as_ref()),
            c.theirs_revision
        ));
        if let (Some(mine), Some(theirs)) = (&c.mine, &c.theirs) {
            text.push_str(&format!(
                "  differ:  {}\n",
                differences(mine, theirs).join(", ")
            ));
        }
    }
    if conflicts.is_empty() {
        eprintln!("no conflicts");
    } else {
        text.push_str("resolve each with: gophkeeper resolve ID --keep mine|theirs|both\n");
    }
    write_stdout(text.as_bytes())?;
    Ok(Done::Success)
}

//! `gophkeeper sessions [--revoke ID] [--json]`: the devices signed in to
//! this account, and a way to sign one out (a lost laptop).

use clap::Args;

use super::context::explain;
use super::{Done, Globals};
use crate::output::sanitize::line;
use crate::output::{json, print_json, write_stdout};

#[derive(Debug, Args)]
pub struct Sessions {
    /// Revoke this session (an id from the list)
    #[arg(long, value_name = "ID")]
    revoke: Option<String>,
    /// Print a JSON array (id, device, created_at_ms, last_seen_at_ms, current)
    #[arg(long, conflicts_with = "revoke")]
    json: bool,
}

pub async fn run(globals: &Globals, args: Sessions) -> anyhow::Result<Done> {
    let vault = globals.unlock().await?;
    if let Some(id) = &args.revoke {
        vault
            .revoke_session(id)
            .await
            .map_err(|err| explain(err, &vault))?;
        eprintln!("revoked session {id}; that device must log in again");
        return Ok(Done::Success);
    }
    let sessions = vault.sessions().await.map_err(|err| explain(err, &vault))?;
    if args.json {
        let rows: Vec<json::Session<'_>> = sessions
            .iter()
            .map(|s| json::Session {
                id: &s.session_id,
                device: &s.device_name,
                created_at_ms: s.created_at_ms,
                last_seen_at_ms: s.last_seen_at_ms,
                current: s.current,
            })
            .collect();
        print_json(&rows)?;
        return Ok(Done::Success);
    }
    let clock = globals.clock();
    let mut text = String::new();
    for s in &sessions {
        text.push_str(&format!(
            "{}  {}  signed in {}, last seen {}{}\n",
            line(&s.session_id),
            line(&s.device_name),
            clock.date_time(s.created_at_ms),
            clock.date_time(s.last_seen_at_ms),
            if s.current { "  (this device)" } else { "" }
        ));
    }
    write_stdout(text.as_bytes())?;
    Ok(Done::Success)
}

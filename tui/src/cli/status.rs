//! `gophkeeper status [--json]`: the profile's server, user, session,
//! queue and conflicts, read without the master password (none of it is
//! secret), plus a quick health check of the server.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use gophkeeper_client::vault::profile_status;

use super::{Done, Globals};
use crate::output::sanitize::line;
use crate::output::{json, print_json, write_stdout};

/// A status check should answer quickly even when the server is away.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Args)]
pub struct Status {
    /// Print JSON (shape in docs/cli.md)
    #[arg(long)]
    json: bool,
}

pub async fn run(globals: &Globals, args: Status) -> anyhow::Result<Done> {
    let dir = globals.profile_dir()?;
    let found = profile_status(&dir, PING_TIMEOUT).await?.with_context(|| {
        format!(
            "no profile in {}; run `gophkeeper register <user>` or `gophkeeper login <user>`",
            dir.display()
        )
    })?;
    let status = json::Status {
        profile: dir.display().to_string(),
        server: found.profile.server_url,
        username: found.profile.username,
        user_id: found.profile.user_id,
        logged_in: found.logged_in,
        online: found.online,
        pending: found.pending,
        conflicts: found.conflicts,
        tampered: found.tampered,
        last_sync_ms: found.last_sync_ms,
    };
    if args.json {
        print_json(&status)?;
        return Ok(Done::Success);
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let clock = globals.clock();
    let text = format!(
        "profile:    {}\nserver:     {}\nuser:       {} ({})\nlogged in:  {}\nonline:     {}\n\
         pending:    {}\nconflicts:  {}\ntampered:   {}\nlast sync:  {}\n",
        line(&status.profile),
        line(&status.server),
        line(&status.username),
        status.user_id,
        yes_no(status.logged_in),
        yes_no(status.online),
        status.pending,
        status.conflicts,
        status.tampered,
        status
            .last_sync_ms
            .map_or_else(|| "never".into(), |ms| clock.date_time(ms)),
    );
    write_stdout(text.as_bytes())?;
    Ok(Done::Success)
}

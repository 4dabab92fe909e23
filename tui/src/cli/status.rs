//! `gophkeeper status [--json]`: the profile's server, user, session,
//! queue and conflicts, read without the master password (none of it is
//! secret), plus a quick health check of the server.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use gophkeeper_client::cache::Profile;
use gophkeeper_client::session::Session;
use gophkeeper_client::tokens::TokenStore;
use gophkeeper_client::transport::{ServerUrl, Transport};

use super::{Done, Globals};
use crate::output::{json, print_json, write_stdout};

/// A status check should answer quickly even when the server is away.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Args)]
pub struct Status {
    /// Print JSON (shape in docs/cli.md)
    #[arg(long)]
    json: bool,
}

async fn reachable(profile: &Profile) -> bool {
    let Ok(server) = ServerUrl::parse(&profile.server_url) else {
        return false;
    };
    let Ok(transport) = Transport::open(server, profile.trust.clone()).await else {
        return false;
    };
    let session = Session::new(transport);
    matches!(
        tokio::time::timeout(PING_TIMEOUT, session.ping()).await,
        Ok(Ok(()))
    )
}

pub async fn run(globals: &Globals, args: Status) -> anyhow::Result<Done> {
    let dir = globals.profile_dir()?;
    let (cache, profile) = globals.stored_profile().await?.with_context(|| {
        format!(
            "no profile in {}; run `gophkeeper register <user>` or `gophkeeper login <user>`",
            dir.display()
        )
    })?;
    let state = cache.sync_state().await?;
    let status = json::Status {
        profile: dir.display().to_string(),
        server: profile.server_url.clone(),
        username: profile.username.clone(),
        user_id: profile.user_id,
        logged_in: TokenStore::open(&dir, &profile.server_url, &profile.username)
            .await
            .load()
            .await?
            .is_some()
            || cache.sealed_refresh_token().await?.is_some(),
        online: reachable(&profile).await,
        pending: cache.pending_count().await?,
        conflicts: cache.conflicts().await?.len(),
        last_sync_ms: state.last_sync_ms,
    };
    cache.close().await;
    if args.json {
        print_json(&status)?;
        return Ok(Done::Success);
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let clock = globals.clock();
    let text = format!(
        "profile:    {}\nserver:     {}\nuser:       {} ({})\nlogged in:  {}\nonline:     {}\n\
         pending:    {}\nconflicts:  {}\nlast sync:  {}\n",
        status.profile,
        status.server,
        status.username,
        status.user_id,
        yes_no(status.logged_in),
        yes_no(status.online),
        status.pending,
        status.conflicts,
        status
            .last_sync_ms
            .map_or_else(|| "never".into(), |ms| clock.date_time(ms)),
    );
    write_stdout(text.as_bytes())?;
    Ok(Done::Success)
}

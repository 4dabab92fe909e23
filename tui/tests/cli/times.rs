//! Times in text are this computer's local time with the zone named, UTC
//! with `--utc` or GOPHKEEPER_UTC; JSON keeps milliseconds since the epoch
//! whatever the zone. The zone is pinned per run through `TZ`, as POSIX
//! rules, so that no zone database is needed on the test machine.

use jiff::Timestamp;

use crate::helpers::{Device, Output, TestServer};

/// Japan: no summer time, so the expected text follows from the time alone.
const JAPAN: &str = "JST-9";
/// Central Europe, with its summer time rules.
const BERLIN: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

/// The time shifted by hand, formatted in UTC: not the zone code under test.
fn japan(ms: i64) -> String {
    let shifted = Timestamp::from_millisecond(ms + 9 * 3600 * 1000).unwrap();
    format!("{} JST", shifted.strftime("%Y-%m-%d %H:%M"))
}

fn utc(ms: i64) -> String {
    format!(
        "{} UTC",
        Timestamp::from_millisecond(ms)
            .unwrap()
            .strftime("%Y-%m-%d %H:%M")
    )
}

fn last_sync(out: &Output) -> &str {
    out.stdout
        .lines()
        .find_map(|line| line.strip_prefix("last sync:"))
        .unwrap_or_else(|| panic!("no last sync line: {out:#?}"))
        .trim()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_shows_local_times_and_json_keeps_milliseconds() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "alice"]).await;
    device.ok(&["sync"]).await;
    let status = |args: &[&str], zone: &str| device.cmd(args).env("TZ", zone).run();

    let json = status(&["status", "--json"], JAPAN).await.ok().json();
    let synced = json["last_sync_ms"].as_i64().unwrap();
    assert!(synced > 1_700_000_000_000, "{json}");
    let json_in_utc = status(&["--utc", "status", "--json"], BERLIN).await.ok();
    assert_eq!(json_in_utc.json()["last_sync_ms"], synced);

    let out = status(&["status"], JAPAN).await.ok();
    assert_eq!(last_sync(&out), japan(synced));
    let out = status(&["status", "--utc"], JAPAN).await.ok();
    assert_eq!(last_sync(&out), utc(synced));
    let out = device
        .cmd(&["status"])
        .env("TZ", JAPAN)
        .env("GOPHKEEPER_UTC", "1")
        .run()
        .await
        .ok();
    assert_eq!(last_sync(&out), utc(synced));
    let out = device
        .cmd(&["status"])
        .env("TZ", JAPAN)
        .env("GOPHKEEPER_UTC", "no")
        .run()
        .await
        .ok();
    assert_eq!(last_sync(&out), japan(synced));
    let out = status(&["status"], BERLIN).await.ok();
    let berlin = last_sync(&out);
    assert!(
        berlin.ends_with(" CET") || berlin.ends_with(" CEST"),
        "{out:#?}"
    );
    assert_ne!(berlin, utc(synced));

    let sessions = status(&["sessions", "--json"], JAPAN).await.ok().json();
    let session = &sessions.as_array().unwrap()[0];
    let (created, seen) = (
        session["created_at_ms"].as_i64().unwrap(),
        session["last_seen_at_ms"].as_i64().unwrap(),
    );
    let out = status(&["sessions"], JAPAN).await.ok();
    assert!(
        out.stdout
            .contains(&format!("signed in {}, last seen ", japan(created))),
        "{out:#?}"
    );
    // Seen again by this very call, so only the zone is certain.
    assert!(out.stdout.contains(" JST  (this device)"), "{out:#?}");
    assert!(seen >= created);
}

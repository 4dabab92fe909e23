//! The Prometheus endpoint (`metrics.listen`; docs/metrics.md): scraped
//! after known traffic, its counts match that traffic, and the Grafana
//! dashboard in `docker/grafana/` names only metrics it exports.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use gophkeeper_proto::v1;

use crate::helpers::*;

/// Metric names as the exposition lists them (`# TYPE name kind`), with
/// the sample names Prometheus derives from each.
fn exported(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_count", "_sum"],
            "info" => &["_info"],
            _ => &[""],
        };
        for suffix in suffixes {
            names.insert(format!("{name}{suffix}"));
        }
    }
    names
}

#[tokio::test]
async fn a_scrape_counts_the_traffic_and_the_dashboard_names_only_exported_metrics() {
    let app = spawn_app_with(|s| s.metrics.listen = "127.0.0.1:0".into()).await;
    let addr = app.server.as_ref().unwrap().metrics_addr.unwrap();
    let device = app.new_user().await;
    for i in 0..3u8 {
        device
            .create(v1::RecordKind::Text, format!("note {i}").as_bytes())
            .await;
    }
    device.changes(0).await.unwrap();
    // A login refused: the wrong password.
    app.login(&device.username, b"not the password")
        .await
        .unwrap_err();
    // A call refused: no token.
    let refused = app
        .vault
        .clone()
        .changes(v1::ChangesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let watch = app
        .vault
        .clone()
        .watch(device.req(v1::WatchRequest {}))
        .await
        .unwrap();

    let text = scrape(addr).await;
    let vault = |method: &str, code: &str| {
        sample(
            &text,
            &format!(
                "gophkeeper_grpc_requests_total{{service=\"gophkeeper.v1.Vault\",method=\"{method}\",code=\"{code}\"}}"
            ),
        )
    };
    assert_eq!(vault("Submit", "Ok"), Some(3.0), "{text}");
    assert_eq!(vault("Changes", "Ok"), Some(1.0), "{text}");
    assert_eq!(vault("Changes", "Unauthenticated"), Some(1.0), "{text}");
    assert_eq!(vault("Watch", "Ok"), Some(1.0), "{text}");
    let login_starts = sample(
        &text,
        "gophkeeper_grpc_requests_total{service=\"gophkeeper.v1.Account\",method=\"LoginStart\",code=\"Ok\"}",
    );
    assert!(login_starts >= Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "gophkeeper_consumer_commands_total"),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            "gophkeeper_command_round_trip_duration_seconds_count"
        ),
        Some(3.0),
        "{text}"
    );
    let refused_logins = sample(
        &text,
        "gophkeeper_grpc_refusals_total{service=\"gophkeeper.v1.Account\",method=\"LoginFinish\",reason=\"BAD_CREDENTIALS\"}",
    );
    assert_eq!(refused_logins, Some(1.0), "{text}");
    let refused_reads = sample(
        &text,
        "gophkeeper_grpc_refusals_total{service=\"gophkeeper.v1.Vault\",method=\"Changes\",reason=\"TOKEN_MISSING\"}",
    );
    assert_eq!(refused_reads, Some(1.0), "{text}");
    assert!(sample(&text, "gophkeeper_consumer_batch_commands_count") >= Some(1.0));
    assert_eq!(
        sample(&text, "gophkeeper_watch_streams"),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains("gophkeeper_build_info{role=\"all\""),
        "{text}"
    );
    // Nothing in it says who the traffic was.
    assert!(!text.contains(&device.user_id), "{text}");
    assert!(!text.contains(&device.username), "{text}");

    // The stream's end is counted once the server notices it.
    drop(watch);
    let deadline = Instant::now() + Duration::from_secs(10);
    while sample(&scrape(addr).await, "gophkeeper_watch_streams") != Some(0.0) {
        assert!(Instant::now() < deadline, "the Watch stream stayed counted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let names = exported(&text);
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docker/grafana/gophkeeper.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut named = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for (at, _) in expr.match_indices("gophkeeper_") {
                let name: String = expr[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                named.insert(name);
            }
        }
    }
    assert!(named.len() >= 6, "{named:?}");
    let unknown: Vec<_> = named.difference(&names).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard names {unknown:?}, not exported: {names:?}"
    );
}

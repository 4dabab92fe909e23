//! CI smoke run of the real `gophkeeper-loadgen` binary against an
//! in-process server: a few seconds and five users, so the load generator
//! cannot rot. The full runs stay out of CI (see BENCHMARKS.md).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

#[test]
fn loadgen_runs_every_operation_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("loadgen.json");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_gophkeeper-loadgen"))
        .args(["--in-process", "--users", "5", "--devices-per-user", "2"])
        .args(["--duration", "3", "--rate", "100", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "loadgen failed:\n{stderr}\n{stdout}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the smoke run took {:?}",
        started.elapsed()
    );
    assert!(stdout.contains("command submit->applied->ack"), "{stdout}");
    assert!(stderr.contains("done "), "no progress line:\n{stderr}");

    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for op in ["changes", "get", "create", "update", "delete"] {
        let summary = &report["operations"][op];
        assert!(summary["ok"].as_u64().unwrap() > 0, "no {op}: {summary}");
        assert_eq!(summary["errors"], serde_json::json!({}), "{op}: {summary}");
        assert!(summary["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(report["total_errors"], 0, "{report:#}");
    assert_eq!(report["skipped"], 0);
    assert!(report["command_round_trip"]["ok"].as_u64().unwrap() > 0);
    assert!(
        report["watch_delivery"]["ok"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    assert_eq!(report["watch_delivery"]["missing"], 0);
    assert_eq!(report["watches"]["opened"], 10);
    assert_eq!(report["watches"]["live_at_end"], 10);
    assert!(report["server_rss"]["max_mib"].as_f64().unwrap() > 0.0);
}

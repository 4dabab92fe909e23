//! The cluster this test binary runs against: started on first use by
//! `scripts/cluster up` with the test build of the server, stopped by the
//! script's watcher when this process exits.

// Shared by several test binaries; each uses only part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::helpers::TEST_SECRET;

pub struct Cluster {
    pub dir: PathBuf,
    pub base_port: u16,
    pub url: String,
    pub ca: PathBuf,
    pub env: Vec<(String, String)>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

pub fn get() -> &'static Cluster {
    CLUSTER.get_or_init(start)
}

/// For `helpers::Target::Cluster`.
pub fn gateway() -> (String, PathBuf) {
    let cluster = get();
    (cluster.url.clone(), cluster.ca.clone())
}

pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A base port whose block of 40 is free right now and lies below the
/// kernel's ephemeral range. A server the drills stop leaves its port free
/// for any outgoing connection while it is down, and a client retrying it
/// fast enough is itself given that port as its source and connects to
/// itself (TCP self-connect: a loop connecting to a closed port at 57102 got
/// there after 4,079 tries, 0.15 s). The server then cannot start again
/// while that socket lives, nor for the 60 s of TIME-WAIT after it closes:
/// cluster_chaos lost its replica restart this way. Below the range no
/// connection is given our ports.
fn free_base_port() -> u16 {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    assert!(
        ephemeral_low >= 20_000 + 40,
        "the ephemeral port range starts at {ephemeral_low}: no room for a cluster below it"
    );
    let blocks = (ephemeral_low - 40 - 20_000) / 100 + 1;
    let pid = std::process::id() as u16;
    for attempt in 0..50u16 {
        let base = 20_000 + ((pid.wrapping_add(attempt * 977)) % blocks) * 100;
        if (0..40).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no free block of 40 loopback ports");
}

fn start() -> Cluster {
    let dir = std::env::temp_dir().join(format!("gophkeeper-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    // The tests mint tokens with the known test secret.
    std::fs::write(dir.join("run/auth.secret"), TEST_SECRET).unwrap();
    let base_port = free_base_port();
    let status = Command::new(root().join("scripts/cluster"))
        .arg("up")
        .arg(&dir)
        .env(
            "GOPHKEEPER_SERVER_BIN",
            env!("CARGO_BIN_EXE_gophkeeper-server"),
        )
        .env("GOPHKEEPER_CLUSTER_BASE_PORT", base_port.to_string())
        .env("GOPHKEEPER_CONSUMERS", "2")
        .env(
            "GOPHKEEPER_CLUSTER_OWNER_PID",
            std::process::id().to_string(),
        )
        // The same tuning the single-node tests use.
        .env("GOPHKEEPER__AUTH__HASH_MEMORY_KIB", "1024")
        .env("GOPHKEEPER__AUTH__HASH_ITERATIONS", "1")
        .env(
            "GOPHKEEPER__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_PEER",
            "10000",
        )
        .env(
            "GOPHKEEPER__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_USER",
            "1000",
        )
        .env_remove("GOPHKEEPER__KAFKA__BROKERS")
        // scripts/cluster picks it for the broker it starts (off for tansu).
        .env_remove("GOPHKEEPER__KAFKA__IDEMPOTENT_PRODUCER")
        .status()
        .expect("run scripts/cluster");
    assert!(
        status.success(),
        "scripts/cluster up failed; logs in {}",
        dir.display()
    );
    let env: Vec<(String, String)> = std::fs::read_to_string(dir.join("cluster.env"))
        .unwrap()
        .lines()
        .chain(
            std::fs::read_to_string(dir.join("run/pg.env"))
                .unwrap()
                .lines(),
        )
        .filter_map(|line| line.split_once('='))
        // pg.env quotes its URLs for the shell (they hold `&`).
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect();
    let value = |key: &str| env.iter().find(|(k, _)| k == key).unwrap().1.clone();
    Cluster {
        url: value("GOPHKEEPER_SERVER"),
        ca: PathBuf::from(value("GOPHKEEPER_CA_CERT")),
        dir,
        base_port,
        env,
    }
}

impl Cluster {
    pub fn value(&self, key: &str) -> &str {
        &self.env.iter().find(|(k, _)| k == key).unwrap().1
    }

    /// Runs `scripts/cluster` with this cluster's settings.
    pub fn script(&self, args: &[&str]) -> std::process::Output {
        Command::new(root().join("scripts/cluster"))
            .args(args)
            .arg(&self.dir)
            .env(
                "GOPHKEEPER_SERVER_BIN",
                env!("CARGO_BIN_EXE_gophkeeper-server"),
            )
            .env("GOPHKEEPER_CLUSTER_BASE_PORT", self.base_port.to_string())
            .output()
            .unwrap()
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join("logs").join(format!("{name}.log")))
            .unwrap_or_default()
    }

    pub fn pid(&self, name: &str) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("run").join(format!("{name}.pid")))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

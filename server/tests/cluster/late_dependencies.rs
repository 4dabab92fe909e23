//! A role started before what it needs is reachable waits (logging what it
//! waits for, retrying with backoff) and serves once the dependency comes
//! up, with no restart. The dependency "comes up" as a TCP relay to the
//! cluster's real replica / broker, opened only after the role has started.
//! A query role whose replica then goes away reports NOT_SERVING until it
//! is back.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

use crate::fixture;

const BINARY: &str = env!("CARGO_BIN_EXE_gophkeeper-server");

/// Kills the role process when the test ends, whatever happens.
struct Role(Child);

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One of the spare ports at the end of the cluster's block (scripts/cluster
/// uses the block's first 32); each test takes `n` and `n + 1`, so tests
/// running at once do not share one. Not a kernel-chosen port: that one
/// lies in the ephemeral range, where the role's own retries could connect
/// to themselves (see `free_base_port` in fixture.rs).
fn spare_port(n: u16) -> u16 {
    assert!(n < 7);
    fixture::get().base_port + 32 + n
}

/// Forwards every connection on its listener to a target while up.
#[derive(Clone, Default)]
struct Relay {
    down: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    /// Drops every connection and refuses new ones: the dependency is gone.
    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// Forwards every connection on `listener` to `target`.
fn relay(listener: TcpListener, target: String) -> Relay {
    let relay = Relay::default();
    let handle = relay.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            if handle.down.load(Ordering::SeqCst) {
                continue;
            }
            let target = target.clone();
            let link = tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
            handle.links.lock().unwrap().push(link.abort_handle());
        }
    });
    relay
}

/// Waits up to 20 s for `probe(port)` to say `serving`.
async fn until_probe(port: u16, serving: bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while probe(port) != serving {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn probe(port: u16) -> bool {
    let tls = fixture::get().dir.join("tls");
    Command::new(BINARY)
        .arg("probe")
        .arg(format!("https://127.0.0.1:{port}"))
        .arg("--ca")
        .arg(tls.join("ca.pem"))
        .arg("--cert")
        .arg(tls.join("probe.pem"))
        .arg("--key")
        .arg(tls.join("probe.key"))
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// Starts `role` with its dependency URL pointing at `relay_port`, checks
/// it waits and is not serving, then opens the relay to `real` and checks
/// it serves. Returns the running role, the relay and the role's port.
async fn starts_before_its_dependency(
    role: &str,
    config: &str,
    dependency: (&str, String),
    waiting_for: &str,
    relay_port: u16,
    real: String,
) -> (Role, Relay, u16) {
    let cluster = fixture::get();
    let tls = cluster.dir.join("tls");
    // The spare port after the relay's.
    let listen = relay_port + 1;
    let log_path = cluster.dir.join("logs").join(format!("late-{role}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let data = tempfile::tempdir().unwrap();
    let process = Role(
        Command::new(BINARY)
            .arg(role)
            .arg("--config")
            .arg(fixture::root().join("config").join(config))
            .arg("--data-dir")
            .arg(data.path())
            .env("GOPHKEEPER__LOG__FORMAT", "json")
            .env(
                "GOPHKEEPER__INTERNAL__LISTEN",
                format!("127.0.0.1:{listen}"),
            )
            .env("GOPHKEEPER__INTERNAL__CA", tls.join("ca.pem"))
            .env("GOPHKEEPER__INTERNAL__CERT", tls.join("query.pem"))
            .env("GOPHKEEPER__INTERNAL__KEY", tls.join("query.key"))
            .env("GOPHKEEPER__BROKER__COMMAND_KEY", "11".repeat(32))
            .env(dependency.0, &dependency.1)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );

    // It says what it waits for, and does not pretend to serve.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&log_path).unwrap();
        if text.contains(&format!("waiting for {waiting_for}")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{role} never said what it waits for:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!probe(listen), "{role} serves without its dependency");

    let relay = relay(
        TcpListener::bind(("127.0.0.1", relay_port)).await.unwrap(),
        real,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !probe(listen) {
        assert!(
            Instant::now() < deadline,
            "{role} did not come up after its dependency did:\n{}",
            std::fs::read_to_string(&log_path).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    (process, relay, listen)
}

/// Also: once serving, it answers NOT_SERVING while the replica is gone
/// and serves again when it is back, with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_role_waits_for_its_replica_and_says_when_it_is_gone() {
    let cluster = fixture::get();
    let url = cluster
        .value("GOPHKEEPER__POSTGRES__VAULT_REPLICA_URL")
        .to_owned();
    let real_port = cluster.base_port + 2;
    let relay_port = spare_port(0);
    let late_url = url.replace(&format!(":{real_port}/"), &format!(":{relay_port}/"));
    assert_ne!(url, late_url);
    let (_role, relay, listen) = starts_before_its_dependency(
        "query",
        "cluster-query.toml",
        ("GOPHKEEPER__POSTGRES__VAULT_REPLICA_URL", late_url),
        "vault replica",
        relay_port,
        format!("127.0.0.1:{real_port}"),
    )
    .await;
    relay.cut();
    until_probe(listen, false, "still SERVING without its replica").await;
    relay.restore();
    until_probe(listen, true, "not SERVING once its replica is back").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_producer_role_waits_for_its_broker() {
    let cluster = fixture::get();
    let relay_port = spare_port(2);
    starts_before_its_dependency(
        "command-producer",
        "cluster-command-producer.toml",
        (
            "GOPHKEEPER__KAFKA__BROKERS",
            format!("127.0.0.1:{relay_port}"),
        ),
        "Kafka topics",
        relay_port,
        format!("127.0.0.1:{}", cluster.base_port + 10),
    )
    .await;
}

//! PostgreSQL for tests that need it for real: the three servers of
//! `scripts/pg-local` (auth, vault primary, streaming replica) in a
//! temporary directory. Shared by the test binaries that include it with
//! `#[path]`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Three PostgreSQL servers from `scripts/pg-local` in a temporary
/// directory; dropping it runs `scripts/pg-local down` and removes the
/// directory. The script is also told this process's id, so the servers stop
/// even if the test binary is killed before it can drop this.
pub struct PgCluster {
    dir: Option<tempfile::TempDir>,
    /// What `scripts/pg-local up` printed: `KEY=VALUE` lines.
    pub urls: HashMap<String, String>,
}

impl PgCluster {
    pub async fn start() -> Self {
        tokio::task::spawn_blocking(Self::start_blocking)
            .await
            .unwrap()
    }

    fn start_blocking() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("gophkeeper-pg-")
            .tempdir()
            .unwrap();
        let base_port = free_port_range(3);
        let mut cluster = Self {
            dir: Some(dir),
            urls: HashMap::new(),
        };
        let started = Instant::now();
        let output = Command::new(script())
            .arg("up")
            .arg(cluster.dir())
            .arg(base_port.to_string())
            .env("PG_LOCAL_OWNER_PID", std::process::id().to_string())
            .output()
            .expect("run scripts/pg-local");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "scripts/pg-local up failed ({}); PostgreSQL must be available for this test:\n{stderr}",
            output.status
        );
        eprintln!(
            "postgres: servers up on ports {base_port}-{} in {:.1?}",
            base_port + 2,
            started.elapsed()
        );
        cluster.urls = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once('='))
            // Quoted for the shell: a URL holds `&`.
            .map(|(key, value)| (key.to_owned(), value.trim_matches('\'').to_owned()))
            .collect();
        cluster
    }

    fn dir(&self) -> &Path {
        self.dir.as_ref().map(|dir| dir.path()).unwrap()
    }

    pub fn url(&self, key: &str) -> String {
        self.urls
            .get(key)
            .unwrap_or_else(|| panic!("scripts/pg-local printed no {key}"))
            .clone()
    }

    /// Stops the servers off the async runtime.
    pub async fn stop(self) {
        tokio::task::spawn_blocking(move || drop(self))
            .await
            .unwrap();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else {
            return;
        };
        match Command::new(script()).arg("down").arg(dir.path()).output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!(
                "scripts/pg-local down failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(err) => eprintln!("cannot run scripts/pg-local down: {err}"),
        }
        drop(dir);
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-local")
}

/// A port from the kernel (port 0) whose next `count - 1` neighbours are
/// free too; the listeners are closed before the servers take the ports.
fn free_port_range(count: u16) -> u16 {
    for _ in 0..200 {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = first.local_addr().unwrap().port();
        if base < 1024 || base > 65535 - count {
            continue;
        }
        let rest: Result<Vec<_>, _> = (1..count)
            .map(|offset| TcpListener::bind(("127.0.0.1", base + offset)))
            .collect();
        if rest.is_ok() {
            return base;
        }
    }
    panic!("found no {count} free ports in a row on 127.0.0.1");
}

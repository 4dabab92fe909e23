//! Command line of the load generator, and the operation mix it parses.

use std::path::PathBuf;
use std::str::FromStr;

use clap::Parser;

/// Simulated GophKeeper users and devices, each signed in with its own
/// session and holding a live `Watch` stream, issuing a mix of queries and
/// commands at a target rate.
#[derive(Debug, Parser)]
#[command(name = "gophkeeper-loadgen", version)]
pub struct Args {
    /// Gateway URL of a running server, e.g. https://localhost:50051.
    #[arg(
        long,
        required_unless_present = "in_process",
        conflicts_with = "in_process"
    )]
    pub server: Option<String>,
    /// PEM CA certificate that signed the gateway's certificate (a
    /// single-node server writes it to <data_dir>/tls/ca.pem).
    #[arg(long, requires = "server")]
    pub ca: Option<PathBuf>,
    /// TLS name to expect in the gateway's certificate.
    #[arg(long, default_value = "localhost")]
    pub tls_name: String,
    /// Process id of the external server, so its RSS can be sampled.
    #[arg(long, requires = "server")]
    pub server_pid: Option<u32>,
    /// Start a single-node server in this process on port 0 (SQLite files in
    /// a temporary directory), instead of `--server`.
    #[arg(long)]
    pub in_process: bool,
    /// In-process only: hash auth keys with 1 MiB / 1 pass instead of the
    /// server default, so that signing in thousands of devices takes seconds.
    /// Only sign-in is cheaper; nothing measured afterwards changes.
    #[arg(long, requires = "in_process")]
    pub fast_auth_hash: bool,
    /// Worker threads of the in-process server's runtime.
    #[arg(long, default_value_t = 2, requires = "in_process")]
    pub server_threads: usize,
    /// Worker threads of the load generator's own runtime.
    #[arg(long, default_value_t = 2)]
    pub client_threads: usize,

    #[arg(long, default_value_t = 100)]
    pub users: usize,
    #[arg(long, default_value_t = 2)]
    pub devices_per_user: usize,
    /// HTTP/2 connections all devices share (device i uses connection
    /// i mod C). Default: one per 64 devices, so each connection stays well
    /// under the server's per-connection stream limit.
    #[arg(long)]
    pub connections: Option<usize>,
    /// Target operations per second, all devices together (open loop).
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds of measured load, after sign-in and Watch set-up.
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Relative weights of the operations.
    #[arg(long, default_value = "changes=40,get=30,create=10,update=15,delete=5")]
    pub mix: Mix,
    /// Ciphertext bytes of every created or updated record.
    #[arg(long, default_value_t = 1024)]
    pub record_bytes: usize,
    /// Records each device creates during set-up, so updates, deletes and
    /// gets have something to work on from the first second.
    #[arg(long, default_value_t = 4)]
    pub seed_records: usize,
    /// Sign-in calls in flight at once during set-up.
    #[arg(long, default_value_t = 16)]
    pub setup_concurrency: usize,
    /// Operations in flight at once; above it a due operation is skipped and
    /// counted, so an overloaded server shows up as skips, not as a silently
    /// lower rate.
    #[arg(long, default_value_t = 10_000)]
    pub max_in_flight: usize,
    /// Write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl Args {
    pub fn devices(&self) -> usize {
        self.users * self.devices_per_user
    }

    pub fn connections(&self) -> usize {
        self.connections
            .unwrap_or_else(|| self.devices().div_ceil(64))
            .max(1)
    }
}

/// The operations a device performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Changes,
    Get,
    Create,
    Update,
    Delete,
}

impl Op {
    pub const ALL: [Op; 5] = [Op::Changes, Op::Get, Op::Create, Op::Update, Op::Delete];

    pub fn name(self) -> &'static str {
        match self {
            Op::Changes => "changes",
            Op::Get => "get",
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// Weights per operation, e.g. `changes=40,get=30,create=10,update=15,delete=5`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    weights: Vec<(Op, u32)>,
    total: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MixError {
    #[error("expected OP=WEIGHT, got {0:?}")]
    Malformed(String),
    #[error("unknown operation {0:?}; known: changes, get, create, update, delete")]
    UnknownOp(String),
    #[error("weight of {0} is not a whole number")]
    BadWeight(String),
    #[error("all weights are zero")]
    Empty,
}

impl FromStr for Mix {
    type Err = MixError;

    fn from_str(text: &str) -> Result<Self, MixError> {
        let mut weights = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| MixError::Malformed(part.to_owned()))?;
            let op = Op::ALL
                .into_iter()
                .find(|op| op.name() == name.trim())
                .ok_or_else(|| MixError::UnknownOp(name.to_owned()))?;
            let weight = weight
                .trim()
                .parse::<u32>()
                .map_err(|_| MixError::BadWeight(name.to_owned()))?;
            weights.retain(|(known, _)| *known != op);
            if weight > 0 {
                weights.push((op, weight));
            }
        }
        let total = weights.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return Err(MixError::Empty);
        }
        Ok(Self { weights, total })
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .weights
            .iter()
            .map(|(op, weight)| format!("{}={weight}", op.name()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl Mix {
    /// The operation for a uniform draw in `0..total()`.
    pub fn pick(&self, draw: u32) -> Op {
        let mut left = draw % self.total;
        for (op, weight) in &self.weights {
            if left < *weight {
                return *op;
            }
            left -= weight;
        }
        // Unreachable with total > 0; queries are the harmless fallback.
        Op::Changes
    }

    pub fn total(&self) -> u32 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_picks_by_weight() {
        let mix: Mix = "changes=1, create=3,get=0".parse().unwrap();
        assert_eq!(mix.total(), 4);
        assert_eq!(mix.pick(0), Op::Changes);
        assert_eq!(
            (1..4).map(|d| mix.pick(d)).collect::<Vec<_>>(),
            [Op::Create; 3]
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!("x".parse::<Mix>(), Err(MixError::Malformed("x".into())));
        assert_eq!(
            "put=1".parse::<Mix>(),
            Err(MixError::UnknownOp("put".into()))
        );
        assert_eq!(
            "get=-1".parse::<Mix>(),
            Err(MixError::BadWeight("get".into()))
        );
        assert_eq!("get=0".parse::<Mix>(), Err(MixError::Empty));
    }
}

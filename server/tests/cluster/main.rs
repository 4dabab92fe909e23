//! The single-node story, run against a cluster of separate processes: the
//! five roles, PostgreSQL auth + vault primary + streaming replica, and a
//! Kafka-API broker, started once for this test binary by
//! `scripts/cluster up` (and stopped when the binary exits). Plus what only
//! a cluster has: consumer groups, replication lag, mutual TLS.

// Test code: a failed set-up step should fail the test on the spot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../api/accounts.rs"]
mod accounts;
mod fixture;
mod forged_commands;
#[path = "../api/helpers.rs"]
mod helpers;
mod internal;
mod late_dependencies;
mod metrics;
#[path = "../api/records.rs"]
mod records;
mod roles;
mod scan;
#[path = "../api/sync.rs"]
mod sync;
#[path = "../api/tokens.rs"]
mod tokens;
mod two_auth;
#[path = "../api/two_factor.rs"]
mod two_factor;

/// Every test here talks to the one cluster of this binary.
pub(crate) const TARGET: helpers::Target = helpers::Target::Cluster(fixture::gateway);

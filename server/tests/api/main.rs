//! Integration tests of the single-node server: the real server in process
//! on port 0 with a temporary data directory, real TLS, generated tonic
//! clients. Opaque byte strings stand in for ciphertext; the server must
//! not care what they hold.

// Test code: a failed set-up step should fail the test on the spot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod backup;
mod binary;
mod engines;
mod helpers;
mod lifecycle;
mod metrics;
mod opaque;
#[path = "../support/pg_local.rs"]
mod pg_local;
mod records;
mod sync;
#[path = "../support/tansu.rs"]
mod tansu;
mod tokens;
mod tuned;
mod two_factor;

/// Every test here starts its own single-node server.
pub(crate) const TARGET: helpers::Target = helpers::Target::SingleNode;

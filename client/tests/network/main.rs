//! End-to-end tests of the client library against a real single-node server
//! started in process on a loopback port, over real TLS. One test binary;
//! each module is one story.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly; clippy.toml allows this only inside #[test] fns"
)]

mod helpers;
mod operator;
#[path = "../../../server/tests/support/pg_local.rs"]
mod pg_local;
mod proxy;

mod account;
mod conflicts;
mod disk;
mod model;
mod rotation;
mod secret_key;
mod sync;
mod tamper;
mod trust;

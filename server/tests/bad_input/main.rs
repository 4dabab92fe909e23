//! The bad-input catalogue (issue 7, item 2): hostile or broken requests
//! against the real single-node gateway (in process, real TLS, generated
//! and hand-rolled gRPC clients). Every case asserts the exact status code,
//! `gk-reason` and message a client gets, and that nothing changed: the
//! whole auth and vault databases are dumped before and after and compared
//! (see `fixture::Fixture::state`), so a refused request that still wrote
//! something anywhere fails its case.
//!
//! docs/design.md invariant 6 is the rule under test: bad input gets a clear
//! error and changes nothing.

// Test code: a failed set-up step should fail the test on the spot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../api/helpers.rs"]
mod helpers;

mod fixture;
mod floods;
mod messages;
mod names;
mod ownership;
mod proxies;
mod sql;
mod tokens;

/// Every case starts its own single-node server (the helpers ask for this).
pub(crate) const TARGET: helpers::Target = helpers::Target::SingleNode;

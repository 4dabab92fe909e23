//! End-to-end tests of the client library against a real single-node server
//! started in process on a loopback port, over real TLS. One test binary;
//! each module is one story.

mod helpers;

mod account;
mod conflicts;
mod disk;
mod sync;
mod trust;

//! The GophKeeper server: every service of the command-query split, and the
//! wiring that runs them in one process (role `all`) or, later, one role per
//! process. `main.rs` is a thin shell around [`single_node::start`].
//!
//! Where things live:
//! - [`gateway`]: the public TLS endpoint; authenticates and routes.
//! - [`auth`]: registration, login, tokens, sessions (its own database).
//! - [`command`]: producer (validate, publish) and consumer (apply).
//! - [`query`]: reads from the vault's read side.
//! - [`vault`], [`broker`], [`events`]: storage, command transport and
//!   event fan-out, each behind a trait with one module per engine.

pub mod auth;
pub mod broker;
pub mod command;
pub mod events;
mod files;
pub mod gateway;
pub mod ids;
pub mod internal_tls;
pub mod logging;
mod postgres;
pub mod probe;
pub mod query;
pub mod roles;
pub mod secrets;
pub mod settings;
pub mod single_node;
mod sqlite;
pub mod status;
pub mod tls;
pub mod vault;

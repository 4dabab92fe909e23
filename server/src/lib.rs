//! The GophKeeper server: every service of the command-query split, and the
//! wiring that runs them in one process (role `all`) or one role per
//! process. `main.rs` is a thin shell around [`roles::run`].
//!
//! Where things live:
//! - [`gateway`]: the public TLS endpoint; authenticates and routes.
//! - [`auth`]: registration, login, tokens, sessions (its own database).
//! - [`command`]: producer (validate, publish) and consumer (apply).
//! - [`query`]: reads from the vault's read side.
//! - [`vault`], [`broker`], [`events`]: storage, command transport and
//!   event fan-out, each behind a trait with one module per engine.
//! - [`roles`]: the composition root; one file per role, the engines
//!   chosen by the settings in one place.
//! - [`backup`]: a single node's backups and their restore.

pub mod address;
pub mod auth;
pub mod backup;
pub mod broker;
pub mod command;
pub mod events;
pub mod gateway;
pub mod ids;
pub mod internal_tls;
pub mod logging;
pub mod metrics;
mod postgres;
pub mod probe;
pub mod query;
pub mod roles;
pub mod secrets;
pub mod settings;
mod sqlite;
pub mod status;
pub mod tls;
pub mod vault;

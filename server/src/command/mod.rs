//! The command side: the producer validates a client's command and hands it
//! to the broker; the consumer applies it to the vault primary and publishes
//! the outcome.

pub mod consumer;
pub mod producer;
pub mod signing;
mod validate;

pub use validate::{CommandError, validate};

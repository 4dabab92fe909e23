//! One module per screen or dialog. Each has its own state type (if any),
//! an `on_key` that is its share of `update`, and a `render` that draws it
//! from the state alone.

pub mod audit;
pub mod conflicts;
pub mod connect;
pub mod detail;
pub mod dialogs;
pub mod form;
pub mod generator;
pub mod help;
pub mod list;
pub mod passwd;
pub mod sessions;
pub mod unlock;

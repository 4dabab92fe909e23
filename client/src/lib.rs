//! GophKeeper client core.
//!
//! Everything secret is encrypted here, on the client, before it goes near
//! the network: the server only ever stores ciphertext it cannot read.
//!
//! User interfaces see three modules, the facade:
//!
//! - [`vault`]: an unlocked profile (read, write, sync, sessions,
//!   conflicts), logging in and registering, and a profile's status read
//!   without the master password; with the types those need.
//! - [`item`]: what a record holds once decrypted (logins, notes, files,
//!   cards), its validation rules and its versioned binary encoding.
//! - [`backup`]: the encrypted export file.
//!
//! Behind it, private to this crate:
//!
//! - `crypto`: password to keys (Argon2id, HKDF), the wrapped vault key, and
//!   sealing of records bound to their user, id and kind.
//! - `transport`: the TLS channel to the gateway and the three ways to
//!   trust it (system roots, a CA file, a pinned fingerprint).
//! - `session`: the API calls, with tokens attached and refreshed, and
//!   errors sorted into "retry", "log in again" and "bad input".
//! - `cache`: the encrypted local copy of a profile, so the vault opens
//!   and reads offline, and the queue of changes made offline.
//! - `sync`: push the queue, pull changes, live updates, conflicts.
//! - `tokens`: the refresh token in the OS keyring, or a private file.
//!
//! The benches and fuzz targets measure and attack those parts directly:
//! they turn on the `internals` feature, which adds [`internals`].

pub mod backup;
pub mod item;
pub mod vault;

pub(crate) mod cache;
pub(crate) mod crypto;
pub(crate) mod session;
pub(crate) mod sync;
pub(crate) mod tokens;
pub(crate) mod transport;

#[cfg(feature = "internals")]
pub mod internals;

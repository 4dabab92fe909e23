//! GophKeeper client core.
//!
//! Everything secret is encrypted here, on the client, before it goes near
//! the network: the server only ever stores ciphertext it cannot read.
//!
//! - [`crypto`]: password to keys (Argon2id, HKDF), the wrapped vault key, and
//!   sealing of records bound to their user, id and kind.
//! - [`item`]: what a record holds once decrypted (logins, notes, files,
//!   cards), its validation rules and its versioned binary encoding.
//! - [`transport`]: the TLS channel to the gateway and the three ways to
//!   trust it (system roots, a CA file, a pinned fingerprint).
//! - [`session`]: the API calls, with tokens attached and refreshed, and
//!   errors sorted into "retry", "log in again" and "bad input".
//! - [`cache`]: the encrypted local copy of a profile, so the vault opens
//!   and reads offline, and the queue of changes made offline.
//! - [`sync`]: push the queue, pull changes, live updates, conflicts.
//! - [`tokens`]: the refresh token in the OS keyring, or a private file.
//! - [`vault`]: the facade user interfaces use.

pub mod cache;
pub mod crypto;
pub mod item;
pub mod session;
pub mod sync;
pub mod tokens;
pub mod transport;
pub mod vault;

//! GophKeeper client core.
//!
//! Everything secret is encrypted here, on the client, before it goes near
//! the network: the server only ever stores ciphertext it cannot read.
//!
//! - [`crypto`]: password to keys (Argon2id, HKDF), the wrapped vault key, and
//!   sealing of records bound to their user, id and kind.
//! - [`item`]: what a record holds once decrypted (logins, notes, files,
//!   cards), its validation rules and its versioned binary encoding.

pub mod crypto;
pub mod item;

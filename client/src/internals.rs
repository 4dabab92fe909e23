//! The parts behind the facade, for the benches (key derivation, sealing,
//! a first sync without the vault around it), the fuzz targets (the cache
//! and record formats) and this crate's network tests. Only with the
//! `internals` feature: user interfaces go through [`crate::vault`].

pub use crate::cache::{CACHE_FILE, Cache, NewOp, OpKind, StoredRecord, Versions};
pub use crate::crypto::{
    AuthKey, KdfParams, KeyEncryptionKey, LocalKey, MasterKey, MasterSecret, OpaqueError,
    OpaqueLogin, OpaqueRegistration, OpenedRecord, RecordAad, RecordHeader, SALT_LEN,
    SEAL_OVERHEAD, SaltBinding, VaultKey, VaultKeys, sealed_len,
};
pub use crate::session::{LoginStart, PasswordProof, Session};
pub use crate::sync::{Sealer, SyncEngine};
pub use crate::tokens::TokenStore;
pub use crate::transport::Transport;

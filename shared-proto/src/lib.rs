//! GophKeeper's wire protocol: the generated protobuf messages and tonic
//! clients/servers for the public gateway API and the internal service APIs.
//!
//! This crate holds no storage or transport setup, so that the client, the
//! server and the benches can all depend on it cheaply.

mod codec;
pub mod opaque;
pub use codec::LeanCodec;

/// Package `gophkeeper.v1`.
#[allow(
    missing_docs,
    missing_debug_implementations,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    reason = "generated code"
)]
pub mod v1 {
    tonic::include_proto!("gophkeeper.v1");
}

/// Encoded `FileDescriptorSet` of every GophKeeper proto file, for gRPC
/// server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/gophkeeper_descriptor.bin"));

/// The largest ciphertext a record may have: 512 KiB, from the specification.
pub const MAX_RECORD_BYTES: usize = 512 * 1024;

impl v1::RecordKind {
    /// Short lower-case name used in command lines and logs.
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Login => "login",
            Self::Text => "text",
            Self::Binary => "binary",
            Self::Card => "card",
            Self::VaultSummary => "vault-summary",
        }
    }
}

//! The OPAQUE cipher suite (RFC 9807) the client and the auth service share
//! (docs/design.md, "OPAQUE"). Both ends must name the same suite, so it
//! lives beside the messages that carry its serialisations.

pub use opaque_ke;

/// ristretto255 for the OPRF and the Triple-DH key exchange, SHA-512, and
/// Argon2id as the key-stretching function. The client stretches with the
/// account's KDF parameters (`ClientLoginFinishParameters::ksf`); the server
/// never runs it.
#[derive(Debug, Clone, Copy)]
pub struct Suite;

impl opaque_ke::CipherSuite for Suite {
    type OprfCs = opaque_ke::Ristretto255;
    type KeyExchange = opaque_ke::TripleDh<opaque_ke::Ristretto255, sha2::Sha512>;
    type Ksf = opaque_ke::argon2::Argon2<'static>;
}

/// Bytes of a login id, which names the server's state between the two
/// round trips of a login.
pub const LOGIN_ID_LEN: usize = 16;

//! Certificate checks for the three ways a client may trust the gateway, and
//! the SHA-256 fingerprint they are pinned by.
//!
//! Pinning replaces the chain and name checks (the exact certificate is the
//! trust anchor), but never the handshake signature check: without it a
//! server could present the pinned certificate without holding its key.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

use super::TransportError;

/// SHA-256 of a certificate's DER bytes, as colon-separated upper-case hex
/// (`AB:CD:...`), the form `openssl x509 -fingerprint -sha256` and the
/// server's start-up log show.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of_der(der: &[u8]) -> Self {
        let hex: Vec<String> = Sha256::digest(der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        Self(hex.join(":"))
    }

    /// Accepts upper- or lower-case hex, with or without colons, so that a
    /// fingerprint pasted from any tool works; stores the canonical form.
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let digits: String = text
            .trim()
            .chars()
            .filter(|c| *c != ':')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = digits.len() == 64 && digits.chars().all(|c| c.is_ascii_hexdigit());
        if !valid {
            return Err(TransportError::BadFingerprint {
                text: text.chars().take(120).collect(),
            });
        }
        let pairs: Vec<&str> = (0..32).map(|i| &digits[i * 2..i * 2 + 2]).collect();
        Ok(Self(pairs.join(":")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

/// The last pin mismatch a connection saw. The connector's error reaches
/// callers through hyper and tonic as an opaque "transport error"; this slot
/// lets the session turn it back into the loud, specific error it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct MismatchSlot(Arc<Mutex<Option<(Fingerprint, Fingerprint)>>>);

impl MismatchSlot {
    fn set(&self, value: Option<(Fingerprint, Fingerprint)>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = value;
    }

    /// `(expected, found)` of the latest handshake, if it was refused.
    pub(crate) fn get(&self) -> Option<(Fingerprint, Fingerprint)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Why a pinned certificate was refused, carried inside the rustls error.
#[derive(Debug, thiserror::Error)]
#[error("server certificate changed: pinned {expected}, presented {found}")]
struct PinMismatch {
    expected: Fingerprint,
    found: Fingerprint,
}

/// Accepts exactly one end-entity certificate.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    pin: Fingerprint,
    algorithms: WebPkiSupportedAlgorithms,
    mismatch: MismatchSlot,
}

impl PinnedVerifier {
    pub(crate) fn new(pin: Fingerprint, provider: &CryptoProvider, mismatch: MismatchSlot) -> Self {
        Self {
            pin,
            algorithms: provider.signature_verification_algorithms,
            mismatch,
        }
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let found = Fingerprint::of_der(end_entity);
        if found == self.pin {
            self.mismatch.set(None);
            return Ok(ServerCertVerified::assertion());
        }
        tracing::warn!(expected = %self.pin, %found, "server certificate does not match the pin");
        self.mismatch.set(Some((self.pin.clone(), found.clone())));
        let cause = PinMismatch {
            expected: self.pin.clone(),
            found,
        };
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            rustls::OtherError(Arc::new(cause)),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Accepts any certificate but remembers it: used only to show a stranger's
/// fingerprint to the person on first contact. No request is ever sent over
/// a connection made with it.
#[derive(Debug)]
pub(crate) struct CapturingVerifier {
    algorithms: WebPkiSupportedAlgorithms,
    seen: Mutex<Option<Fingerprint>>,
}

impl CapturingVerifier {
    pub(crate) fn new(provider: &CryptoProvider) -> Self {
        Self {
            algorithms: provider.signature_verification_algorithms,
            seen: Mutex::new(None),
        }
    }

    pub(crate) fn seen(&self) -> Option<Fingerprint> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ServerCertVerifier for CapturingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Fingerprint::of_der(end_entity));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The usual chain-and-name check against a set of roots.
pub(crate) fn roots_verifier(
    roots: RootCertStore,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TransportError> {
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| TransportError::Roots {
            reason: e.to_string(),
        })?;
    Ok(verifier)
}

/// The operating system's trusted roots. Unreadable entries are skipped (a
/// broken bundle file must not stop the others from working).
pub(crate) fn system_roots() -> RootCertStore {
    let loaded = rustls_native_certs::load_native_certs();
    for error in &loaded.errors {
        tracing::debug!(%error, "skipping unreadable system certificate");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
    tracing::debug!(added, ignored, "loaded system roots");
    roots
}

/// The certificates of a PEM file, e.g. the single-node server's `ca.pem`.
pub(crate) fn file_roots(path: &std::path::Path) -> Result<RootCertStore, TransportError> {
    use rustls_pki_types::pem::PemObject;
    let pem = std::fs::read(path).map_err(|source| TransportError::CaFile {
        path: path.to_owned(),
        source,
    })?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| TransportError::BadCaFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        roots.add(cert).map_err(|e| TransportError::BadCaFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    }
    if roots.is_empty() {
        return Err(TransportError::BadCaFile {
            path: path.to_owned(),
            reason: "no PEM certificate in it".into(),
        });
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_the_server_format_and_parses_any_spelling() {
        let fp = Fingerprint::of_der(b"certificate");
        assert_eq!(fp.as_str().len(), 32 * 3 - 1);
        assert_eq!(fp.as_str(), fp.as_str().to_uppercase());
        let lower_no_colons = fp.as_str().replace(':', "").to_lowercase();
        assert_eq!(Fingerprint::parse(&lower_no_colons).unwrap(), fp);
        assert_eq!(Fingerprint::parse(fp.as_str()).unwrap(), fp);
        for bad in ["", "AB:CD", &"G".repeat(64)] {
            assert!(Fingerprint::parse(bad).is_err(), "{bad}");
        }
    }
}

//! The network channel to the gateway: gRPC over TLS (rustls with the ring
//! provider, HTTP/2 by ALPN), trusting the server in one of three ways:
//! the system's roots, a CA file (the single-node server's `ca.pem`), or a
//! pinned SHA-256 fingerprint of its certificate, which the person accepts
//! on first contact and the profile remembers. A certificate that no longer
//! matches its pin is refused loudly: that is what interception looks like.
//!
//! A [`Transport`] connects lazily, so building one never needs the network
//! (the vault opens offline); [`establish_trust`] is the eager first
//! handshake that login and registration do.

mod connector;
mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::ServerName;
use tonic::transport::{Channel, Endpoint};

use self::connector::{TlsConnector, tls_error};
pub use self::verify::Fingerprint;
use self::verify::{CapturingVerifier, MismatchSlot, PinnedVerifier};

/// The single-node server's default address.
pub const DEFAULT_SERVER_URL: &str = "https://127.0.0.1:50051";

/// Largest gRPC message the client accepts. A `Changes` page holds up to
/// 4 MiB of ciphertext plus framing; 16 MiB leaves room for a server that
/// raises its page size without starving a client of memory.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Pings on idle connections find a dead server (and a dead `Watch`) within
/// about half a minute instead of at the next TCP timeout.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{url:?} is not a server URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{text:?} is not a SHA-256 fingerprint (64 hex digits, colons optional)")]
    BadFingerprint { text: String },
    #[error("cannot read the CA certificate file {path}")]
    CaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA certificate file {path} is not usable: {reason}")]
    BadCaFile { path: PathBuf, reason: String },
    #[error("cannot use the trusted roots: {reason}")]
    Roots { reason: String },
    #[error("TLS set-up failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("invalid endpoint: {0}")]
    Endpoint(#[from] tonic::transport::Error),
    #[error(
        "SERVER CERTIFICATE CHANGED for {server}: the pinned fingerprint is {expected} but the \
         server presented {found}. This is a possible interception (man-in-the-middle) attack; \
         refusing to connect. If the server's certificate was deliberately replaced, verify the \
         new fingerprint out of band and log in again with it."
    )]
    CertificateChanged {
        server: String,
        expected: Fingerprint,
        found: Fingerprint,
    },
    #[error("the certificate of {server} is not trusted ({reason}); fingerprint {fingerprint}")]
    Untrusted {
        server: String,
        fingerprint: Fingerprint,
        reason: String,
    },
    #[error("cannot reach {server}: {source}")]
    Unreachable {
        server: String,
        #[source]
        source: std::io::Error,
    },
}

/// Where the gateway is. Only `https://` URLs: every byte goes over TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    url: String,
    host: String,
    port: u16,
    server_name: ServerName<'static>,
}

impl ServerUrl {
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let invalid = |reason: &str| TransportError::InvalidUrl {
            url: text.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        let parsed = url::Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
        if parsed.scheme() != "https" {
            return Err(invalid(
                "the scheme must be https (the client only speaks TLS)",
            ));
        }
        if parsed.path() != "/" && !parsed.path().is_empty() {
            return Err(invalid("a server URL has no path"));
        }
        let (host, name) = match parsed.host() {
            Some(url::Host::Domain(domain)) => (domain.to_owned(), domain.to_owned()),
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), ip.to_string()),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), ip.to_string()),
            None => return Err(invalid("it names no host")),
        };
        let server_name = ServerName::try_from(name).map_err(|e| invalid(&e.to_string()))?;
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| invalid("it names no port"))?;
        let authority = match parsed.host() {
            Some(url::Host::Ipv6(_)) => format!("[{host}]:{port}"),
            _ => format!("{host}:{port}"),
        };
        Ok(Self {
            url: format!("https://{authority}"),
            host,
            port,
            server_name,
        })
    }

    /// `https://host:port`, normalised.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    fn authority(&self) -> &str {
        self.url.trim_start_matches("https://")
    }
}

impl Default for ServerUrl {
    fn default() -> Self {
        #[expect(clippy::expect_used, reason = "a constant that the tests parse")]
        Self::parse(DEFAULT_SERVER_URL).expect("default server URL parses")
    }
}

impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl std::str::FromStr for ServerUrl {
    type Err = TransportError;

    fn from_str(s: &str) -> Result<Self, TransportError> {
        Self::parse(s)
    }
}

/// How the client decides that it talks to the real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The operating system's root certificates (a server with a public CA).
    SystemRoots,
    /// The CA certificates in a PEM file (`--ca-cert`).
    CaFile(PathBuf),
    /// Exactly this end-entity certificate, whoever signed it.
    Pinned(Fingerprint),
}

/// What [`establish_trust`] should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRequest {
    /// Use this and nothing else; fail if the server does not pass it.
    Configured(Trust),
    /// System roots; if they do not vouch for the server, show its
    /// fingerprint and ask (trust on first use).
    Auto,
    /// Skip the system roots and ask straight away.
    FirstUse,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(trust: &Trust, mismatch: &MismatchSlot) -> Result<ClientConfig, TransportError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let verifier = match trust {
        Trust::SystemRoots => verify::roots_verifier(verify::system_roots(), provider.clone())?,
        Trust::CaFile(path) => verify::roots_verifier(verify::file_roots(path)?, provider.clone())?,
        Trust::Pinned(pin) => Arc::new(PinnedVerifier::new(
            pin.clone(),
            &provider,
            mismatch.clone(),
        )),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// A gRPC channel to the gateway, built lazily: the first call connects, and
/// a broken connection is re-dialled on the next call.
#[derive(Debug, Clone)]
pub struct Transport {
    channel: Channel,
    server: ServerUrl,
    trust: Trust,
    mismatch: MismatchSlot,
}

impl Transport {
    /// Needs a tokio runtime (the channel runs a background task), hence
    /// `async`, but touches no network.
    pub async fn open(server: ServerUrl, trust: Trust) -> Result<Self, TransportError> {
        let mismatch = MismatchSlot::default();
        let config = client_config(&trust, &mismatch)?;
        let connector = TlsConnector::new(
            config,
            server.host.clone(),
            server.port,
            server.server_name.clone(),
        );
        let endpoint = Endpoint::from_shared(format!("http://{}", server.authority()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
            .keep_alive_timeout(KEEPALIVE_TIMEOUT)
            .keep_alive_while_idle(true);
        let channel = endpoint.connect_with_connector_lazy(connector);
        Ok(Self {
            channel,
            server,
            trust,
            mismatch,
        })
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The loud error for the last refused pinned handshake, if the latest
    /// handshake was one. Calls that fail with a transport error check this.
    pub fn certificate_changed(&self) -> Option<TransportError> {
        self.mismatch
            .get()
            .map(|(expected, found)| TransportError::CertificateChanged {
                server: self.server.to_string(),
                expected,
                found,
            })
    }
}

/// One handshake with `trust`, to learn before any secret is sent whether
/// the server passes it.
pub async fn probe(server: &ServerUrl, trust: &Trust) -> Result<(), TransportError> {
    let mismatch = MismatchSlot::default();
    let config = match client_config(trust, &mismatch) {
        Ok(config) => config,
        // A machine without system roots trusts no server by them.
        Err(TransportError::Roots { reason }) if *trust == Trust::SystemRoots => {
            return Err(TransportError::Untrusted {
                server: server.to_string(),
                fingerprint: fetch_fingerprint(server).await?,
                reason,
            });
        }
        Err(other) => return Err(other),
    };
    let connector = TlsConnector::new(
        config,
        server.host.clone(),
        server.port,
        server.server_name.clone(),
    );
    match connector.handshake().await {
        Ok(_) => Ok(()),
        Err(err) => {
            if let Some((expected, found)) = mismatch.get() {
                return Err(TransportError::CertificateChanged {
                    server: server.to_string(),
                    expected,
                    found,
                });
            }
            match tls_error(&err) {
                Some(rustls::Error::InvalidCertificate(reason)) => {
                    let fingerprint = fetch_fingerprint(server).await?;
                    Err(TransportError::Untrusted {
                        server: server.to_string(),
                        fingerprint,
                        reason: format!("{reason:?}"),
                    })
                }
                _ => Err(TransportError::Unreachable {
                    server: server.to_string(),
                    source: err,
                }),
            }
        }
    }
}

/// The fingerprint of the certificate the server presents, unverified: only
/// for showing to a person who then decides.
pub async fn fetch_fingerprint(server: &ServerUrl) -> Result<Fingerprint, TransportError> {
    let provider = provider();
    let capture = Arc::new(CapturingVerifier::new(&provider));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let connector = TlsConnector::new(
        config,
        server.host.clone(),
        server.port,
        server.server_name.clone(),
    );
    let handshake = connector.handshake().await;
    match (capture.seen(), handshake) {
        (Some(fingerprint), _) => Ok(fingerprint),
        (None, Err(source)) => Err(TransportError::Unreachable {
            server: server.to_string(),
            source,
        }),
        (None, Ok(_)) => Err(TransportError::Unreachable {
            server: server.to_string(),
            source: std::io::Error::other("the server presented no certificate"),
        }),
    }
}

/// Decides how to trust `server` before the first login or registration.
///
/// With [`TrustRequest::Auto`] or [`TrustRequest::FirstUse`], a server the
/// system roots do not vouch for is shown to `ask` by its fingerprint; if
/// `ask` says yes the result is [`Trust::Pinned`], for the caller to keep in
/// the profile. A pinned fingerprint that no longer matches is
/// [`TransportError::CertificateChanged`] and is never offered to `ask`.
pub async fn establish_trust(
    server: &ServerUrl,
    request: &TrustRequest,
    ask: &mut dyn FnMut(&str) -> bool,
) -> Result<Trust, TransportError> {
    let untrusted = match request {
        TrustRequest::Configured(trust) => {
            probe(server, trust).await?;
            return Ok(trust.clone());
        }
        TrustRequest::Auto => match probe(server, &Trust::SystemRoots).await {
            Ok(()) => return Ok(Trust::SystemRoots),
            Err(TransportError::Untrusted { fingerprint, .. }) => fingerprint,
            Err(other) => return Err(other),
        },
        TrustRequest::FirstUse => fetch_fingerprint(server).await?,
    };
    if ask(untrusted.as_str()) {
        tracing::info!(server = %server, fingerprint = %untrusted, "certificate pinned on first use");
        Ok(Trust::Pinned(untrusted))
    } else {
        Err(TransportError::Untrusted {
            server: server.to_string(),
            fingerprint: untrusted,
            reason: "not accepted".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_https_only_and_normalised() {
        let default = ServerUrl::default();
        assert_eq!(default.as_str(), "https://127.0.0.1:50051");
        let v6 = ServerUrl::parse("https://[::1]:7000/").unwrap();
        assert_eq!(v6.as_str(), "https://[::1]:7000");
        assert_eq!(v6.host, "::1");
        let named = ServerUrl::parse("https://vault.example").unwrap();
        assert_eq!(named.as_str(), "https://vault.example:443");
        for bad in [
            "http://127.0.0.1:1",
            "127.0.0.1:50051",
            "https://h/x",
            "https://",
        ] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}

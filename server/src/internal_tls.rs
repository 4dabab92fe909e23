//! Mutual TLS between the services of a cluster. The internal APIs trust
//! the user id the gateway passes, so only our own processes may call them:
//! every internal listener requires a client certificate signed by the
//! cluster CA, and every internal client presents one. Each certificate
//! names its role (a SAN URI, [`ROLE_URI_PREFIX`]), and each internal
//! service answers only the roles that call it ([`CallersOnly`]): a stolen
//! consumer key cannot act as the gateway.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use serde::Deserialize;
use tonic::Code;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};
use x509_parser::extensions::GeneralName;

use crate::settings::Role;

#[derive(Debug, Clone, Deserialize)]
pub struct InternalSettings {
    /// This process's internal gRPC listener (every role but the gateway).
    pub listen: std::net::SocketAddr,
    /// PEM of the cluster CA, and this process's certificate and key.
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum InternalTlsError {
    #[error("internal TLS needs [internal] ca, cert and key (cluster roles use mutual TLS)")]
    NotConfigured,
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The cluster CA and this process's identity.
#[derive(Debug, Clone)]
pub struct InternalTls {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

fn read(path: &Path) -> Result<Vec<u8>, InternalTlsError> {
    std::fs::read(path).map_err(|source| InternalTlsError::Io {
        path: path.to_owned(),
        source,
    })
}

impl InternalTls {
    pub fn load(settings: &InternalSettings) -> Result<Self, InternalTlsError> {
        if [&settings.ca, &settings.cert, &settings.key]
            .iter()
            .any(|p| p.as_os_str().is_empty())
        {
            return Err(InternalTlsError::NotConfigured);
        }
        Ok(Self {
            ca: read(&settings.ca)?,
            cert: read(&settings.cert)?,
            key: read(&settings.key)?,
        })
    }

    /// Serves with our certificate and demands a client certificate from
    /// the cluster CA.
    pub fn server(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert, &self.key))
            .client_ca_root(Certificate::from_pem(&self.ca))
    }

    /// Trusts only the cluster CA and presents our certificate.
    pub fn client(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca))
            .identity(Identity::from_pem(&self.cert, &self.key))
    }
}

/// A cluster certificate names its role in a SAN URI: this, then the
/// role's name (`urn:gophkeeper:role:gateway`). A URI rather than the CN:
/// it is a typed field a certificate only has when issued for a role.
pub const ROLE_URI_PREFIX: &str = "urn:gophkeeper:role:";

/// The `gk-reason` of a call refused for its caller's role.
pub const ROLE_REFUSED: &str = "ROLE_NOT_ALLOWED";

/// Why a peer's certificate gives it no role.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeerRoleError {
    #[error("no client certificate")]
    NoCertificate,
    #[error("the client certificate does not parse")]
    Unparsable,
    #[error("the client certificate names no role (no {ROLE_URI_PREFIX}NAME URI)")]
    NoRole,
    #[error("the client certificate names unknown role {0:?}")]
    UnknownRole(String),
    #[error("the client certificate names more than one role")]
    SeveralRoles,
}

/// The role a certificate (DER) was issued for. `all` is never one: that
/// role calls its services in process, without TLS.
pub fn role_of(der: &[u8]) -> Result<Role, PeerRoleError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|_| PeerRoleError::Unparsable)?;
    let san = cert
        .subject_alternative_name()
        .map_err(|_| PeerRoleError::Unparsable)?;
    let mut names = san
        .iter()
        .flat_map(|ext| ext.value.general_names.iter())
        .filter_map(|name| match name {
            GeneralName::URI(uri) => uri.strip_prefix(ROLE_URI_PREFIX),
            _ => None,
        });
    let name = names.next().ok_or(PeerRoleError::NoRole)?;
    if names.next().is_some() {
        return Err(PeerRoleError::SeveralRoles);
    }
    <Role as clap::ValueEnum>::value_variants()
        .iter()
        .copied()
        .find(|role| *role != Role::All && role.name() == name)
        .ok_or_else(|| PeerRoleError::UnknownRole(name.to_owned()))
}

/// An internal service that answers only peers whose certificate names
/// one of `callers`; anyone else gets PERMISSION_DENIED before the service
/// sees the request. One wrapper for every service, so no handler can
/// forget the check.
#[derive(Debug, Clone)]
pub struct CallersOnly<S> {
    inner: S,
    callers: &'static [Role],
}

impl<S> CallersOnly<S> {
    pub fn new(inner: S, callers: &'static [Role]) -> Self {
        Self { inner, callers }
    }
}

impl<S: NamedService> NamedService for CallersOnly<S> {
    const NAME: &'static str = S::NAME;
}

impl<S: NamedService> CallersOnly<S> {
    fn authorize<B>(&self, request: &http::Request<B>) -> Result<(), tonic::Status> {
        let role = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(TlsConnectInfo::peer_certs)
            .and_then(|certs| certs.first().map(|cert| role_of(cert)))
            .unwrap_or(Err(PeerRoleError::NoCertificate));
        let refused = match role {
            Ok(role) if self.callers.contains(&role) => return Ok(()),
            Ok(role) => format!("role {} may not call {}", role.name(), S::NAME),
            Err(err) => format!("{err}, so it may not call {}", S::NAME),
        };
        // Spelled out only for a refusal, not on every call.
        let allowed = self
            .callers
            .iter()
            .map(|role| role.name())
            .collect::<Vec<_>>()
            .join(", ");
        tracing::warn!(service = S::NAME, %allowed, "refused an internal call: {refused}");
        Err(crate::status::with_reason(
            Code::PermissionDenied,
            format!("{refused} (only role {allowed} may)"),
            ROLE_REFUSED,
        ))
    }
}

impl<S, B> tower::Service<http::Request<B>> for CallersOnly<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>, Error = Infallible>
        + NamedService,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Either<S::Future, Ready<Result<http::Response<Body>, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        match self.authorize(&request) {
            Ok(()) => Either::Left(self.inner.call(request)),
            Err(status) => Either::Right(ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, KeyPair, SanType};

    use super::*;

    fn cert_with(uris: &[&str]) -> Vec<u8> {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        for uri in uris {
            let uri = (*uri).to_owned().try_into().unwrap();
            params.subject_alt_names.push(SanType::URI(uri));
        }
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn a_certificate_names_its_role_in_a_san_uri() {
        for role in [
            Role::Gateway,
            Role::Auth,
            Role::Query,
            Role::CommandProducer,
            Role::CommandConsumer,
        ] {
            let uri = format!("{ROLE_URI_PREFIX}{}", role.name());
            assert_eq!(role_of(&cert_with(&[&uri])), Ok(role));
        }
        // Other URIs beside the role's are no concern.
        let der = cert_with(&["https://example.com/", "urn:gophkeeper:role:query"]);
        assert_eq!(role_of(&der), Ok(Role::Query));
    }

    #[test]
    fn a_certificate_without_a_role_has_none() {
        assert_eq!(role_of(&cert_with(&[])), Err(PeerRoleError::NoRole));
        let other = cert_with(&["urn:example:role:gateway"]);
        assert_eq!(role_of(&other), Err(PeerRoleError::NoRole));
        assert_eq!(
            role_of(b"not a certificate"),
            Err(PeerRoleError::Unparsable)
        );
    }

    #[test]
    fn an_unknown_or_in_process_role_is_refused() {
        for name in ["admin", "all", "Gateway", "producer", ""] {
            let der = cert_with(&[&format!("{ROLE_URI_PREFIX}{name}")]);
            assert_eq!(
                role_of(&der),
                Err(PeerRoleError::UnknownRole(name.to_owned())),
                "{name}"
            );
        }
    }

    #[test]
    fn a_certificate_with_two_roles_is_refused() {
        let der = cert_with(&["urn:gophkeeper:role:query", "urn:gophkeeper:role:gateway"]);
        assert_eq!(role_of(&der), Err(PeerRoleError::SeveralRoles));
    }
}

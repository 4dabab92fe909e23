//! Mutual TLS between the services of a cluster. The internal APIs trust
//! the user id the gateway passes, so only our own processes may call them:
//! every internal listener requires a client certificate signed by the
//! cluster CA, and every internal client presents one.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

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

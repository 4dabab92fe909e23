//! The gateway's TLS identity. With no certificate configured the server
//! makes its own on first start: a private CA and a server certificate it
//! signs, kept in `<data dir>/tls`. Clients either trust the CA file
//! (`--ca-cert`) or pin the server certificate's SHA-256 fingerprint, which
//! is logged at every start.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use gophkeeper_private_file::Existing;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use tonic::transport::Identity;

use crate::settings::GatewaySettings;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
}

/// The identity to serve with, and where it came from.
#[derive(Debug)]
pub struct LoadedIdentity {
    pub identity: Identity,
    pub cert_path: PathBuf,
    /// Set when the server made its own CA.
    pub ca_path: Option<PathBuf>,
    /// SHA-256 of the server certificate (DER), as colon-separated hex.
    pub fingerprint: String,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Loads the configured certificate, or the generated one, making it first
/// if there is none yet.
pub fn load_or_create(
    settings: &GatewaySettings,
    data_dir: &Path,
) -> Result<LoadedIdentity, TlsError> {
    let configured = !settings.tls_cert.as_os_str().is_empty();
    let (cert_path, key_path, ca_path) = if configured {
        (settings.tls_cert.clone(), settings.tls_key.clone(), None)
    } else {
        let dir = data_dir.join("tls");
        let paths = (
            dir.join("server.pem"),
            dir.join("server.key"),
            dir.join("ca.pem"),
        );
        if !paths.0.exists() || !paths.1.exists() {
            generate(&dir, &settings.tls_names)?;
        }
        (paths.0, paths.1, Some(paths.2))
    };
    let cert = read(&cert_path)?;
    let key = read(&key_path)?;
    let fingerprint = fingerprint_of_pem(&cert).ok_or_else(|| TlsError::NoCertificate {
        path: cert_path.clone(),
    })?;
    Ok(LoadedIdentity {
        identity: Identity::from_pem(cert, key),
        cert_path,
        ca_path,
        fingerprint,
    })
}

/// SHA-256 of the first certificate in a PEM file.
pub fn fingerprint_of_pem(pem: &[u8]) -> Option<String> {
    let der = CertificateDer::pem_slice_iter(pem).next()?.ok()?;
    Some(fingerprint(&der))
}

/// Colon-separated upper-case hex of SHA-256 over DER, the form browsers
/// and `openssl x509 -fingerprint -sha256` show.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn generate(dir: &Path, extra_names: &[String]) -> Result<(), TlsError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = name("GophKeeper local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    ca_params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca = Issuer::new(ca_params, ca_key);

    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(extra_names.iter().cloned());
    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => n.clone().try_into().map(SanType::DnsName),
        })
        .collect::<Result<_, _>>()?;
    params.distinguished_name = name("GophKeeper server");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let server_cert = params.signed_by(&server_key, &ca)?;

    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).map_err(io(&ca_path))?;
    let cert_path = dir.join("server.pem");
    std::fs::write(&cert_path, server_cert.pem()).map_err(io(&cert_path))?;
    let key_path = dir.join("server.key");
    gophkeeper_private_file::write(
        &key_path,
        server_key.serialize_pem().as_bytes(),
        Existing::Replace,
    )
    .map_err(io(&key_path))?;
    // The CA key is not kept: nothing else is ever signed with it, so a
    // stolen data directory cannot mint certificates for other names.
    tracing::info!(dir = %dir.display(), "made a TLS CA and server certificate");
    Ok(())
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "GophKeeper");
    dn
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn generates_once_and_keeps_the_same_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::load_without_env(None).unwrap().gateway;
        let first = load_or_create(&settings, dir.path()).unwrap();
        let second = load_or_create(&settings, dir.path()).unwrap();
        assert_eq!(first.fingerprint, second.fingerprint);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        assert!(first.ca_path.as_ref().unwrap().exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join("tls/server.key");
            assert_eq!(
                std::fs::metadata(key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}

//! How a process reaches real Kafka brokers: plaintext (the default, for a
//! broker on localhost or a private network), TLS with the brokers'
//! certificates verified (and a client certificate if they ask for one),
//! SASL, or SASL over TLS (`[kafka.security]`, docs/cluster.md, "Kafka over
//! TLS and SASL").

use std::path::{Path, PathBuf};

use rdkafka::ClientConfig;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

/// librdkafka's `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KafkaProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl KafkaProtocol {
    fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    fn tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    fn sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// librdkafka's `sasl.mechanism`, of those it has built in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// `[kafka.security]`. Paths left empty are unset.
#[derive(Debug, Clone, Deserialize)]
pub struct KafkaSecurity {
    pub protocol: KafkaProtocol,
    /// The CA (PEM) the brokers' certificates must chain to; unset: the
    /// system's roots. Host names are checked against the certificates.
    pub ca: PathBuf,
    /// A client certificate and its key (PEM), for brokers that ask.
    pub cert: PathBuf,
    pub key: PathBuf,
    pub sasl_mechanism: SaslMechanism,
    pub sasl_username: String,
    /// `Debug` prints it redacted.
    pub sasl_password: SecretString,
}

/// Why `[kafka.security]` cannot be used as written.
#[derive(Debug, thiserror::Error)]
#[error("kafka.security: {0}")]
pub struct SecurityError(String);

fn set(path: &Path) -> bool {
    !path.as_os_str().is_empty()
}

impl KafkaSecurity {
    /// The SASL user name, if SASL is on.
    pub fn sasl_user(&self) -> Option<&str> {
        self.protocol.sasl().then_some(self.sasl_username.as_str())
    }

    /// Checks the settings and writes them into `config`.
    pub fn apply(&self, config: &mut ClientConfig) -> Result<(), SecurityError> {
        let refuse = |why: &str| Err(SecurityError(why.to_owned()));
        let protocol = self.protocol;
        if !protocol.tls() && (set(&self.ca) || set(&self.cert) || set(&self.key)) {
            return refuse(&format!(
                "ca, cert and key need protocol ssl or sasl_ssl, not {}",
                protocol.name()
            ));
        }
        if set(&self.cert) != set(&self.key) {
            return refuse("cert and key go together: set both or neither");
        }
        let has_credentials =
            !self.sasl_username.is_empty() || !self.sasl_password.expose_secret().is_empty();
        if protocol.sasl() {
            if self.sasl_username.is_empty() || self.sasl_password.expose_secret().is_empty() {
                return refuse(&format!(
                    "protocol {} needs sasl_username and sasl_password",
                    protocol.name()
                ));
            }
            if self.sasl_mechanism == SaslMechanism::Plain && !protocol.tls() {
                // PLAIN sends the password itself; SCRAM proves it.
                return refuse(
                    "SASL PLAIN would send the password in the clear: use protocol sasl_ssl, \
                     or a SCRAM mechanism",
                );
            }
        } else if has_credentials {
            return refuse(&format!(
                "sasl_username and sasl_password need protocol sasl_plaintext or sasl_ssl, not {}",
                protocol.name()
            ));
        }
        config.set("security.protocol", protocol.name());
        if protocol.tls() {
            config.set("ssl.endpoint.identification.algorithm", "https");
            if set(&self.ca) {
                config.set("ssl.ca.location", self.ca.to_string_lossy());
            }
            if set(&self.cert) {
                config
                    .set("ssl.certificate.location", self.cert.to_string_lossy())
                    .set("ssl.key.location", self.key.to_string_lossy());
            }
        }
        if protocol.sasl() {
            config
                .set("sasl.mechanism", self.sasl_mechanism.name())
                .set("sasl.username", &self.sasl_username)
                .set("sasl.password", self.sasl_password.expose_secret());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(protocol: KafkaProtocol) -> KafkaSecurity {
        KafkaSecurity {
            protocol,
            ca: PathBuf::new(),
            cert: PathBuf::new(),
            key: PathBuf::new(),
            sasl_mechanism: SaslMechanism::ScramSha512,
            sasl_username: String::new(),
            sasl_password: SecretString::from(""),
        }
    }

    fn applied(security: &KafkaSecurity) -> Result<ClientConfig, String> {
        let mut config = ClientConfig::new();
        security
            .apply(&mut config)
            .map(|()| config)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn each_protocol_sets_what_it_needs() {
        let plain = applied(&security(KafkaProtocol::Plaintext)).unwrap();
        assert_eq!(plain.get("security.protocol"), Some("plaintext"));
        assert_eq!(plain.get("sasl.mechanism"), None);

        let mut tls = security(KafkaProtocol::Ssl);
        tls.ca = "/etc/kafka/ca.pem".into();
        tls.cert = "/etc/kafka/me.pem".into();
        tls.key = "/etc/kafka/me.key".into();
        let tls = applied(&tls).unwrap();
        assert_eq!(tls.get("ssl.ca.location"), Some("/etc/kafka/ca.pem"));
        assert_eq!(tls.get("ssl.key.location"), Some("/etc/kafka/me.key"));
        assert_eq!(
            tls.get("ssl.endpoint.identification.algorithm"),
            Some("https")
        );

        let mut sasl = security(KafkaProtocol::SaslSsl);
        sasl.sasl_mechanism = SaslMechanism::Plain;
        sasl.sasl_username = "gophkeeper".into();
        sasl.sasl_password = SecretString::from("s3cret");
        let sasl = applied(&sasl).unwrap();
        assert_eq!(sasl.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(sasl.get("sasl.mechanism"), Some("PLAIN"));
        assert_eq!(sasl.get("sasl.password"), Some("s3cret"));
    }

    #[test]
    fn settings_that_cannot_work_are_refused_by_name() {
        let mut no_password = security(KafkaProtocol::SaslPlaintext);
        no_password.sasl_username = "gophkeeper".into();
        let mut plain_in_clear = no_password.clone();
        plain_in_clear.sasl_password = SecretString::from("s3cret");
        plain_in_clear.sasl_mechanism = SaslMechanism::Plain;
        let mut ca_without_tls = security(KafkaProtocol::SaslPlaintext);
        ca_without_tls.ca = "/ca.pem".into();
        let mut cert_alone = security(KafkaProtocol::Ssl);
        cert_alone.cert = "/me.pem".into();
        let mut credentials_without_sasl = security(KafkaProtocol::Ssl);
        credentials_without_sasl.sasl_username = "gophkeeper".into();
        for (settings, why) in [
            (no_password, "needs sasl_username and sasl_password"),
            (plain_in_clear, "in the clear"),
            (ca_without_tls, "need protocol ssl or sasl_ssl"),
            (cert_alone, "set both or neither"),
            (
                credentials_without_sasl,
                "need protocol sasl_plaintext or sasl_ssl",
            ),
        ] {
            let err = applied(&settings).unwrap_err();
            assert!(err.contains(why), "{err}");
            assert!(err.starts_with("kafka.security: "), "{err}");
        }
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let mut sasl = security(KafkaProtocol::SaslSsl);
        sasl.sasl_password = SecretString::from("hunter2-kafka");
        assert!(!format!("{sasl:?}").contains("hunter2-kafka"));
    }
}

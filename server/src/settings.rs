//! Typed server settings: the defaults in `config/single-node.toml`, then an
//! optional TOML file, then `GOPHKEEPER__...` environment variables. One
//! value is built at start-up and passed down; nothing reads config globally.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use secrecy::SecretString;
use serde::Deserialize;

/// The defaults every deployment starts from.
pub const DEFAULT_TOML: &str = include_str!("../../config/single-node.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub role: Role,
    /// Empty means "the platform data directory"; see [`Settings::data_dir`].
    data_dir: PathBuf,
    pub gateway: GatewaySettings,
    pub auth: AuthSettings,
    pub query: QuerySettings,
    pub broker: BrokerSettings,
    pub storage: StorageSettings,
    /// Cluster mode: where the PostgreSQL databases are.
    pub postgres: PostgresSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    /// Cluster roles: the Kafka broker and topics.
    pub kafka: crate::broker::kafka::KafkaSettings,
    /// Cluster roles: this process's internal mutual-TLS listener.
    pub internal: crate::internal_tls::InternalSettings,
    /// Cluster gateway: where the internal services are.
    pub cluster: ClusterSettings,
}

/// What one server process runs; `crate::roles` starts each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Every service in one process (single node; the default).
    All,
    /// The public TLS endpoint; calls the internal services over mutual TLS.
    Gateway,
    /// Registration, login, tokens and sessions, on the auth database.
    Auth,
    /// Reads from the vault replica.
    Query,
    /// Validates commands and publishes them to Kafka.
    CommandProducer,
    /// Applies commands from Kafka to the vault primary.
    CommandConsumer,
}

/// Cluster gateway: the internal services' addresses.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterSettings {
    pub auth_url: String,
    pub query_url: String,
    pub producer_url: String,
}

impl Role {
    /// The name in the config file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Gateway => "gateway",
            Role::Auth => "auth",
            Role::Query => "query",
            Role::CommandProducer => "command-producer",
            Role::CommandConsumer => "command-consumer",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct GatewaySettings {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub tls_names: Vec<String>,
    pub command_wait_timeout_ms: u64,
    pub max_watch_streams_per_user: usize,
    /// HTTP/2 streams one connection may have open at once. tonic's builder
    /// otherwise passes "no limit" to hyper, so one client could hold any
    /// number of calls (or `Watch` streams of many accounts) on one socket.
    pub max_concurrent_streams_per_connection: u32,
    /// Connections one client machine (an IPv4 address, an IPv6 /64) may
    /// have open at once; 0 for no cap (behind a proxy that has one).
    pub max_connections_per_client: usize,
    /// Load balancers whose connections start with a PROXY protocol v2
    /// header naming the client (addresses or CIDR networks).
    pub trusted_proxies: Vec<crate::address::ProxyNet>,
    pub watch_revalidate_secs: u64,
    pub max_request_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Hex; empty means "generate and keep in the data directory".
    pub secret: SecretString,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    /// A session's absolute lifetime, however often it refreshes.
    pub session_lifetime_secs: u64,
    pub login_attempts_per_minute_per_user: u32,
    pub login_attempts_per_minute_per_peer: u32,
    pub hash_memory_kib: u32,
    pub hash_iterations: u32,
    /// Server-side Argon2id hashes running at once; 0 means one per core.
    pub max_concurrent_hashes: usize,
    /// How long a login waits for a hash slot before it is told to retry.
    pub hash_queue_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QuerySettings {
    pub min_revision_wait_ms: u64,
    pub default_page_size: u32,
    pub max_page_size: u32,
    pub max_page_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// `host:port` of the Prometheus endpoint (`/metrics`); empty: none.
    pub listen: String,
}

impl MetricsSettings {
    /// The address to serve metrics on, if any.
    pub fn address(&self) -> Result<Option<SocketAddr>, SettingsError> {
        if self.listen.trim().is_empty() {
            return Ok(None);
        }
        self.listen
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| SettingsError::MetricsListen(self.listen.clone()))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct BrokerSettings {
    pub kind: BrokerKind,
    pub in_process_capacity: usize,
    /// Signs every command between producer and consumer (64 hex digits);
    /// role `all` derives one from the server secret when empty.
    pub command_key: SecretString,
    /// Keys consumers still accept while producers move to a new one.
    pub previous_command_keys: Vec<SecretString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BrokerKind {
    InProcess,
    Kafka,
}

impl BrokerKind {
    /// The name in the config file.
    pub fn name(self) -> &'static str {
        match self {
            BrokerKind::InProcess => "in-process",
            BrokerKind::Kafka => "kafka",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    pub engine: StorageEngine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StorageEngine {
    Sqlite,
    Postgres,
}

impl StorageEngine {
    /// The name in the config file.
    pub fn name(self) -> &'static str {
        match self {
            StorageEngine::Sqlite => "sqlite",
            StorageEngine::Postgres => "postgres",
        }
    }
}

/// The PostgreSQL databases. The URLs carry passwords, hence
/// `SecretString`: `Debug` prints them redacted.
#[derive(Debug, Clone, Deserialize)]
pub struct PostgresSettings {
    pub auth_url: SecretString,
    pub vault_primary_url: SecretString,
    /// The streaming replica, as the read-only query user. Role `all` may
    /// leave it empty and then reads the primary.
    pub vault_replica_url: SecretString,
    /// Connections in each pool of one process.
    pub pool_size: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("no data directory given and the platform has none; pass --data-dir")]
    NoDataDir,
    #[error("metrics.listen must be host:port (an IP address and a port), not {0:?}")]
    MetricsListen(String),
}

impl Settings {
    /// Defaults, then `file` (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load_with_env(file, Environment::with_prefix("GOPHKEEPER"))
    }

    /// Defaults and `file` only; tests use this so that the developer's
    /// environment cannot change what they check.
    pub fn load_without_env(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::build(file, None)
    }

    fn load_with_env(file: Option<&Path>, env: Environment) -> Result<Self, SettingsError> {
        Self::build(
            file,
            Some(
                env.prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    // GOPHKEEPER__GATEWAY__TLS_NAMES=a.example,10.0.0.5
                    .list_separator(",")
                    .with_list_parse_key("gateway.tls_names")
                    .with_list_parse_key("gateway.trusted_proxies")
                    .with_list_parse_key("broker.previous_command_keys"),
            ),
        )
    }

    fn build(file: Option<&Path>, env: Option<Environment>) -> Result<Self, SettingsError> {
        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(File::from(file).format(FileFormat::Toml));
        }
        if let Some(env) = env {
            builder = builder.add_source(env);
        }
        Ok(builder.build()?.try_deserialize()?)
    }

    /// The data directory: the configured one, or the platform's.
    pub fn data_dir(&self) -> Result<PathBuf, SettingsError> {
        if !self.data_dir.as_os_str().is_empty() {
            return Ok(self.data_dir.clone());
        }
        directories::ProjectDirs::from("", "", "gophkeeper")
            .map(|dirs| dirs.data_dir().join("server"))
            .ok_or(SettingsError::NoDataDir)
    }

    pub fn set_data_dir(&mut self, dir: PathBuf) {
        self.data_dir = dir;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::kafka_security::{KafkaProtocol, SaslMechanism};

    #[test]
    fn defaults_are_single_node() {
        let settings = Settings::load_without_env(None).unwrap();
        assert_eq!(settings.role, Role::All);
        assert_eq!(settings.broker.kind, BrokerKind::InProcess);
        assert_eq!(settings.storage.engine, StorageEngine::Sqlite);
        assert_eq!(settings.gateway.listen.to_string(), "127.0.0.1:50051");
        assert!(settings.kafka.idempotent_producer);
    }

    #[test]
    fn file_overrides_defaults_and_rejects_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "[gateway]\nlisten = \"127.0.0.1:6000\"\n").unwrap();
        let settings = Settings::load_without_env(Some(&path)).unwrap();
        assert_eq!(settings.gateway.listen.port(), 6000);

        std::fs::write(&path, "[broker]\nkind = \"carrier-pigeon\"\n").unwrap();
        let err = Settings::load_without_env(Some(&path)).unwrap_err();
        assert!(err.to_string().contains("carrier-pigeon"), "{err}");

        std::fs::write(&path, "[gateway]\ntrusted_proxies = [\"10.0.0.0/33\"]\n").unwrap();
        let err = Settings::load_without_env(Some(&path)).unwrap_err();
        assert!(err.to_string().contains("10.0.0.0/33"), "{err}");
    }

    #[test]
    fn environment_overrides_defaults_with_double_underscore_nesting() {
        let env = Environment::with_prefix("GOPHKEEPER").source(Some(
            [
                ("GOPHKEEPER__GATEWAY__LISTEN", "0.0.0.0:7000"),
                ("GOPHKEEPER__DATA_DIR", "/srv/gk"),
                ("GOPHKEEPER__AUTH__ACCESS_TOKEN_TTL_SECS", "60"),
                ("GOPHKEEPER__GATEWAY__TLS_NAMES", "gk.example,10.0.0.5"),
                ("GOPHKEEPER__KAFKA__IDEMPOTENT_PRODUCER", "false"),
                ("GOPHKEEPER__KAFKA__SECURITY__PROTOCOL", "sasl_ssl"),
                (
                    "GOPHKEEPER__KAFKA__SECURITY__SASL_MECHANISM",
                    "SCRAM-SHA-256",
                ),
                ("GOPHKEEPER__KAFKA__SECURITY__SASL_PASSWORD", "kafka-secret"),
                (
                    "GOPHKEEPER__GATEWAY__TRUSTED_PROXIES",
                    "10.0.0.5,10.1.0.0/16",
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ));
        let settings = Settings::load_with_env(None, env).unwrap();
        assert_eq!(settings.gateway.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(settings.gateway.tls_names, ["gk.example", "10.0.0.5"]);
        assert_eq!(settings.data_dir().unwrap(), PathBuf::from("/srv/gk"));
        assert_eq!(settings.auth.access_token_ttl_secs, 60);
        assert!(!settings.kafka.idempotent_producer);
        let kafka = &settings.kafka.security;
        assert_eq!(
            (kafka.protocol, kafka.sasl_mechanism),
            (KafkaProtocol::SaslSsl, SaslMechanism::ScramSha256)
        );
        assert!(!format!("{settings:?}").contains("kafka-secret"));
        assert_eq!(settings.gateway.trusted_proxies.len(), 2);
        assert!(settings.gateway.trusted_proxies[1].contains("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn an_unknown_kafka_protocol_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(&path, "[kafka.security]\nprotocol = \"tls\"\n").unwrap();
        let err = Settings::load_without_env(Some(&path)).unwrap_err();
        assert!(err.to_string().contains("protocol"), "{err}");
    }

    #[test]
    fn secret_is_not_in_debug_output() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "[auth]\nsecret = \"00112233deadbeef\"\n").unwrap();
        let settings = Settings::load_without_env(Some(&path)).unwrap();
        assert!(!format!("{settings:?}").contains("deadbeef"));
    }

    #[test]
    fn postgres_urls_are_not_in_debug_output() {
        use secrecy::ExposeSecret;
        let env = Environment::with_prefix("GOPHKEEPER").source(Some(
            [(
                "GOPHKEEPER__POSTGRES__VAULT_PRIMARY_URL",
                "postgres://vault:hunter2@127.0.0.1:5433/gophkeeper_vault",
            )]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ));
        let settings = Settings::load_with_env(None, env).unwrap();
        assert!(settings.postgres.auth_url.expose_secret().is_empty());
        assert!(
            settings
                .postgres
                .vault_primary_url
                .expose_secret()
                .contains("hunter2")
        );
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}

//! The two places where the settings choose an engine: [`open_stores`]
//! (`storage.engine`: SQLite files or PostgreSQL) and [`open_broker`]
//! (`broker.kind`: a tokio channel or Kafka). Every role opens only the
//! parts it needs; a part on a network server is waited for with backoff.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use futures::future::BoxFuture;
use secrecy::{ExposeSecret as _, SecretString};
use tokio_util::sync::CancellationToken;

use super::wait_for;
use crate::auth::postgres::PgAuthStore;
use crate::auth::sqlite::SqliteAuthStore;
use crate::auth::store::AuthStore;
use crate::broker::in_process::{self, InProcessPublisher};
use crate::broker::kafka::{self, KafkaProducer, KafkaPublisher, KafkaSubscriber};
use crate::broker::{CommandPublisher, CommandSubscriber};
use crate::command::signing::CommandKeys;
use crate::metrics::Metrics;
use crate::settings::{BrokerKind, Settings, StorageEngine};
use crate::vault::{VaultReader, VaultWriter, postgres, sqlite};

/// Which stores a role works on.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StoreNeeds {
    pub auth: bool,
    pub vault_writer: bool,
    pub vault_reader: bool,
}

/// The opened stores (`None` where not asked for), and how to close them.
pub(crate) struct Stores {
    pub auth: Option<Arc<dyn AuthStore>>,
    pub vault_writer: Option<Arc<dyn VaultWriter>>,
    pub vault_reader: Option<Arc<dyn VaultReader>>,
    closers: Vec<BoxFuture<'static, ()>>,
}

impl Stores {
    /// Closes every pool, so that SQLite checkpoints its log and PostgreSQL
    /// sees its connections end instead of time out.
    pub async fn close(self) {
        for close in self.closers {
            close.await;
        }
    }
}

/// Opens what `needs` names on `storage.engine`. `Ok(None)` if `shutdown`
/// fired while a PostgreSQL server was still awaited.
pub(crate) async fn open_stores(
    settings: &Settings,
    needs: StoreNeeds,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<Stores>> {
    let mut stores = Stores {
        auth: None,
        vault_writer: None,
        vault_reader: None,
        closers: Vec::new(),
    };
    match settings.storage.engine {
        StorageEngine::Sqlite => open_sqlite(&settings.data_dir()?, needs, &mut stores).await?,
        StorageEngine::Postgres => {
            if !open_postgres(settings, needs, &mut stores, shutdown).await? {
                stores.close().await;
                return Ok(None);
            }
        }
    }
    Ok(Some(stores))
}

async fn open_sqlite(dir: &Path, needs: StoreNeeds, stores: &mut Stores) -> anyhow::Result<()> {
    if needs.auth {
        let auth = SqliteAuthStore::open(&dir.join("auth.db"))
            .await
            .context("opening the auth database")?;
        stores.auth = Some(Arc::new(auth.clone()));
        stores
            .closers
            .push(Box::pin(async move { auth.close().await }));
    }
    if needs.vault_writer || needs.vault_reader {
        // One file: the reader sees every commit of the writer at once.
        let (writer, reader) = sqlite::open(&dir.join("vault.db"))
            .await
            .context("opening the vault database")?;
        stores.vault_writer = Some(Arc::new(writer.clone()));
        stores.vault_reader = Some(Arc::new(reader.clone()));
        stores.closers.push(Box::pin(async move {
            writer.close().await;
            reader.close().await;
        }));
    }
    Ok(())
}

/// False if `shutdown` fired first.
async fn open_postgres(
    settings: &Settings,
    needs: StoreNeeds,
    stores: &mut Stores,
    shutdown: &CancellationToken,
) -> anyhow::Result<bool> {
    let pg = &settings.postgres;
    let size = pg.pool_size;
    if needs.auth {
        let url = required(&pg.auth_url, "postgres.auth_url")?;
        let Some(auth) = wait_for("auth database", shutdown, || PgAuthStore::open(url, size)).await
        else {
            return Ok(false);
        };
        stores.auth = Some(Arc::new(auth.clone()));
        stores
            .closers
            .push(Box::pin(async move { auth.close().await }));
    }
    if needs.vault_writer {
        let url = required(&pg.vault_primary_url, "postgres.vault_primary_url")?;
        let Some(writer) = wait_for("vault primary", shutdown, || {
            postgres::open_writer(url, size)
        })
        .await
        else {
            return Ok(false);
        };
        stores.vault_writer = Some(Arc::new(writer.clone()));
        stores
            .closers
            .push(Box::pin(async move { writer.close().await }));
    }
    if needs.vault_reader {
        // The query role reads the replica; role `all` on one PostgreSQL
        // server may name none and read the primary.
        let url = match pg.vault_replica_url.expose_secret() {
            "" if settings.role == crate::settings::Role::All => {
                required(&pg.vault_primary_url, "postgres.vault_primary_url")?
            }
            _ => required(&pg.vault_replica_url, "postgres.vault_replica_url")?,
        };
        let Some(reader) = wait_for("vault replica", shutdown, || {
            postgres::open_reader(url, size)
        })
        .await
        else {
            return Ok(false);
        };
        stores.vault_reader = Some(Arc::new(reader.clone()));
        stores
            .closers
            .push(Box::pin(async move { reader.close().await }));
    }
    Ok(true)
}

fn required<'a>(url: &'a SecretString, key: &str) -> anyhow::Result<&'a str> {
    match url.expose_secret() {
        "" => anyhow::bail!(
            "storage.engine = \"postgres\" needs {key} (e.g. GOPHKEEPER__{}=postgres://...)",
            key.replace('.', "__").to_uppercase()
        ),
        url => Ok(url),
    }
}

/// Which ends of the broker a role uses.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BrokerNeeds {
    pub publish: bool,
    pub subscribe: bool,
}

/// The opened broker ends (`None` where not asked for).
pub(crate) struct Broker {
    pub publisher: Option<Arc<dyn CommandPublisher>>,
    pub subscriber: Option<Box<dyn CommandSubscriber>>,
    in_process: Option<Arc<InProcessPublisher>>,
}

impl Broker {
    /// Stops taking commands at shutdown. True if the subscriber then drains
    /// what is queued and ends by itself (the in-process channel); a Kafka
    /// subscriber runs until told to stop, and what it has not committed is
    /// delivered again to the next consumer.
    pub fn close(&self) -> bool {
        match &self.in_process {
            Some(channel) => {
                channel.close();
                true
            }
            None => false,
        }
    }
}

/// Opens what `needs` names on `broker.kind`. `Ok(None)` if `shutdown` fired
/// while Kafka was still awaited.
pub(crate) async fn open_broker(
    settings: &Settings,
    needs: BrokerNeeds,
    metrics: &Arc<Metrics>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<Broker>> {
    match settings.broker.kind {
        BrokerKind::InProcess => {
            let (publisher, subscriber) =
                in_process::channel(settings.broker.in_process_capacity, metrics.clone());
            let publisher = Arc::new(publisher);
            Ok(Some(Broker {
                publisher: Some(publisher.clone()),
                subscriber: Some(Box::new(subscriber)),
                in_process: Some(publisher),
            }))
        }
        BrokerKind::Kafka => {
            let kafka = &settings.kafka;
            if wait_for("Kafka topics", shutdown, || kafka::ensure_topics(kafka))
                .await
                .is_none()
            {
                return Ok(None);
            }
            let publisher: Option<Arc<dyn CommandPublisher>> = if needs.publish {
                let producer = KafkaProducer::new(kafka)?;
                Some(Arc::new(KafkaPublisher::new(producer, kafka)))
            } else {
                None
            };
            let subscriber: Option<Box<dyn CommandSubscriber>> = if needs.subscribe {
                Some(Box::new(KafkaSubscriber::new(kafka, metrics.clone())?))
            } else {
                None
            };
            Ok(Some(Broker {
                publisher,
                subscriber,
                in_process: None,
            }))
        }
    }
}

/// A part a role asked for; opening it is the `open_*` functions' promise.
pub(crate) fn opened<T>(part: Option<T>, what: &str) -> anyhow::Result<T> {
    part.with_context(|| format!("{what} was not opened"))
}

/// The command keys of a role that signs or checks commands; `secret` is
/// role `all`'s server secret, the fallback when none is configured.
pub(crate) fn command_keys(
    settings: &Settings,
    secret: Option<&crate::secrets::ServerSecret>,
) -> anyhow::Result<Arc<CommandKeys>> {
    let keys = CommandKeys::from_settings(
        &settings.broker.command_key,
        &settings.broker.previous_command_keys,
        secret,
    )?;
    tracing::info!(key_id = keys.current_id(), "command key");
    Ok(Arc::new(keys))
}

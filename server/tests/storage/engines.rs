//! The engines under test, behind the store traits, and the runner that
//! applies every case to one of them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use gophkeeper_server::auth::postgres::PgAuthStore;
use gophkeeper_server::auth::sqlite::SqliteAuthStore;
use gophkeeper_server::auth::store::AuthStore;
use gophkeeper_server::vault::{VaultReader, VaultWriter, postgres, sqlite};
use sqlx::PgPool;

use crate::pg_local::PgCluster;

/// One case: a name for the report and the test itself.
pub type Case = (&'static str, fn(Stores) -> BoxFuture<'static, ()>);

/// Turns `async fn name(stores: Stores)` into a [`Case`].
macro_rules! case {
    ($name:ident) => {{
        fn run(stores: $crate::engines::Stores) -> ::futures::future::BoxFuture<'static, ()> {
            Box::pin($name(stores))
        }
        (
            stringify!($name),
            run as fn($crate::engines::Stores) -> ::futures::future::BoxFuture<'static, ()>,
        )
    }};
}
pub(crate) use case;

/// The stores of one engine. Cases share them, so each case makes its own
/// users and records and never looks at anyone else's.
#[derive(Clone)]
pub struct Stores {
    pub writer: Arc<dyn VaultWriter>,
    pub reader: Arc<dyn VaultReader>,
    pub auth: Arc<dyn AuthStore>,
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Sqlite {
        writer: sqlite::SqliteVaultWriter,
        reader: sqlite::SqliteVaultReader,
        auth: SqliteAuthStore,
    },
    Postgres(Arc<PgHandles>),
}

/// What only the PostgreSQL cases need: the concrete stores, superuser pools
/// on both vault servers and the URLs `scripts/pg-local` printed.
pub struct PgHandles {
    pub writer: postgres::PgVaultWriter,
    pub reader: postgres::PgVaultReader,
    pub auth: PgAuthStore,
    pub primary_admin: PgPool,
    pub replica_admin: PgPool,
    pub urls: HashMap<String, String>,
}

impl Stores {
    pub async fn sqlite(dir: &Path) -> Self {
        let (writer, reader) = sqlite::open(&dir.join("vault.db")).await.unwrap();
        let auth = SqliteAuthStore::open(&dir.join("auth.db")).await.unwrap();
        Self {
            writer: Arc::new(writer.clone()),
            reader: Arc::new(reader.clone()),
            auth: Arc::new(auth.clone()),
            engine: Engine::Sqlite {
                writer,
                reader,
                auth,
            },
        }
    }

    pub async fn postgres(cluster: &PgCluster) -> Self {
        let url = |key: &str| cluster.url(key);
        let auth = PgAuthStore::open(&url("GOPHKEEPER__POSTGRES__AUTH_URL"), 4)
            .await
            .expect("open the auth store");
        let writer = postgres::open_writer(&url("GOPHKEEPER__POSTGRES__VAULT_PRIMARY_URL"), 8)
            .await
            .expect("open the vault writer on the primary");
        let reader = postgres::open_reader(&url("GOPHKEEPER__POSTGRES__VAULT_REPLICA_URL"), 4)
            .await
            .expect("open the vault reader on the replica");
        let primary_admin = PgPool::connect(&url("PG_LOCAL_PRIMARY_ADMIN_URL"))
            .await
            .unwrap();
        let replica_admin = PgPool::connect(&url("PG_LOCAL_REPLICA_ADMIN_URL"))
            .await
            .unwrap();
        let handles = PgHandles {
            writer: writer.clone(),
            reader: reader.clone(),
            auth: auth.clone(),
            primary_admin,
            replica_admin,
            urls: cluster.urls.clone(),
        };
        Self {
            writer: Arc::new(writer),
            reader: Arc::new(reader),
            auth: Arc::new(auth),
            engine: Engine::Postgres(Arc::new(handles)),
        }
    }

    /// The PostgreSQL handles; only PostgreSQL cases call this.
    pub fn pg(&self) -> &PgHandles {
        match &self.engine {
            Engine::Postgres(handles) => handles,
            Engine::Sqlite { .. } => panic!("a PostgreSQL case ran on SQLite"),
        }
    }

    /// Waits until the reader has everything the writer committed so far.
    /// SQLite's reader reads the same file; the replica replays the
    /// primary's WAL, so wait until it has replayed past the primary's
    /// current position. A case that then checks "nothing changed" checks
    /// it for real, not against a replica that is merely behind.
    pub async fn settle(&self) {
        let Engine::Postgres(pg) = &self.engine else {
            return;
        };
        let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
            .fetch_one(&pg.primary_admin)
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let replayed: bool = sqlx::query_scalar(
                "SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)",
            )
            .bind(&lsn)
            .fetch_one(&pg.replica_admin)
            .await
            .unwrap();
            if replayed {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the replica did not replay up to {lsn} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn close(&self) {
        match &self.engine {
            Engine::Sqlite {
                writer,
                reader,
                auth,
            } => {
                writer.close().await;
                reader.close().await;
                auth.close().await;
            }
            Engine::Postgres(pg) => {
                pg.writer.close().await;
                pg.reader.close().await;
                pg.auth.close().await;
                pg.primary_admin.close().await;
                pg.replica_admin.close().await;
            }
        }
    }
}

/// Runs every case as its own task (so they also run concurrently against
/// one set of stores), then fails naming each case that failed. A case's
/// panic message is printed by the panic hook when it happens.
pub async fn run_cases(engine: &str, stores: &Stores, cases: Vec<Case>) {
    let started = Instant::now();
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|(name, case)| (name, tokio::spawn(case(stores.clone()))))
        .collect();
    let mut failed = Vec::new();
    let total = tasks.len();
    for (name, task) in tasks {
        match task.await {
            Ok(()) => eprintln!("{engine}: {name} ok"),
            Err(err) => {
                eprintln!("{engine}: {name} FAILED: {err}");
                failed.push(name);
            }
        }
    }
    eprintln!(
        "{engine}: {} of {total} cases passed in {:.1?}",
        total - failed.len(),
        started.elapsed()
    );
    assert!(failed.is_empty(), "{engine}: failed cases: {failed:?}");
}

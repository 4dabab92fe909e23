//! A real server per test, and devices (profile directories) that talk to it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::Connection;

use gophkeeper_client::internals::{MasterKey, VaultKey};
use gophkeeper_client::item::{CustomField, Item, Payload};
use gophkeeper_client::vault::{
    ConnectOptions, ServerUrl, SyncEvent, Trust, TrustRequest, Vault, stored_profile,
};
use gophkeeper_server::roles::all::{self as single_node, ServerHandle};
use gophkeeper_server::settings::{Settings, StorageEngine};
use secrecy::SecretString;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::pg_local::PgCluster;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub data: TempDir,
    pub addr: SocketAddr,
    handle: Option<ServerHandle>,
    tweak: fn(&mut Settings),
    /// The (auth, vault) databases when the server runs on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: fn(&mut Settings)) -> Self {
        Self::start_on(tweak, None).await
    }

    /// The single node on PostgreSQL (auth and vault databases of `pg`,
    /// no replica, so a row the test rewrites is what the next query
    /// reads).
    pub async fn start_on_postgres(pg: &PgCluster) -> Self {
        let urls = (
            pg.url("GOPHKEEPER__POSTGRES__AUTH_URL"),
            pg.url("GOPHKEEPER__POSTGRES__VAULT_PRIMARY_URL"),
        );
        Self::start_on(|_| {}, Some(urls)).await
    }

    async fn start_on(tweak: fn(&mut Settings), postgres: Option<(String, String)>) -> Self {
        let data = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut server = Self {
            data,
            addr,
            handle: None,
            tweak,
            postgres,
        };
        server.handle = Some(server.launch(server.data.path(), listener).await);
        server
    }

    /// The vault database's URL when the server runs on PostgreSQL.
    pub fn vault_url(&self) -> Option<String> {
        self.postgres.as_ref().map(|(_, vault)| vault.clone())
    }

    async fn launch(&self, dir: &Path, listener: TcpListener) -> ServerHandle {
        let mut settings = Settings::load_without_env(None).unwrap();
        settings.set_data_dir(dir.to_owned());
        if let Some((auth, vault)) = &self.postgres {
            settings.storage.engine = StorageEngine::Postgres;
            settings.postgres.auth_url = auth.clone().into();
            settings.postgres.vault_primary_url = vault.clone().into();
            settings.postgres.vault_replica_url = String::new().into();
        }
        (self.tweak)(&mut settings);
        single_node::start(settings, listener).await.unwrap()
    }

    pub async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await.unwrap();
        }
    }

    /// Starts again on the same data directory and address.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.handle = Some(self.launch(self.data.path(), listener).await);
    }

    /// Starts a server with a new data directory (so a new certificate) on
    /// this server's address: what an interception looks like to a client.
    pub async fn replace_with_impostor(&mut self) -> TempDir {
        self.stop().await;
        let other = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.handle = Some(self.launch(other.path(), listener).await);
        other
    }

    pub fn fingerprint(&self) -> String {
        self.handle.as_ref().unwrap().fingerprint.clone()
    }

    pub fn url(&self) -> ServerUrl {
        ServerUrl::parse(&format!("https://{}", self.addr)).unwrap()
    }

    pub fn ca(&self) -> PathBuf {
        self.data.path().join("tls/ca.pem")
    }

    /// Trusting the server's CA file: what most tests use.
    pub fn options(&self) -> ConnectOptions {
        let mut options = ConnectOptions::new(self.url());
        options.trust = TrustRequest::Configured(Trust::CaFile(self.ca()));
        options
    }
}

pub fn password() -> SecretString {
    SecretString::from(PASSWORD)
}

/// The vault key of the profile in `dir`, derived as the client does.
pub async fn vault_key_at(dir: &Path) -> VaultKey {
    let profile = stored_profile(dir).await.unwrap().unwrap();
    let master = MasterKey::derive(&password(), &profile.kdf).unwrap();
    master
        .key_encryption_key()
        .unwrap(&profile.wrapped_vault_key)
        .unwrap()
        .into_current()
}

fn never(_: &str) -> bool {
    panic!("no question expected")
}

/// A device: its own profile directory.
pub struct Device {
    pub dir: TempDir,
}

impl Device {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn profile(&self) -> &Path {
        self.dir.path()
    }

    pub async fn register(&self, server: &TestServer, user: &str) -> Vault {
        Vault::register(
            &server.options(),
            self.profile(),
            user,
            &password(),
            &mut never,
        )
        .await
        .unwrap()
    }

    pub async fn login(&self, server: &TestServer, user: &str) -> Vault {
        Vault::login(
            &server.options(),
            self.profile(),
            user,
            &password(),
            &mut never,
        )
        .await
        .unwrap()
    }

    pub async fn unlock(&self) -> Vault {
        Vault::unlock(self.profile(), &password()).await.unwrap()
    }
}

/// The names of the items `vault` lists, in its order.
pub async fn item_names(vault: &Vault) -> Vec<String> {
    vault
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.item.name.clone())
        .collect()
}

pub fn note(name: &str, text: &str) -> Item {
    let mut item = Item::new(name, Payload::Text { text: text.into() });
    item.fields.push(CustomField::new("kind", "note"));
    item
}

pub fn text_of(item: &Item) -> String {
    match &item.payload {
        Payload::Text { text } => text.clone(),
        Payload::Login { password, .. } => password.clone(),
        other => panic!("unexpected payload {other:?}"),
    }
}

/// Waits for a watch event that satisfies `want`, failing after 20 s.
pub async fn wait_for(events: &mut mpsc::Receiver<SyncEvent>, want: impl Fn(&SyncEvent) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("timed out waiting for a watch event")
            .expect("watch task ended");
        if want(&event) {
            return;
        }
    }
}

/// Polls `check` until it holds, failing after 20 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs one statement on a SQLite file, as someone with the file would.
pub async fn execute_on(file: &Path, statement: &'static str) {
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query(statement).execute(&mut db).await.unwrap();
    db.close().await.unwrap();
}

//! What every case stands on: a server with three users (the caller
//! "alice", the "victim" bob who owns a record, and a "witness" used only as
//! a write barrier), a dump of all server state to prove nothing changed, a
//! raw-bytes gRPC client for malformed messages, and access tokens minted
//! with the server's own signing key.

use std::collections::BTreeMap;
use std::path::Path;

use gophkeeper_proto::v1;
use gophkeeper_server::auth::AccessTokens;
use gophkeeper_server::ids::{SessionId, UserId};
use gophkeeper_server::secrets::ServerSecret;
use gophkeeper_server::settings::Settings;
use prost::bytes::{Buf, BufMut};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Request, Status};
use uuid::Uuid;

use crate::helpers::*;

pub struct Fixture {
    pub app: TestApp,
    pub alice: Device,
    pub bob: Device,
    /// Bob's record: (id, revision, ciphertext).
    pub bob_record: (String, u64, Vec<u8>),
    witness: Device,
}

/// Every row of every table of both databases, in text form, minus the
/// witness's rows (the barrier writes those).
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct State(BTreeMap<String, Vec<String>>);

impl State {
    /// Rows of one table (`"vault.records"`, `"auth.sessions"`, ...).
    pub fn rows(&self, table: &str) -> &[String] {
        self.0.get(table).map_or(&[], Vec::as_slice)
    }

    /// The state with one table left out, for cases that legitimately
    /// write there (a rejected command's outcome is remembered).
    pub fn without(&self, table: &str) -> State {
        let mut tables = self.0.clone();
        tables.remove(table);
        State(tables)
    }
}

pub const BOB_SECRET: &[u8] = b"bob's sealed login record";

impl Fixture {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let app = spawn_app_with(adjust).await;
        let alice = app.new_user().await;
        let bob = app.new_user().await;
        let witness = app.new_user().await;
        let (id, revision) = bob.create(v1::RecordKind::Login, BOB_SECRET).await;
        Self {
            app,
            alice,
            bob,
            bob_record: (id, revision, BOB_SECRET.to_vec()),
            witness,
        }
    }

    /// The whole server state once every command accepted so far has been
    /// applied. The witness submits a command and waits for its outcome: the
    /// single-node broker is one FIFO queue with one consumer, so anything a
    /// refused request might still have queued is applied by then.
    pub async fn state(&self) -> State {
        let barrier = create_cmd(
            &Uuid::new_v4().to_string(),
            v1::RecordKind::Text,
            b"barrier",
        );
        applied(&self.witness.submit(barrier).await.unwrap());
        let witness = Uuid::parse_str(&self.witness.user_id).unwrap();
        let dir = self.app._data_dir.path();
        let mut tables = dump(&dir.join("auth.db"), "auth", witness).await;
        tables.extend(dump(&dir.join("vault.db"), "vault", witness).await);
        State(tables)
    }

    /// Asserts that the server state is what it was in `before`.
    pub async fn assert_unchanged(&self, before: &State) {
        let after = self.state().await;
        assert_eq!(&after, before, "a refused request changed server state");
    }

    /// Calls `method` (e.g. `/gophkeeper.v1.Vault/Submit`) with `body` as the
    /// message bytes, exactly as given: tonic frames them but does not
    /// encode anything, so the server's decoder meets them as they are.
    pub async fn raw(
        &self,
        method: &'static str,
        body: Vec<u8>,
        token: Option<&str>,
    ) -> Result<Vec<u8>, Status> {
        let mut grpc = tonic::client::Grpc::new(self.app.channel.clone());
        grpc.ready().await.unwrap();
        let request = match token {
            Some(token) => bearer(body, token),
            None => Request::new(body),
        };
        grpc.unary(
            request,
            http::uri::PathAndQuery::from_static(method),
            RawCodec,
        )
        .await
        .map(tonic::Response::into_inner)
    }

    /// The user's revision and live records, as the API reports them.
    pub async fn vault_of(device: &Device) -> (u64, Vec<v1::Record>) {
        let changes = device.changes(0).await.unwrap();
        (changes.current_revision, changes.records)
    }
}

/// Signs an access token with the server's own key (the tests configure the
/// secret, so they can derive it as the server does).
pub fn mint(user: &str, session: &str, issued_secs_ago: u64, ttl: u64) -> String {
    let tokens = AccessTokens::new(&access_token_key(), ttl);
    tokens
        .issue(
            UserId::parse("sub", user).unwrap(),
            SessionId::parse("sid", session).unwrap(),
            now_secs() - issued_secs_ago,
        )
        .unwrap()
        .0
}

/// The HS256 key the server signs access tokens with.
pub fn access_token_key() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let secret = ServerSecret::load_or_create(&TEST_SECRET.to_owned().into(), dir.path()).unwrap();
    secret.derive("access-token").as_ref().to_vec()
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Dumps every table of a SQLite file, each row as `quote(col)|quote(col)...`,
/// sorted; rows whose `user_id` is `skip` are left out.
async fn dump(path: &Path, prefix: &str, skip: Uuid) -> BTreeMap<String, Vec<String>> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let row = columns
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let filter = if columns.iter().any(|c| c == "user_id") {
            "WHERE user_id IS NOT ?"
        } else {
            "WHERE ? IS NOT NULL"
        };
        let sql = format!("SELECT {row} FROM \"{table}\" {filter} ORDER BY 1");
        let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(skip)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        out.insert(format!("{prefix}.{table}"), rows);
    }
    out
}

/// Passes message bytes through untouched, both ways.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut bytes = vec![0; src.remaining()];
        src.copy_to_slice(&mut bytes);
        Ok(Some(bytes))
    }
}

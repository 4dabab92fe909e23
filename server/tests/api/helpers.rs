//! `spawn_app()` and typed helpers shared by every test module.

// Shared by several test binaries; each uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gophkeeper_proto::opaque::Suite;
use gophkeeper_proto::opaque::opaque_ke::argon2::{Algorithm, Argon2, Params, Version};
use gophkeeper_proto::opaque::opaque_ke::errors::ProtocolError;
use gophkeeper_proto::opaque::opaque_ke::{
    ClientLogin, ClientLoginFinishParameters, ClientRegistration,
    ClientRegistrationFinishParameters, CredentialResponse, Identifiers, RegistrationResponse,
};
use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use gophkeeper_proto::v1::vault_client::VaultClient;
use gophkeeper_server::roles::all::{self as single_node, ServerHandle};
use gophkeeper_server::settings::Settings;
use rand::rngs::OsRng;
use tempfile::TempDir;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request, Status};
use uuid::Uuid;

/// A known server secret, so tests can mint tokens the way the server does.
pub const TEST_SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

pub struct TestApp {
    pub server: Option<ServerHandle>,
    /// Kept so the directory lives as long as the app.
    pub _data_dir: TempDir,
    pub settings: Settings,
    pub account: AccountClient<Channel>,
    pub vault: VaultClient<Channel>,
    pub channel: Channel,
}

pub fn test_settings(dir: PathBuf) -> Settings {
    let mut settings = Settings::load_without_env(None).unwrap();
    settings.set_data_dir(dir);
    settings.auth.secret = TEST_SECRET.to_owned().into();
    // Cheap server-side hashing keeps the tests fast; the cost is a setting.
    settings.auth.hash_memory_kib = 1024;
    settings.auth.hash_iterations = 1;
    settings.auth.login_attempts_per_minute_per_peer = 10_000;
    settings.auth.login_attempts_per_minute_per_user = 1_000;
    settings.query.min_revision_wait_ms = 200;
    settings
}

/// What the tests of a binary run against. The same story runs on a
/// single node (`tests/api`) and on a cluster of processes (`tests/cluster`).
#[derive(Clone, Copy)]
pub enum Target {
    /// A fresh in-process server per test.
    SingleNode,
    /// One cluster for the whole binary: gateway URL and its CA file.
    Cluster(fn() -> (String, PathBuf)),
}

pub async fn spawn_app() -> TestApp {
    match crate::TARGET {
        Target::SingleNode => spawn_app_with(|_| {}).await,
        Target::Cluster(gateway) => {
            let (url, ca) = tokio::task::spawn_blocking(gateway).await.unwrap();
            let channel = Endpoint::from_shared(url)
                .unwrap()
                .tls_config(
                    ClientTlsConfig::new()
                        .ca_certificate(Certificate::from_pem(std::fs::read(ca).unwrap()))
                        .domain_name("localhost"),
                )
                .unwrap()
                .connect()
                .await
                .unwrap();
            let data_dir = tempfile::tempdir().unwrap();
            let settings = test_settings(data_dir.path().to_owned());
            TestApp {
                server: None,
                _data_dir: data_dir,
                settings,
                account: AccountClient::new(channel.clone()),
                vault: VaultClient::new(channel.clone()).max_decoding_message_size(16 << 20),
                channel,
            }
        }
    }
}

/// A single node with adjusted settings (a cluster's settings are fixed for
/// the whole run, so these tests run on a single node only).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    assert!(
        matches!(crate::TARGET, Target::SingleNode),
        "this test needs its own server settings; it belongs in a single-node module"
    );
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(data_dir.path().to_owned());
    adjust(&mut settings);
    let (server, channel) = start(&settings).await;
    TestApp {
        server: Some(server),
        _data_dir: data_dir,
        settings,
        account: AccountClient::new(channel.clone()),
        vault: VaultClient::new(channel.clone()).max_decoding_message_size(16 << 20),
        channel,
    }
}

async fn start(settings: &Settings) -> (ServerHandle, Channel) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = single_node::start(settings.clone(), listener)
        .await
        .unwrap();
    let channel = connect(&server).await;
    (server, channel)
}

/// A TLS channel that trusts only the CA the server generated.
pub async fn connect(server: &ServerHandle) -> Channel {
    let ca = std::fs::read(server.ca_path.as_ref().unwrap()).unwrap();
    Endpoint::from_shared(format!("https://localhost:{}", server.local_addr.port()))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap()
}

impl TestApp {
    /// Stops the server gracefully and starts it again on the same data
    /// directory (and a new port).
    pub async fn restart(&mut self) {
        let server = self
            .server
            .take()
            .expect("restart needs a single-node server");
        server.shutdown().await.unwrap();
        let (server, channel) = start(&self.settings).await;
        self.server = Some(server);
        self.account = AccountClient::new(channel.clone());
        self.vault = VaultClient::new(channel.clone()).max_decoding_message_size(16 << 20);
        self.channel = channel;
    }

    /// Registers with OPAQUE; `password` is any bytes (the tests' stand-in
    /// for a typed password).
    pub async fn register(&self, username: &str, password: &[u8]) -> Result<String, Status> {
        register_on(&self.account, username, password).await
    }

    /// Logs in with OPAQUE. A password that does not open the server's
    /// answer still sends a (wrong) finish, so the server's refusal is what
    /// the caller sees, as with a client that lies about its proof.
    pub async fn login(
        &self,
        username: &str,
        password: &[u8],
    ) -> Result<v1::LoginResponse, Status> {
        login_on(&self.account, username, password, "").await
    }

    /// Writes an account as a server from before OPAQUE kept it: an
    /// Argon2id hash of the client's auth key (here `auth_key`, at
    /// `memory_kib`), no OPAQUE record.
    pub async fn plant_legacy_user(&self, username: &str, auth_key: &[u8], memory_kib: u32) {
        use gophkeeper_server::auth::store::{AuthStore, Credential, NewUser, StoredKdf};
        let store = gophkeeper_server::auth::sqlite::SqliteAuthStore::open(
            &self._data_dir.path().join("auth.db"),
        )
        .await
        .unwrap();
        let hasher = gophkeeper_server::auth::AuthKeyHasher::new(memory_kib, 1).unwrap();
        let kdf = kdf(username);
        let user = NewUser {
            user_id: gophkeeper_server::ids::UserId::new_random(),
            username: username.into(),
            username_key: gophkeeper_server::auth::username::key(username).unwrap(),
            credential: Credential::Legacy(hasher.hash(auth_key).unwrap()),
            kdf: StoredKdf {
                algorithm: kdf.algorithm,
                memory_kib: kdf.memory_kib,
                iterations: kdf.iterations,
                parallelism: kdf.parallelism,
                salt: kdf.salt,
            },
            wrapped_vault_key: wrapped_key(username),
        };
        store.create_user(&user, 0).await.unwrap();
        store.close().await;
    }

    /// The login of an account not yet moved to OPAQUE.
    pub async fn legacy_login(
        &self,
        username: &str,
        auth_key: &[u8],
    ) -> Result<v1::LoginResponse, Status> {
        self.account
            .clone()
            .login(v1::LoginRequest {
                username: username.into(),
                auth_key: auth_key.to_vec(),
                device_name: "old client".into(),
                second_factor: String::new(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// [`TestApp::login`] with a second factor.
    pub async fn login_with_code(
        &self,
        username: &str,
        password: &[u8],
        code: &str,
    ) -> Result<v1::LoginResponse, Status> {
        login_on(&self.account, username, password, code).await
    }

    /// Registers a fresh user and logs one device in.
    pub async fn new_user(&self) -> Device {
        let username = format!("user-{}", Uuid::new_v4());
        let key = auth_key(&username);
        self.register(&username, &key).await.unwrap();
        self.device(&username).await
    }

    /// Another signed-in device of an existing user.
    pub async fn device(&self, username: &str) -> Device {
        self.device_with_key(username, &auth_key(username)).await
    }

    /// A signed-in device of a user whose auth key changed.
    pub async fn device_with_key(&self, username: &str, key: &[u8]) -> Device {
        let login = self.login(username, key).await.unwrap();
        Device {
            username: username.to_owned(),
            user_id: login.user_id,
            session_id: login.session_id,
            tokens: login.tokens.unwrap(),
            vault: self.vault.clone(),
            account: self.account.clone(),
            known: Arc::default(),
        }
    }
}

/// OPAQUE's key-stretching function for tests: Argon2id at its cheapest.
/// The server never runs it, so it cannot tell.
pub fn test_ksf() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(8, 1, 1, None).unwrap(),
    )
}

/// Registration as a client runs it: start, the server's OPRF answer,
/// finish, upload.
pub async fn register_on(
    account: &AccountClient<Channel>,
    username: &str,
    password: &[u8],
) -> Result<String, Status> {
    let upload = opaque_upload(account, username, password).await?;
    let response = account
        .clone()
        .register(v1::RegisterRequest {
            username: username.into(),
            kdf: Some(kdf(username)),
            registration_upload: upload,
            wrapped_vault_key: wrapped_key(username),
        })
        .await?;
    Ok(response.into_inner().user_id)
}

/// An OPAQUE registration upload for `password`, the server's answer from
/// RegisterStart.
pub async fn opaque_upload(
    account: &AccountClient<Channel>,
    username: &str,
    password: &[u8],
) -> Result<Vec<u8>, Status> {
    let start = ClientRegistration::<Suite>::start(&mut OsRng, password).unwrap();
    let answer = account
        .clone()
        .register_start(v1::RegisterStartRequest {
            username: username.into(),
            registration_request: start.message.serialize().to_vec(),
        })
        .await?
        .into_inner();
    Ok(finish_registration(
        start.state,
        password,
        &answer.registration_response,
    ))
}

pub fn finish_registration(
    state: ClientRegistration<Suite>,
    password: &[u8],
    response: &[u8],
) -> Vec<u8> {
    let ksf = test_ksf();
    state
        .finish(
            &mut OsRng,
            password,
            RegistrationResponse::deserialize(response).unwrap(),
            ClientRegistrationFinishParameters::new(Identifiers::default(), Some(&ksf)),
        )
        .unwrap()
        .message
        .serialize()
        .to_vec()
}

/// A login's first round trip and the client's finish message: a wrong
/// password (the answer does not open) gives 64 zero bytes, a finish the
/// server must refuse.
pub async fn opaque_login_start(
    account: &AccountClient<Channel>,
    username: &str,
    password: &[u8],
) -> Result<(v1::LoginStartResponse, Vec<u8>), Status> {
    let (answer, finish) = client_finish(account, username, password).await?;
    Ok((answer, finish.unwrap_or_else(|_| vec![0; 64])))
}

/// A login's first round trip and what the client makes of the answer:
/// its finish message, or why the answer does not open.
pub async fn client_finish(
    account: &AccountClient<Channel>,
    username: &str,
    password: &[u8],
) -> Result<(v1::LoginStartResponse, Result<Vec<u8>, ProtocolError>), Status> {
    let start = ClientLogin::<Suite>::start(&mut OsRng, password).unwrap();
    let answer = account
        .clone()
        .login_start(v1::LoginStartRequest {
            username: username.into(),
            credential_request: start.message.serialize().to_vec(),
        })
        .await?
        .into_inner();
    let ksf = test_ksf();
    let finish = CredentialResponse::<Suite>::deserialize(&answer.credential_response)
        .and_then(|response| {
            start.state.finish(
                &mut OsRng,
                password,
                response,
                ClientLoginFinishParameters::new(None, Identifiers::default(), Some(&ksf)),
            )
        })
        .map(|done| done.message.serialize().to_vec());
    Ok((answer, finish))
}

/// Every file below `dir`.
pub fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

pub async fn login_on(
    account: &AccountClient<Channel>,
    username: &str,
    password: &[u8],
    code: &str,
) -> Result<v1::LoginResponse, Status> {
    let (start, finalization) = opaque_login_start(account, username, password).await?;
    account
        .clone()
        .login_finish(v1::LoginFinishRequest {
            login_id: start.login_id,
            credential_finalization: finalization,
            device_name: "test device".into(),
            second_factor: code.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Proof of `password` for a signed-in change of `username`'s account.
pub async fn password_proof(
    account: &AccountClient<Channel>,
    username: &str,
    password: &[u8],
) -> v1::PasswordProof {
    let (start, finalization) = opaque_login_start(account, username, password)
        .await
        .unwrap();
    v1::PasswordProof {
        proof: Some(v1::password_proof::Proof::Opaque(v1::OpaqueProof {
            login_id: start.login_id,
            credential_finalization: finalization,
        })),
    }
}

/// The deterministic stand-in for a typed password (bytes, not text: the
/// tests' OPAQUE takes any).
pub fn auth_key(username: &str) -> Vec<u8> {
    let mut key = [0u8; 32];
    for (i, b) in username.bytes().enumerate() {
        key[i % 32] ^= b;
    }
    key[31] ^= 0x5A;
    key.to_vec()
}

pub fn wrapped_key(username: &str) -> Vec<u8> {
    let mut wrapped = b"wrapped-vault-key:".to_vec();
    wrapped.extend_from_slice(username.as_bytes());
    wrapped.resize(73, 0);
    wrapped
}

pub fn kdf(username: &str) -> v1::KdfParams {
    let mut salt = [7u8; 16];
    salt[0] = username.len() as u8;
    v1::KdfParams {
        algorithm: "argon2id-user-salt".into(),
        memory_kib: 65536,
        iterations: 3,
        parallelism: 4,
        salt: salt.to_vec(),
    }
}

/// One signed-in device with clients that carry its access token.
#[derive(Clone)]
pub struct Device {
    pub username: String,
    pub user_id: String,
    pub session_id: String,
    pub tokens: v1::TokenPair,
    pub vault: VaultClient<Channel>,
    pub account: AccountClient<Channel>,
    /// The newest revision this device knows was applied; its queries ask
    /// for at least that (read your writes, which a replica needs).
    pub known: Arc<AtomicU64>,
}

pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

impl Device {
    /// An OPAQUE registration upload of a new password for this account.
    pub async fn new_password_upload(&self, password: &[u8]) -> Vec<u8> {
        let start = ClientRegistration::<Suite>::start(&mut OsRng, password).unwrap();
        let answer = self
            .account
            .clone()
            .change_password_start(self.req(v1::ChangePasswordStartRequest {
                registration_request: start.message.serialize().to_vec(),
            }))
            .await
            .unwrap()
            .into_inner();
        finish_registration(start.state, password, &answer.registration_response)
    }

    /// Proof of `password` for a change of this account.
    pub async fn proof(&self, password: &[u8]) -> v1::PasswordProof {
        password_proof(&self.account, &self.username, password).await
    }

    pub fn req<T>(&self, message: T) -> Request<T> {
        bearer(message, &self.tokens.access_token)
    }

    /// Records that a revision is known to exist (e.g. from a Watch event).
    pub fn saw(&self, revision: u64) {
        self.known.fetch_max(revision, Ordering::Relaxed);
    }

    pub fn min_revision(&self) -> u64 {
        self.known.load(Ordering::Relaxed)
    }

    /// Submits and waits for the outcome. Like a real client, it resends the
    /// same command id if the server's wait ran out (a loaded machine, a
    /// consumer rebalance): that is always safe, and still applies it once.
    pub async fn submit(&self, command: v1::Command) -> Result<v1::CommandOutcome, Status> {
        let mut outcome = None;
        for _ in 0..4 {
            let response = self
                .vault
                .clone()
                .submit(self.req(v1::SubmitRequest {
                    command: Some(command.clone()),
                    wait_for_outcome: true,
                }))
                .await?
                .into_inner();
            outcome = response.outcome;
            if outcome.is_some() {
                break;
            }
        }
        let outcome = outcome.expect("an outcome within four waits");
        match &outcome.result {
            Some(v1::command_outcome::Result::Applied(applied)) => self.saw(applied.revision),
            Some(v1::command_outcome::Result::Conflict(conflict)) => {
                self.saw(conflict.current.as_ref().map_or(0, |r| r.revision));
            }
            _ => {}
        }
        Ok(outcome)
    }

    /// Creates a record and returns (record id, revision).
    pub async fn create(&self, kind: v1::RecordKind, ciphertext: &[u8]) -> (String, u64) {
        let record_id = Uuid::new_v4().to_string();
        let outcome = self
            .submit(create_cmd(&record_id, kind, ciphertext))
            .await
            .unwrap();
        (record_id, applied(&outcome))
    }

    pub async fn changes(&self, since: u64) -> Result<v1::ChangesResponse, Status> {
        self.vault
            .clone()
            .changes(self.req(v1::ChangesRequest {
                since_revision: since,
                page_size: 0,
                min_revision: self.min_revision(),
            }))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get(&self, ids: &[&str]) -> Result<Vec<v1::Record>, Status> {
        self.vault
            .clone()
            .get_records(self.req(v1::GetRecordsRequest {
                record_ids: ids.iter().map(|s| s.to_string()).collect(),
                min_revision: self.min_revision(),
            }))
            .await
            .map(|r| r.into_inner().records)
    }
}

pub fn create_cmd(record_id: &str, kind: v1::RecordKind, ciphertext: &[u8]) -> v1::Command {
    v1::Command {
        command_id: Uuid::new_v4().to_string(),
        op: Some(v1::command::Op::Create(v1::CreateRecord {
            record_id: record_id.into(),
            kind: kind as i32,
            ciphertext: ciphertext.to_vec(),
        })),
    }
}

pub fn update_cmd(record_id: &str, base_revision: u64, ciphertext: &[u8]) -> v1::Command {
    v1::Command {
        command_id: Uuid::new_v4().to_string(),
        op: Some(v1::command::Op::Update(v1::UpdateRecord {
            record_id: record_id.into(),
            base_revision,
            ciphertext: ciphertext.to_vec(),
        })),
    }
}

pub fn delete_cmd(record_id: &str, base_revision: u64) -> v1::Command {
    v1::Command {
        command_id: Uuid::new_v4().to_string(),
        op: Some(v1::command::Op::Delete(v1::DeleteRecord {
            record_id: record_id.into(),
            base_revision,
            tombstone: Vec::new(),
        })),
    }
}

/// The revision an outcome says the command was applied at; panics otherwise.
pub fn applied(outcome: &v1::CommandOutcome) -> u64 {
    match &outcome.result {
        Some(v1::command_outcome::Result::Applied(applied)) => applied.revision,
        other => panic!("expected applied, got {other:?}"),
    }
}

/// Asserts the status code and `gk-reason`, returns the message.
pub fn assert_status(status: &Status, code: Code, reason: &str) -> String {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(
        gophkeeper_server::status::reason(status),
        Some(reason),
        "{status:?}"
    );
    status.message().to_owned()
}

pub const WAIT: Duration = Duration::from_secs(5);

/// `GET /metrics` over plain HTTP/1.0; the body.
pub async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        b"GET /metrics HTTP/1.0\r\nHost: test\r\n\r\n",
    )
    .await
    .unwrap();
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response)
        .await
        .unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_owned()
}

/// The value of the sample `line` (name with labels) in `text`.
pub fn sample(text: &str, line: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line)?.strip_prefix(' ')?.parse().ok())
}

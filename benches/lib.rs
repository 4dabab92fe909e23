//! Shared set-up for the benches: a single-node server in process, on port 0
//! in a temporary directory, and a TLS client signed in as a fresh user.

// Bench set-up, not a request handler: a failure should stop the run loudly.
#![allow(clippy::expect_used, clippy::panic)]

pub mod opaque;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use gophkeeper_proto::v1::vault_client::VaultClient;
use gophkeeper_server::roles::all::{self as single_node, ServerHandle};
use gophkeeper_server::settings::Settings;
use tonic::Request;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// A running server with one signed-in client.
#[derive(Debug)]
pub struct BenchServer {
    pub server: ServerHandle,
    /// The signed-in client's TLS connection, for other services on the
    /// same gateway (the gRPC health check).
    pub channel: Channel,
    pub vault: VaultClient<Channel>,
    access_token: String,
    _data_dir: tempfile::TempDir,
}

impl BenchServer {
    /// A server with the default settings.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server with the default settings changed by `adjust` (a bench
    /// that logs in once per iteration must lift the login rate limit).
    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::load_without_env(None).expect("default settings");
        settings.set_data_dir(data_dir.path().to_owned());
        adjust(&mut settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let server = single_node::start(settings, listener).await.expect("start");
        let ca = std::fs::read(server.ca_path.as_ref().expect("generated CA")).expect("CA");
        let channel =
            Endpoint::from_shared(format!("https://localhost:{}", server.local_addr.port()))
                .expect("endpoint")
                .tls_config(
                    ClientTlsConfig::new()
                        .ca_certificate(Certificate::from_pem(ca))
                        .domain_name("localhost"),
                )
                .expect("tls")
                .connect()
                .await
                .expect("connect");
        let mut account = AccountClient::new(channel.clone());
        let username = format!("bench-{}", uuid::Uuid::new_v4());
        opaque::register(
            &mut account,
            &username,
            &[7; 32],
            opaque::kdf(),
            vec![9; 73],
        )
        .await
        .expect("register");
        let login = opaque::login(&mut account, &username, &[7; 32], "bench")
            .await
            .expect("login");
        Self {
            server,
            channel: channel.clone(),
            vault: VaultClient::new(channel).max_decoding_message_size(16 << 20),
            access_token: login.tokens.expect("tokens").access_token,
            _data_dir: data_dir,
        }
    }

    /// The gateway's URL, as a client configures it.
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.server.local_addr.port())
    }

    pub fn req<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let value = format!("Bearer {}", self.access_token)
            .parse()
            .expect("ascii token");
        request.metadata_mut().insert("authorization", value);
        request
    }

    /// Creates a record and waits until it is applied; returns its revision.
    pub async fn create(&self, ciphertext: Vec<u8>) -> u64 {
        let command = v1::Command {
            command_id: uuid::Uuid::new_v4().to_string(),
            op: Some(v1::command::Op::Create(v1::CreateRecord {
                record_id: uuid::Uuid::new_v4().to_string(),
                kind: v1::RecordKind::Login as i32,
                ciphertext,
            })),
        };
        let response = self
            .vault
            .clone()
            .submit(self.req(v1::SubmitRequest {
                command: Some(command),
                wait_for_outcome: true,
            }))
            .await
            .expect("submit")
            .into_inner();
        match response.outcome.and_then(|o| o.result) {
            Some(v1::command_outcome::Result::Applied(applied)) => applied.revision,
            other => panic!("not applied: {other:?}"),
        }
    }
}

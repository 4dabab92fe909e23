//! The API gateway: the only public endpoint. Terminates TLS, authenticates
//! every vault call through the auth service, enforces request size and
//! stream limits, and routes to the internal services through their gRPC
//! interfaces. Its only state is the event hub that feeds `Watch` and
//! "wait for outcome".

mod account;
mod connections;
mod conventions;
pub mod internal;
pub mod proxy_protocol;
mod vault;

use std::sync::Arc;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_server::AccountServer;
use gophkeeper_proto::v1::auth_service_client::AuthServiceClient;
use gophkeeper_proto::v1::command_service_client::CommandServiceClient;
use gophkeeper_proto::v1::query_service_client::QueryServiceClient;
use gophkeeper_proto::v1::vault_server::VaultServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic::{Code, Status};

pub use self::internal::InternalChannel;
use crate::events::EventHub;
use crate::metrics::{GrpcMetricsLayer, Metrics};
use crate::settings::GatewaySettings;
use crate::status::{REASON_KEY, RETRY_AFTER_KEY, with_reason};

/// The gateway's connections to the internal services.
#[derive(Debug, Clone)]
pub struct Backends {
    pub auth: AuthServiceClient<InternalChannel>,
    pub query: QueryServiceClient<InternalChannel>,
    pub commands: CommandServiceClient<InternalChannel>,
}

impl Backends {
    pub fn new(auth: InternalChannel, query: InternalChannel, commands: InternalChannel) -> Self {
        Self {
            auth: AuthServiceClient::new(auth),
            query: QueryServiceClient::new(query),
            commands: CommandServiceClient::new(commands),
        }
    }
}

/// Serves the public API on `listener` until `shutdown` fires, then stops
/// accepting, ends `Watch` streams and lets in-flight calls finish.
pub async fn serve(
    listener: TcpListener,
    identity: Identity,
    backends: Backends,
    hub: Arc<EventHub>,
    settings: GatewaySettings,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let account = account::AccountApi::new(backends.clone());
    let vault = vault::VaultApi::new(
        backends,
        hub,
        settings.clone(),
        metrics.clone(),
        shutdown.clone(),
    );

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<AccountServer<account::AccountApi>>()
        .await;
    health_reporter
        .set_serving::<VaultServer<vault::VaultApi>>()
        .await;
    let public = public_descriptors()?;
    let reflection = || {
        PUBLIC_SERVICES.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_file_descriptor_set(public.clone())
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |builder, name| builder.with_service_name(*name),
        )
    };

    let incoming = connections::admit(
        TcpIncoming::from(listener).with_nodelay(Some(true)),
        settings.max_connections_per_client,
        settings.trusted_proxies.clone(),
    );
    Server::builder()
        .layer(GrpcMetricsLayer(metrics))
        .layer(tower::util::MapResponseLayer::new(
            conventions::conventional,
        ))
        .tls_config(ServerTlsConfig::new().identity(identity))?
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(30)))
        .max_concurrent_streams(Some(settings.max_concurrent_streams_per_connection))
        .add_service(
            AccountServer::new(account).max_decoding_message_size(settings.max_request_bytes),
        )
        .add_service(VaultServer::new(vault).max_decoding_message_size(settings.max_request_bytes))
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// What reflection lists on the public port: the services a client can
/// call there, not the internal ones behind the gateway.
const PUBLIC_SERVICES: [&str; 5] = [
    "gophkeeper.v1.Account",
    "gophkeeper.v1.Vault",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// The proto files of the public API: without `internal.proto`, so that
/// reflection does not describe the internal services either.
fn public_descriptors() -> anyhow::Result<prost_types::FileDescriptorSet> {
    let mut set: prost_types::FileDescriptorSet =
        prost::Message::decode(gophkeeper_proto::FILE_DESCRIPTOR_SET)?;
    set.file
        .retain(|file| !file.name().ends_with("internal.proto"));
    Ok(set)
}

/// Passes an internal service's error on to the client: its code, message
/// and reason, and nothing else from its metadata.
///
/// Our services never answer UNKNOWN or CANCELLED themselves: the gRPC
/// client makes those up when the connection to the service drops in the
/// middle of a call (the process died). To the client that is "the service
/// is unavailable, retry", which every call here is safe to do (commands
/// carry their id), so it is said that way.
pub(crate) fn forward(status: Status) -> Status {
    if matches!(status.code(), Code::Unknown | Code::Cancelled) {
        tracing::warn!(code = ?status.code(), message = status.message(), "internal call cut off");
        return with_reason(
            Code::Unavailable,
            "an internal service went away during the call; retry",
            "UNAVAILABLE",
        );
    }
    let mut forwarded = Status::new(status.code(), status.message());
    for key in [REASON_KEY, RETRY_AFTER_KEY] {
        if let Some(value) = status.metadata().get(key) {
            forwarded.metadata_mut().insert(key, value.clone());
        }
    }
    if status.code() == Code::Internal {
        tracing::error!(code = ?status.code(), message = status.message(), "internal service failed");
    }
    forwarded
}

/// The principal of the caller, from `authorization: Bearer <token>`.
pub(crate) async fn authenticate<T>(
    auth: &AuthServiceClient<InternalChannel>,
    request: &tonic::Request<T>,
) -> Result<(v1::Principal, String), Status> {
    let token = bearer_token(request)?;
    let principal = auth
        .clone()
        .validate_token(v1::ValidateTokenRequest {
            access_token: token.clone(),
        })
        .await
        .map_err(forward)?
        .into_inner();
    Ok((principal, token))
}

fn bearer_token<T>(request: &tonic::Request<T>) -> Result<String, Status> {
    let missing = || {
        with_reason(
            Code::Unauthenticated,
            "missing access token (authorization: Bearer <token>)",
            "TOKEN_MISSING",
        )
    };
    let value = request
        .metadata()
        .get("authorization")
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(missing)?
        .trim();
    if token.is_empty() {
        return Err(missing());
    }
    Ok(token.to_owned())
}

//! How the gateway reaches the internal services: through their generated
//! gRPC clients, over a channel that is either a network connection (cluster)
//! or the service itself in the same process (role `all`). The gateway code
//! cannot tell the two apart, which is the point.

use std::convert::Infallible;

use tonic::body::Body;
use tonic::codegen::StdError;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

/// A gRPC channel to one internal service.
pub type InternalChannel =
    BoxCloneSyncService<http::Request<Body>, http::Response<Body>, ChannelError>;

/// A transport failure on an internal channel. A named type rather than a
/// bare boxed error: tonic's generic client needs `Error: Into<StdError>`
/// for every lifetime, which only the blanket impl for real error types
/// gives.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ChannelError(StdError);

/// Wraps a generated tonic server (e.g. `AuthServiceServer`) so that a client
/// can call it directly, in process.
pub fn in_process<S>(server: S) -> InternalChannel
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    BoxCloneSyncService::new(server.map_err(|never: Infallible| -> ChannelError { match never {} }))
}

/// Wraps a network channel to a service in another process.
pub fn remote(channel: tonic::transport::Channel) -> InternalChannel {
    BoxCloneSyncService::new(channel.map_err(|err| ChannelError(err.into())))
}

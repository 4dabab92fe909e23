//! The TCP + TLS connector tonic dials through. Our own rather than tonic's
//! built-in TLS because pinning and first-contact capture need a custom
//! rustls verifier, which tonic's `ClientTlsConfig` cannot take.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// gRPC needs HTTP/2; ALPN says so during the handshake.
const ALPN_H2: &[u8] = b"h2";

/// Dials one fixed server, whatever URI tonic passes in (the endpoint's
/// `http://` URI only tells hyper not to do TLS itself).
#[derive(Clone)]
pub(crate) struct TlsConnector {
    tls: tokio_rustls::TlsConnector,
    host: String,
    port: u16,
    server_name: ServerName<'static>,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    pub(crate) fn new(
        mut config: ClientConfig,
        host: String,
        port: u16,
        server_name: ServerName<'static>,
    ) -> Self {
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Self {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            host,
            port,
            server_name,
        }
    }

    /// One TCP connection and TLS handshake.
    pub(crate) async fn handshake(&self) -> io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        tcp.set_nodelay(true)?;
        let stream = self.tls.connect(self.server_name.clone(), tcp).await?;
        if stream.get_ref().1.alpn_protocol() != Some(ALPN_H2) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the server does not speak HTTP/2 (ALPN h2); is this a GophKeeper server?",
            ));
        }
        Ok(stream)
    }
}

impl tower::Service<Uri> for TlsConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.handshake().await.map(TokioIo::new) })
    }
}

/// The rustls error inside a failed handshake's I/O error, if any.
pub(crate) fn tls_error(err: &io::Error) -> Option<&rustls::Error> {
    err.get_ref()?.downcast_ref::<rustls::Error>()
}

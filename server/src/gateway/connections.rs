//! What the gateway does with a connection before TLS: learn the client's
//! address (a trusted balancer's PROXY protocol header, else the peer),
//! and cap the open connections per client machine (an IPv4 address or an
//! IPv6 /64, `crate::address`), so that one machine cannot take every
//! socket and file descriptor of the server. A connection past the cap is
//! closed as soon as it is accepted; one that closes frees its place.

use std::collections::HashMap;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

use super::proxy_protocol;
use crate::address::ProxyNet;

/// Open connections per client key.
#[derive(Debug, Default)]
struct Open(Mutex<HashMap<String, usize>>);

impl Open {
    /// A place for one more connection of `key`, unless it has `cap`.
    fn take(self: &Arc<Self>, key: String, cap: usize) -> Option<Place> {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key.clone()).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Place {
            open: self.clone(),
            key,
        })
    }
}

/// One counted connection; dropping it frees the place.
#[derive(Debug)]
struct Place {
    open: Arc<Open>,
    key: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// A TCP connection that holds its place under the cap while it is open,
/// and the client it is from.
#[derive(Debug)]
pub struct Capped {
    stream: TcpStream,
    /// The peer, or the client a trusted balancer's PROXY header names.
    client: SocketAddr,
    _place: Option<Place>,
}

/// Handshakes with balancers (their PROXY headers) read at once; past it
/// accepting waits. Only trusted balancers ever take one for long.
const MAX_HEADER_READS: usize = 1024;

/// The accepted connections of `incoming`: a PROXY header read first from
/// a `trusted` balancer, then at most `per_client` open at once per client
/// machine (0: no cap).
pub fn admit(
    incoming: TcpIncoming,
    per_client: usize,
    trusted: Vec<ProxyNet>,
) -> impl Stream<Item = std::io::Result<Capped>> {
    let open = Arc::new(Open::default());
    let trusted = Arc::new(trusted);
    incoming
        .map(move |accepted| admit_one(accepted, open.clone(), trusted.clone(), per_client))
        .buffer_unordered(MAX_HEADER_READS)
        .filter_map(std::future::ready)
}

async fn admit_one(
    accepted: std::io::Result<TcpStream>,
    open: Arc<Open>,
    trusted: Arc<Vec<ProxyNet>>,
    per_client: usize,
) -> Option<std::io::Result<Capped>> {
    let mut stream = match accepted {
        Ok(stream) => stream,
        Err(err) => return Some(Err(err)),
    };
    let peer = stream.peer_addr().ok()?;
    let client = if trusted.iter().any(|net| net.contains(peer.ip())) {
        match proxy_protocol::read_client(&mut stream, peer).await {
            Ok(client) => client,
            Err(err) => {
                tracing::warn!(%peer, %err, "connection from a trusted proxy refused");
                return None;
            }
        }
    } else {
        peer
    };
    let place = if per_client == 0 {
        None
    } else {
        let place = open.take(crate::address::client_key(client.ip()), per_client);
        if place.is_none() {
            tracing::warn!(client = %client.ip(), per_client, "connection refused: this client has the most open");
            return None;
        }
        place
    };
    Some(Ok(Capped {
        stream,
        client,
        _place: place,
    }))
}

impl Connected for Capped {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        TcpConnectInfo {
            local_addr: self.stream.local_addr().ok(),
            remote_addr: Some(self.client),
        }
    }
}

impl AsyncRead for Capped {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_client_and_freed_on_drop() {
        let open = Arc::new(Open::default());
        let a: Vec<Place> = (0..3).filter_map(|_| open.take("a".into(), 3)).collect();
        assert_eq!(a.len(), 3);
        assert!(open.take("a".into(), 3).is_none());
        let b = open.take("b".into(), 3);
        assert!(b.is_some());
        drop(a);
        assert!(open.take("a".into(), 3).is_some());
        drop(b);
        assert!(
            open.0.lock().unwrap().is_empty(),
            "no key outlives its places"
        );
    }
}

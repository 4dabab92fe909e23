//! A cap on the gateway's open connections per client machine (an IPv4
//! address or an IPv6 /64, `crate::address`), so that one machine cannot
//! take every socket and file descriptor of the server. A connection past
//! the cap is closed as soon as it is accepted, before TLS; one that
//! closes frees its place.

use std::collections::HashMap;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

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

/// A TCP connection that holds its place under the cap while it is open.
#[derive(Debug)]
pub struct Capped {
    stream: TcpStream,
    _place: Option<Place>,
}

/// The accepted connections of `incoming`, at most `per_client` open at
/// once per client machine (0: no cap).
pub fn cap(
    incoming: TcpIncoming,
    per_client: usize,
) -> impl Stream<Item = std::io::Result<Capped>> {
    let open = Arc::new(Open::default());
    incoming.filter_map(move |accepted| {
        let open = open.clone();
        async move {
            let stream = match accepted {
                Ok(stream) => stream,
                Err(err) => return Some(Err(err)),
            };
            if per_client == 0 {
                return Some(Ok(Capped {
                    stream,
                    _place: None,
                }));
            }
            let ip = stream.peer_addr().ok()?.ip();
            match open.take(crate::address::client_key(ip), per_client) {
                Some(place) => Some(Ok(Capped {
                    stream,
                    _place: Some(place),
                })),
                None => {
                    tracing::warn!(peer = %ip, per_client, "connection refused: this client has the most open");
                    None
                }
            }
        }
    })
}

impl Connected for Capped {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
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

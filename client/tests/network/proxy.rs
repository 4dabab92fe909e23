//! A loopback TCP forwarder in front of the server, one per device, that a
//! test can cut: the device is then offline (connections refused, open ones
//! dropped) while the server and the other devices carry on.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Proxy {
    /// The address devices connect to; stays the same across cuts.
    pub addr: SocketAddr,
    server: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    pub async fn start(server: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut proxy = Self {
            addr,
            server,
            accept: None,
        };
        proxy.serve(listener);
        proxy
    }

    pub fn is_online(&self) -> bool {
        self.accept.is_some()
    }

    /// Stops listening and drops every open connection.
    pub fn cut(&mut self) {
        if let Some(accept) = self.accept.take() {
            // Aborting the accept loop drops the listener and, through the
            // connection set it owns, every forwarding task.
            accept.abort();
        }
    }

    /// Listens again on the same address.
    pub async fn restore(&mut self) {
        if self.accept.is_none() {
            // The aborted task may not have dropped its listener yet.
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            let listener = loop {
                match TcpListener::bind(self.addr).await {
                    Ok(listener) => break listener,
                    Err(err) if tokio::time::Instant::now() > deadline => {
                        panic!("cannot listen on {} again: {err}", self.addr)
                    }
                    Err(_) => tokio::task::yield_now().await,
                }
            };
            self.serve(listener);
        }
    }

    fn serve(&mut self, listener: TcpListener) {
        let server = self.server;
        self.accept = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(server).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                // Reap finished forwarders so the set stays small.
                while connections.try_join_next().is_some() {}
            }
        }));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

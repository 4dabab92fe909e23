//! The gateway behind a load balancer that speaks the PROXY protocol v2:
//! the client the header names is who the connection cap and the login
//! limits count; a trusted balancer's connection without a header is
//! closed; nobody else's header is believed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use gophkeeper_server::settings::Settings;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Uri};

use crate::fixture::*;
use crate::helpers::*;

const BALANCER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 6);

/// A PROXY v2 header for a TCP over IPv4 connection from `client`.
fn header(client: Ipv4Addr) -> Vec<u8> {
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    header.extend([0x21, 0x11, 0, 12]);
    header.extend(client.octets());
    header.extend([127, 0, 0, 1]);
    header.extend(40_000u16.to_be_bytes());
    header.extend(443u16.to_be_bytes());
    header
}

/// A TLS channel from `source`, whose TCP connection starts with `prefix`.
async fn connect(
    fx: &Fixture,
    source: Ipv4Addr,
    prefix: Vec<u8>,
) -> Result<Channel, tonic::transport::Error> {
    let server = fx.app.server.as_ref().unwrap();
    let target = SocketAddr::from((Ipv4Addr::LOCALHOST, server.local_addr.port()));
    let ca = std::fs::read(server.ca_path.as_ref().unwrap()).unwrap();
    let connector = tower::service_fn(move |_: Uri| {
        let prefix = prefix.clone();
        async move {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
            let mut stream = socket.connect(target).await?;
            stream.write_all(&prefix).await?;
            Ok::<_, std::io::Error>(TokioIo::new(stream))
        }
    });
    Endpoint::from_shared(format!("https://localhost:{}", target.port()))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect_with_connector(connector)
        .await
}

async fn prelogin(channel: Channel) -> Result<(), tonic::Status> {
    AccountClient::new(channel)
        .prelogin(v1::PreloginRequest {
            username: "anyone".into(),
        })
        .await
        .map(drop)
}

#[tokio::test]
async fn the_client_a_trusted_balancer_names_is_who_the_limits_count() {
    let fx = Fixture::with(|s: &mut Settings| {
        s.gateway.max_connections_per_client = 1;
        s.gateway.trusted_proxies = vec!["127.0.0.6/32".to_owned().try_into().unwrap()];
        s.auth.login_attempts_per_minute_per_peer = 10;
    })
    .await;
    let before = fx.state().await;
    let (alice, bob) = (Ipv4Addr::new(203, 0, 113, 1), Ipv4Addr::new(203, 0, 113, 2));
    // Two clients through one balancer: one connection each.
    let first = connect(&fx, BALANCER, header(alice)).await.unwrap();
    prelogin(first.clone()).await.unwrap();
    let second = connect(&fx, BALANCER, header(bob)).await.unwrap();
    prelogin(second.clone()).await.unwrap();
    // A second connection of Alice's is over her cap.
    match connect(&fx, BALANCER, header(alice)).await {
        Err(_) => {}
        Ok(channel) => assert!(prelogin(channel).await.is_err(), "served past the cap"),
    }
    // The login limit counts Alice, not the balancer: her guesses run out,
    // Bob's do not.
    let guess = |channel: Channel| async move {
        AccountClient::new(channel)
            .login(v1::LoginRequest {
                username: "nobody".into(),
                auth_key: vec![1; 32],
                ..Default::default()
            })
            .await
            .unwrap_err()
    };
    for _ in 0..10 {
        assert_status(
            &guess(first.clone()).await,
            Code::Unauthenticated,
            "BAD_CREDENTIALS",
        );
    }
    assert_status(&guess(first).await, Code::ResourceExhausted, "RATE_LIMITED");
    assert_status(
        &guess(second).await,
        Code::Unauthenticated,
        "BAD_CREDENTIALS",
    );
    // The balancer without a header: closed before TLS.
    match connect(&fx, BALANCER, Vec::new()).await {
        Err(_) => {}
        Ok(channel) => assert!(prelogin(channel).await.is_err(), "no header, yet served"),
    }
    // Anyone else's header is not read, so TLS fails on it.
    let other = Ipv4Addr::new(127, 0, 0, 7);
    match connect(&fx, other, header(Ipv4Addr::new(203, 0, 113, 3))).await {
        Err(_) => {}
        Ok(channel) => assert!(
            prelogin(channel).await.is_err(),
            "an untrusted header was read"
        ),
    }
    fx.assert_unchanged(&before).await;
}

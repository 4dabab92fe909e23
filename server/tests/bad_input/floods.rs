//! Floods: many login attempts at once, and a client that opens thousands
//! of `Watch` streams. The limits must answer clearly, hold exactly, and
//! leave the service working for everybody else.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::future::join_all;
use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use gophkeeper_proto::v1::vault_client::VaultClient;
use gophkeeper_server::settings::Settings;
use tonic::codec::Streaming;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};

use crate::fixture::*;
use crate::helpers::*;

/// A second client machine: a connection from 127.0.0.2 (all of 127/8 is
/// loopback on Linux), so the per-address limit sees another peer.
async fn connect_from(fx: &Fixture, source: Ipv4Addr) -> Channel {
    try_connect_from(fx, source).await.unwrap()
}

async fn try_connect_from(
    fx: &Fixture,
    source: Ipv4Addr,
) -> Result<Channel, tonic::transport::Error> {
    let server = fx.app.server.as_ref().unwrap();
    let ca = std::fs::read(server.ca_path.as_ref().unwrap()).unwrap();
    Endpoint::from_shared(format!("https://localhost:{}", server.local_addr.port()))
        .unwrap()
        .local_address(Some(IpAddr::V4(source)))
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
}

/// A call that needs no account: the connection works.
async fn answers(channel: Channel) -> bool {
    AccountClient::new(channel)
        .prelogin(v1::PreloginRequest {
            username: "anyone".into(),
        })
        .await
        .is_ok()
}

/// One machine cannot hold every connection: past the cap (here 3) a new
/// connection from it is closed before TLS, while another machine still
/// connects; closing one of its connections frees a place.
#[tokio::test]
async fn open_connections_are_capped_per_client_machine() {
    let fx = Fixture::with(|s: &mut Settings| s.gateway.max_connections_per_client = 3).await;
    let before = fx.state().await;
    let crowd = Ipv4Addr::new(127, 0, 0, 4);
    let mut held = Vec::new();
    for _ in 0..3 {
        let channel = connect_from(&fx, crowd).await;
        assert!(answers(channel.clone()).await);
        held.push(channel);
    }
    match try_connect_from(&fx, crowd).await {
        Err(_) => {}
        Ok(channel) => assert!(!answers(channel).await, "a fourth connection was served"),
    }
    assert!(answers(connect_from(&fx, Ipv4Addr::new(127, 0, 0, 5)).await).await);
    drop(held.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(channel) = try_connect_from(&fx, crowd).await
            && answers(channel).await
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a closed connection did not free its place"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fx.assert_unchanged(&before).await;
}

async fn flood(channel: &Channel, names: impl Iterator<Item = String>) -> Vec<Status> {
    let attempts = names.map(|username| {
        let account = AccountClient::new(channel.clone());
        async move {
            login_on(&account, &username, &[0xEE; 32], "")
                .await
                .unwrap_err()
        }
    });
    join_all(attempts).await
}

/// Splits refusals into (wrong password, rate limited) and checks every
/// rate-limited answer: code, reason, message, and a retry hint.
fn tally(statuses: &[Status], scope: &str) -> (usize, usize) {
    let mut bad = 0;
    let mut limited = 0;
    let prefix = format!("too many attempts for this {scope}; retry in ");
    for status in statuses {
        if status.code() == Code::Unauthenticated {
            assert_eq!(
                assert_status(status, Code::Unauthenticated, "BAD_CREDENTIALS"),
                "invalid user name or password"
            );
            bad += 1;
            continue;
        }
        let message = assert_status(status, Code::ResourceExhausted, "RATE_LIMITED");
        let seconds: u64 = message
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(" s"))
            .unwrap_or_else(|| panic!("{message}"))
            .parse()
            .unwrap();
        assert!((1..=60).contains(&seconds), "{message}");
        let retry: u64 = status
            .metadata()
            .get("retry-after-ms")
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60_000).contains(&retry), "{retry}");
        limited += 1;
    }
    (bad, limited)
}

/// 300 concurrent guesses at Bob's name from another machine: exactly the
/// per-name allowance is checked against the password hash, the rest are
/// told to wait; Bob's signed-in device and other users are unaffected.
#[tokio::test]
async fn a_login_flood_on_one_name_is_limited_and_others_carry_on() {
    let fx = Fixture::with(|s: &mut Settings| {
        s.auth.login_attempts_per_minute_per_user = 5;
    })
    .await;
    let before = fx.state().await;
    let attacker = connect_from(&fx, Ipv4Addr::new(127, 0, 0, 2)).await;
    let statuses = flood(&attacker, std::iter::repeat_n(fx.bob.username.clone(), 300)).await;
    // Bob's own login while the fixture was set up used one of the five.
    assert_eq!(tally(&statuses, "user name"), (4, 296));
    fx.assert_unchanged(&before).await;

    // Bob's existing session reads and writes; Alice logs in afresh.
    fx.bob.changes(0).await.unwrap();
    fx.bob.create(v1::RecordKind::Text, b"still here").await;
    fx.app.device(&fx.alice.username).await;
}

/// 300 concurrent logins under random names from one address: the address
/// allowance holds exactly, and a user on another address gets in at once.
#[tokio::test]
async fn a_login_flood_from_one_address_is_limited_and_others_carry_on() {
    let fx = Fixture::with(|s: &mut Settings| {
        s.auth.login_attempts_per_minute_per_peer = 20;
    })
    .await;
    let before = fx.state().await;
    let attacker = connect_from(&fx, Ipv4Addr::new(127, 0, 0, 2)).await;
    let names = (0..300).map(|i| format!("ghost-{i}"));
    let statuses = flood(&attacker, names).await;
    assert_eq!(tally(&statuses, "address"), (20, 280));
    fx.assert_unchanged(&before).await;
    // The attacker's address is still limited, even with the right key...
    let status = login_on(
        &AccountClient::new(attacker),
        &fx.alice.username,
        &auth_key(&fx.alice.username),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(tally(&[status], "address"), (0, 1));
    // ...while 127.0.0.1 is another peer with its own allowance.
    fx.app.device(&fx.alice.username).await;
}

async fn open_watch(
    vault: &VaultClient<Channel>,
    token: &str,
) -> Result<Streaming<v1::WatchEvent>, Status> {
    let mut stream = vault
        .clone()
        .watch(bearer(v1::WatchRequest {}, token))
        .await?
        .into_inner();
    let first = tokio::time::timeout(WAIT, stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(
        first.event,
        Some(v1::watch_event::Event::Subscribed(_))
    ));
    Ok(stream)
}

/// 2,000 `Watch` calls from one client and one user at once: exactly the
/// per-user limit (32) is served, every other call is told why; the served
/// streams all hear the next change, other users can still watch, and
/// closing the streams gives the slots back.
#[tokio::test]
async fn thousands_of_watch_streams_from_one_client_hold_the_per_user_limit() {
    let fx = Fixture::new().await;
    let limit = fx.app.settings.gateway.max_watch_streams_per_user;
    assert_eq!(limit, 32, "the shipped default");
    let calls = (0..2000).map(|_| open_watch(&fx.alice.vault, &fx.alice.tokens.access_token));
    let results = join_all(calls).await;
    let mut open = Vec::new();
    for result in results {
        match result {
            Ok(stream) => open.push(stream),
            Err(status) => assert_eq!(
                assert_status(&status, Code::ResourceExhausted, "TOO_MANY_STREAMS"),
                "too many live Watch streams for this user (limit 32)"
            ),
        }
    }
    assert_eq!(open.len(), limit);

    // Bob, on his own connection, is unaffected.
    let bob_channel = connect(fx.app.server.as_ref().unwrap()).await;
    let mut bob_watch = open_watch(&VaultClient::new(bob_channel), &fx.bob.tokens.access_token)
        .await
        .unwrap();
    let (record, revision) = fx.alice.create(v1::RecordKind::Text, b"heard by all").await;
    for stream in &mut open {
        let event = tokio::time::timeout(WAIT, stream.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event.event {
            Some(v1::watch_event::Event::Change(change)) => {
                assert_eq!(
                    (change.record_id.as_str(), change.revision),
                    (record.as_str(), revision)
                );
            }
            other => panic!("expected the change, got {other:?}"),
        }
    }
    // Bob hears nothing of Alice's change.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), bob_watch.message())
            .await
            .is_err()
    );

    drop(open);
    let deadline = tokio::time::Instant::now() + WAIT;
    let again = loop {
        let streams = join_all(
            (0..limit).map(|_| open_watch(&fx.alice.vault, &fx.alice.tokens.access_token)),
        )
        .await;
        if streams.iter().all(Result::is_ok) {
            break streams;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "slots were not given back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(again.len(), limit);
}

/// Many users' streams on one connection: the gateway's per-connection
/// limit (`gateway.max_concurrent_streams_per_connection`) holds, so one
/// socket cannot pin unbounded server state; calls past it wait for a slot
/// (HTTP/2 flow control), and get one as soon as a stream closes.
#[tokio::test]
async fn one_connection_cannot_hold_more_streams_than_the_gateway_allows() {
    let defaults = Settings::load_without_env(None).unwrap();
    assert_eq!(defaults.gateway.max_concurrent_streams_per_connection, 256);
    let fx = Fixture::with(|s: &mut Settings| {
        s.gateway.max_concurrent_streams_per_connection = 40;
    })
    .await;
    // Four users with 15 streams each: 60 wanted, all under the per-user
    // limit, all on Alice's one connection.
    let mut users = vec![fx.alice.clone(), fx.bob.clone()];
    for _ in 0..2 {
        users.push(fx.app.new_user().await);
    }
    let channel = fx.alice.vault.clone();
    let mut pending = Vec::new();
    for user in &users {
        for _ in 0..15 {
            let channel = channel.clone();
            let token = user.tokens.access_token.clone();
            pending.push(tokio::spawn(async move {
                open_watch(&channel, &token).await.unwrap()
            }));
        }
    }
    // Wait for the first 40, then give the rest ample time to be answered
    // too if the server allowed it.
    let deadline = tokio::time::Instant::now() + WAIT;
    while pending.iter().filter(|task| task.is_finished()).count() < 40 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "40 streams within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (done, waiting): (Vec<_>, Vec<_>) =
        pending.into_iter().partition(|task| task.is_finished());
    assert_eq!((done.len(), waiting.len()), (40, 20));
    let mut open = Vec::new();
    for task in done {
        open.push(task.await.unwrap());
    }
    // Close 20: the 20 waiting calls get their streams.
    open.truncate(20);
    for task in waiting {
        open.push(tokio::time::timeout(WAIT, task).await.unwrap().unwrap());
    }
    assert_eq!(open.len(), 40);
}

//! Each internal service answers only the roles that call it, read from
//! the role the caller's cluster certificate names: the gateway alone calls
//! auth, query and command. Any other certificate of the cluster CA is
//! refused with PERMISSION_DENIED before the service sees the request.

use std::time::{Duration, Instant};

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::auth_service_client::AuthServiceClient;
use gophkeeper_proto::v1::command_service_client::CommandServiceClient;
use gophkeeper_proto::v1::query_service_client::QueryServiceClient;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::fixture;

/// Certificates of scripts/cluster (tls/NAME.pem) that are not the
/// gateway's: every other role's, and the probe's, which names none.
const NOT_THE_GATEWAY: [&str; 5] = ["auth", "query", "producer", "consumer", "probe"];

/// A channel to the internal listener at base port + `offset`, presenting
/// the certificate `tls/{cert}.pem`.
async fn as_role(offset: u16, cert: &str) -> Channel {
    let cluster = fixture::get();
    let tls = cluster.dir.join("tls");
    let read = |name: String| std::fs::read(tls.join(name)).unwrap();
    let endpoint =
        Endpoint::from_shared(format!("https://127.0.0.1:{}", cluster.base_port + offset))
            .unwrap()
            .tls_config(
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(read("ca.pem".into())))
                    .identity(Identity::from_pem(
                        read(format!("{cert}.pem")),
                        read(format!("{cert}.key")),
                    ))
                    .domain_name("localhost"),
            )
            .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match endpoint.connect().await {
            Ok(channel) => return channel,
            Err(err) if Instant::now() > deadline => panic!("{cert} to +{offset}: {err}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn assert_refused<T: std::fmt::Debug>(cert: &str, answer: Result<T, tonic::Status>) {
    let status = answer.expect_err(&format!("{cert}'s certificate was answered"));
    assert_eq!(status.code(), Code::PermissionDenied, "{cert}: {status:?}");
    assert_eq!(
        status.metadata().get("gk-reason").unwrap(),
        "ROLE_NOT_ALLOWED",
        "{cert}"
    );
    assert!(
        status.message().contains("only role gateway may"),
        "{cert}: {}",
        status.message()
    );
}

fn assert_not_refused<T>(answer: Result<T, tonic::Status>) {
    if let Err(status) = answer {
        assert_ne!(status.code(), Code::PermissionDenied, "{status:?}");
    }
}

#[tokio::test]
async fn auth_service_answers_only_the_gateway_role() {
    let prelogin = || {
        tonic::Request::new(v1::PreloginRequest {
            username: "role-check".into(),
        })
    };
    for cert in NOT_THE_GATEWAY {
        let answer = AuthServiceClient::new(as_role(21, cert).await)
            .prelogin(prelogin())
            .await;
        assert_refused(cert, answer);
    }
    let answer = AuthServiceClient::new(as_role(21, "gateway").await)
        .prelogin(prelogin())
        .await;
    assert_not_refused(answer);
}

#[tokio::test]
async fn query_service_answers_only_the_gateway_role() {
    let changes = || v1::InternalChangesRequest {
        user_id: uuid::Uuid::new_v4().to_string(),
        request: Some(v1::ChangesRequest::default()),
    };
    for cert in NOT_THE_GATEWAY {
        let answer = QueryServiceClient::new(as_role(22, cert).await)
            .changes(changes())
            .await;
        assert_refused(cert, answer);
    }
    let answer = QueryServiceClient::new(as_role(22, "gateway").await)
        .changes(changes())
        .await;
    assert_not_refused(answer);
}

#[tokio::test]
async fn command_service_answers_only_the_gateway_role() {
    // An empty command: the gateway's is refused by validation, so nothing
    // reaches the broker either way.
    let submit = || v1::InternalSubmitRequest {
        principal: Some(v1::Principal {
            user_id: uuid::Uuid::new_v4().to_string(),
            session_id: uuid::Uuid::new_v4().to_string(),
        }),
        command: None,
    };
    for cert in NOT_THE_GATEWAY {
        let answer = CommandServiceClient::new(as_role(23, cert).await)
            .submit(submit())
            .await;
        assert_refused(cert, answer);
    }
    let answer = CommandServiceClient::new(as_role(23, "gateway").await)
        .submit(submit())
        .await;
    let status = answer.expect_err("an empty command is invalid");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}

#[tokio::test]
async fn health_answers_any_cluster_certificate() {
    // The probe's certificate names no role; health must still answer it.
    for offset in [21, 22, 23] {
        let answer =
            tonic_health::pb::health_client::HealthClient::new(as_role(offset, "probe").await)
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await;
        answer.expect("health");
    }
}

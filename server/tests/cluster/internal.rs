//! What only a cluster has to get right at its seams: every role is healthy
//! behind mutual TLS, and an internal API refuses a caller without a
//! cluster certificate (it trusts the user id it is given, so it must only
//! ever hear from the gateway).

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::query_service_client::QueryServiceClient;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use crate::fixture;

fn port(offset: u16) -> u16 {
    fixture::get().base_port + offset
}

#[tokio::test]
async fn every_role_reports_serving_through_the_probe() {
    let cluster = fixture::get();
    let output = cluster.script(&["status"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for role in [
        "auth",
        "query",
        "producer",
        "consumer0",
        "consumer1",
        "gateway",
    ] {
        assert!(text.contains(&format!("{role}: serving")), "{text}");
    }
}

#[tokio::test]
async fn internal_services_refuse_callers_without_a_cluster_certificate() {
    let cluster = fixture::get();
    let ca = std::fs::read(cluster.dir.join("tls/ca.pem")).unwrap();
    // Trusts the cluster CA but presents no client certificate.
    let endpoint = Endpoint::from_shared(format!("https://127.0.0.1:{}", port(22)))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost"),
        )
        .unwrap();
    let result = match endpoint.connect().await {
        Err(_) => return, // refused during the handshake
        Ok(channel) => {
            QueryServiceClient::new(channel)
                .changes(v1::InternalChangesRequest {
                    user_id: uuid::Uuid::new_v4().to_string(),
                    request: Some(v1::ChangesRequest::default()),
                })
                .await
        }
    };
    assert!(
        result.is_err(),
        "the query service answered a caller with no certificate"
    );
}

#[tokio::test]
async fn the_gateway_is_the_only_plaintext_free_public_endpoint() {
    // A plaintext HTTP/2 client gets nothing from the gateway either.
    let channel = Endpoint::from_shared(format!("http://127.0.0.1:{}", port(20)))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = channel {
        let answer = v1::account_client::AccountClient::new(channel)
            .prelogin(v1::PreloginRequest {
                username: "x".into(),
            })
            .await;
        assert!(answer.is_err());
    }
}

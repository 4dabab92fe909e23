//! OPAQUE with two auth processes on one database and one secret: the
//! server's state between a login's round trips lives in the auth
//! database, so a login started on one process finishes on the other
//! (no sticky sessions), and only once.

use std::time::{Duration, Instant};

use gophkeeper_proto::opaque::Suite;
use gophkeeper_proto::opaque::opaque_ke::{
    ClientLogin, ClientLoginFinishParameters, CredentialResponse, Identifiers,
};
use gophkeeper_proto::v1;
use gophkeeper_proto::v1::auth_service_client::AuthServiceClient;
use rand::rngs::OsRng;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::fixture;
use crate::helpers::*;

/// An auth process's internal API, called as the gateway calls it.
async fn auth_at(port: u16) -> AuthServiceClient<Channel> {
    let cluster = fixture::get();
    let tls = cluster.dir.join("tls");
    let read = |name: &str| std::fs::read(tls.join(name)).unwrap();
    let endpoint = Endpoint::from_shared(format!("https://127.0.0.1:{port}"))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(read("ca.pem")))
                .identity(Identity::from_pem(read("gateway.pem"), read("gateway.key")))
                .domain_name("localhost"),
        )
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match endpoint.connect().await {
            Ok(channel) => return AuthServiceClient::new(channel),
            Err(err) if Instant::now() > deadline => panic!("auth on {port}: {err}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[tokio::test]
async fn a_login_started_on_one_auth_process_finishes_on_another_once() {
    let cluster = fixture::get();
    let started = cluster.script(&["start", "auth2"]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let app = spawn_app().await;
    let name = format!("two-auth-{}", uuid::Uuid::new_v4());
    let password = auth_key(&name);
    app.register(&name, &password).await.unwrap();

    let mut first = auth_at(cluster.base_port + 21).await;
    let mut second = auth_at(cluster.base_port + 24).await;
    let client = ClientLogin::<Suite>::start(&mut OsRng, &password).unwrap();
    let answer = first
        .login_start(v1::InternalLoginStartRequest {
            request: Some(v1::LoginStartRequest {
                username: name.clone(),
                credential_request: client.message.serialize().to_vec(),
            }),
            peer: "127.0.0.1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let ksf = test_ksf();
    let finish = client
        .state
        .finish(
            &mut OsRng,
            &password,
            CredentialResponse::deserialize(&answer.credential_response).unwrap(),
            ClientLoginFinishParameters::new(None, Identifiers::default(), Some(&ksf)),
        )
        .unwrap();
    let request = v1::InternalLoginFinishRequest {
        request: Some(v1::LoginFinishRequest {
            login_id: answer.login_id,
            credential_finalization: finish.message.serialize().to_vec(),
            device_name: "across processes".into(),
            second_factor: String::new(),
        }),
        peer: "127.0.0.1".into(),
    };
    let login = second
        .login_finish(request.clone())
        .await
        .unwrap()
        .into_inner();
    for auth in [&mut first, &mut second] {
        let status = auth.login_finish(request.clone()).await.unwrap_err();
        assert_status(&status, Code::Unauthenticated, "LOGIN_EXPIRED");
    }
    // The session the second process started works through the gateway,
    // whose own auth process is the first.
    let sessions = app
        .account
        .clone()
        .list_sessions(bearer(
            v1::ListSessionsRequest {},
            &login.tokens.unwrap().access_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].device_name, "across processes");
    let stopped = cluster.script(&["stop", "auth2"]);
    assert!(stopped.status.success());
}

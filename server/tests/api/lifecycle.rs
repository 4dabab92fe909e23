//! Restarts, graceful shutdown, and the gateway's health and reflection.

use gophkeeper_proto::v1;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1alpha::ServerReflectionRequest as AlphaRequest;
use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as AlphaReflectionClient;
use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest as AlphaMessageRequest;
use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse as AlphaMessageResponse;

use crate::helpers::*;

#[tokio::test]
async fn a_restart_on_the_same_data_directory_keeps_everything() {
    let mut app = spawn_app().await;
    let device = app.new_user().await;
    let (record, r1) = device.create(v1::RecordKind::Card, b"card").await;
    let (deleted, d1) = device.create(v1::RecordKind::Text, b"gone").await;
    let d2 = applied(&device.submit(delete_cmd(&deleted, d1)).await.unwrap());
    let fingerprint = app.server.as_ref().unwrap().fingerprint.clone();

    app.restart().await;
    assert_eq!(
        app.server.as_ref().unwrap().fingerprint,
        fingerprint,
        "same certificate"
    );

    // The old access token still works: same secret, same session.
    let device = Device {
        vault: app.vault.clone(),
        account: app.account.clone(),
        ..device
    };
    let changes = device.changes(0).await.unwrap();
    assert_eq!(changes.current_revision, d2);
    assert_eq!(changes.records.len(), 2);
    assert_eq!(device.get(&[&record]).await.unwrap()[0].ciphertext, b"card");
    assert!(device.get(&[&deleted]).await.unwrap()[0].deleted);
    // Sessions, refresh tokens and credentials survived too.
    app.account
        .clone()
        .refresh(v1::RefreshRequest {
            refresh_token: device.tokens.refresh_token.clone(),
        })
        .await
        .unwrap();
    app.device(&device.username).await;
    // The revision counter goes on from where it was.
    let r2 = applied(
        &device
            .submit(update_cmd(&record, r1, b"card v2"))
            .await
            .unwrap(),
    );
    assert_eq!(r2, d2 + 1);
}

#[tokio::test]
async fn fake_prelogin_parameters_survive_a_restart() {
    let mut app = spawn_app().await;
    let prelogin = |app: &TestApp| {
        let mut account = app.account.clone();
        async move {
            account
                .prelogin(v1::PreloginRequest {
                    username: "mallory".into(),
                })
                .await
                .unwrap()
                .into_inner()
                .kdf
                .unwrap()
        }
    };
    let before = prelogin(&app).await;
    app.restart().await;
    // The fake salt comes from the server secret, not from memory.
    assert_eq!(prelogin(&app).await, before);
}

#[tokio::test]
async fn graceful_shutdown_applies_every_accepted_command() {
    let mut app = spawn_app().await;
    let device = app.new_user().await;
    let mut accepted = Vec::new();
    for i in 0..200u32 {
        let record = uuid::Uuid::new_v4().to_string();
        let command = create_cmd(
            &record,
            v1::RecordKind::Text,
            &[b"n".as_slice(), &i.to_le_bytes()].concat(),
        );
        device
            .vault
            .clone()
            .submit(device.req(v1::SubmitRequest {
                command: Some(command),
                wait_for_outcome: false,
            }))
            .await
            .unwrap();
        accepted.push(record);
    }
    // Stop right after the last acknowledgement: queued commands must drain.
    app.restart().await;
    let device = Device {
        vault: app.vault.clone(),
        account: app.account.clone(),
        ..device
    };
    let mut since = 0;
    let mut stored = Vec::new();
    loop {
        let page = device.changes(since).await.unwrap();
        stored.extend(page.records.into_iter().map(|r| r.id));
        since = page.next_since_revision;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(stored, accepted, "all 200, in submission order");
}

#[tokio::test]
async fn the_gateway_serves_health_and_reflection() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in ["", "gophkeeper.v1.Vault", "gophkeeper.v1.Account"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }

    // v1 lists the public services only.
    let mut reflection = ServerReflectionClient::new(app.channel.clone());
    let ask = |request| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([
            ask(MessageRequest::ListServices(String::new())),
            ask(MessageRequest::FileContainingSymbol(
                "gophkeeper.v1.Vault".into(),
            )),
        ]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "gophkeeper.v1.Account",
            "gophkeeper.v1.Vault",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    );
    let public = responses.message().await.unwrap().unwrap();
    assert!(
        matches!(
            public.message_response,
            Some(MessageResponse::FileDescriptorResponse(_))
        ),
        "{public:?}"
    );
    // The internal API is not described either.
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([ask(
            MessageRequest::FileContainingSymbol("gophkeeper.v1.AuthService".into()),
        )]))
        .await
        .unwrap()
        .into_inner();
    let refused = responses.message().await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");

    // v1alpha, which many tools still speak, answers the same list.
    let mut alpha = AlphaReflectionClient::new(app.channel.clone());
    let mut responses = alpha
        .server_reflection_info(tokio_stream::iter([AlphaRequest {
            host: String::new(),
            message_request: Some(AlphaMessageRequest::ListServices(String::new())),
        }]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(AlphaMessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected v1alpha reflection answer");
    };
    let mut alpha_names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    alpha_names.sort();
    assert_eq!(alpha_names, names);
}

#[tokio::test]
async fn plaintext_connections_are_refused() {
    let app = spawn_app().await;
    let port = app.server.as_ref().unwrap().local_addr.port();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await;
    // Either the connection fails outright or the first call does.
    if let Ok(channel) = channel {
        let result = v1::account_client::AccountClient::new(channel)
            .prelogin(v1::PreloginRequest {
                username: "x".into(),
            })
            .await;
        assert!(result.is_err());
    }
}

//! Latency of the whole request path on a single node: a command's round
//! trip (submit → broker → apply → outcome) and a delta query, over real TLS;
//! and, in the same run so that ratios hold on a noisy machine, two echo
//! baselines: the gRPC health `Check` on a bare tonic server over plaintext
//! loopback (tonic + HTTP/2 alone), and the same `Check` through the
//! gateway's TLS connection (adds TLS and the gateway's layers, but no
//! token check, storage or broker). The bare echo runs twice, the second
//! time with the servers' metrics layer, so the ratio of the two is what
//! recording a call's count and time costs.

// A bench harness: a failure should stop the run loudly.
#![allow(clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use gophkeeper_benches::BenchServer;
use gophkeeper_proto::v1;
use gophkeeper_server::metrics::{GrpcMetricsLayer, Metrics};
use tonic::transport::{Channel, Endpoint, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tower::{Layer as _, ServiceExt as _};

fn request_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(BenchServer::start());
    let ciphertext = vec![0xA5; 1024];

    c.bench_function("command round trip (1 KiB create, wait for outcome)", |b| {
        b.to_async(&runtime)
            .iter(|| server.create(ciphertext.clone()));
    });

    let head = runtime.block_on(server.create(ciphertext.clone()));
    c.bench_function("changes since head-1 (delta sync of one record)", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut vault = server.vault.clone();
            vault
                .changes(server.req(v1::ChangesRequest {
                    since_revision: head - 1,
                    page_size: 0,
                    min_revision: 0,
                }))
                .await
                .expect("changes")
        });
    });

    let through_gateway = HealthClient::new(server.channel.clone());
    c.bench_function("baseline: health Check through the gateway (TLS)", |b| {
        b.to_async(&runtime).iter(|| check(through_gateway.clone()));
    });

    let bare = HealthClient::new(runtime.block_on(bare_echo_server(false)));
    c.bench_function("baseline: tonic unary echo, plaintext loopback", |b| {
        b.to_async(&runtime).iter(|| check(bare.clone()));
    });
    // The layer alone, around a service that answers at once: what the
    // recording itself costs per call, without the network's noise.
    let answer = tower::service_fn(|_: http::Request<()>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(()))
    });
    let layered = GrpcMetricsLayer(Metrics::new("bench")).layer(answer);
    let request = || {
        http::Request::builder()
            .uri("/grpc.health.v1.Health/Check")
            .body(())
            .expect("request")
    };
    c.bench_function("metrics layer: an instant service, bare", |b| {
        b.to_async(&runtime).iter(|| answer.oneshot(request()));
    });
    c.bench_function("metrics layer: an instant service, counted", |b| {
        b.to_async(&runtime)
            .iter(|| layered.clone().oneshot(request()));
    });

    let counted = HealthClient::new(runtime.block_on(bare_echo_server(true)));
    c.bench_function(
        "baseline: tonic unary echo, plaintext loopback, metrics layer",
        |b| {
            b.to_async(&runtime).iter(|| check(counted.clone()));
        },
    );
}

async fn check(mut client: HealthClient<Channel>) {
    client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health check");
}

/// A tonic server with nothing but the health service, on port 0; with
/// `metrics`, behind the layer every server role records its calls with.
async fn bare_echo_server(metrics: bool) -> Channel {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let layer = metrics.then(|| GrpcMetricsLayer(Metrics::new("bench")));
    tokio::spawn(
        Server::builder()
            .layer(tower::util::option_layer(layer))
            .add_service(health)
            .serve_with_incoming(incoming),
    );
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect")
}

criterion_group!(benches, request_path);
criterion_main!(benches);

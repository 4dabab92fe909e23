//! Latency of the whole request path on a single node: a command's round
//! trip (submit → broker → apply → outcome) and a delta query, over real TLS.

// A bench harness: a failure should stop the run loudly.
#![allow(clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use gophkeeper_benches::BenchServer;
use gophkeeper_proto::v1;

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
}

criterion_group!(benches, request_path);
criterion_main!(benches);

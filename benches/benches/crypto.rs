//! Client-side crypto costs: sealing and opening a record at 1 KiB and at
//! the 512 KiB limit, and the Argon2id derivation that unlocking a vault
//! pays at the default parameters (64 MiB, t=3, p=4).

// A bench harness: a failure should stop the run loudly.
#![allow(clippy::expect_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gophkeeper_client::internals::{KdfParams, MasterKey, RecordAad, RecordHeader, VaultKey};
use gophkeeper_client::item::{Item, ItemKind, Payload};
use uuid::Uuid;

fn record_seal_open(c: &mut Criterion) {
    let key = VaultKey::generate();
    let aad = RecordAad::new(Uuid::new_v4(), Uuid::new_v4(), ItemKind::Binary);
    let mut group = c.benchmark_group("record encrypt+decrypt");
    for size in [
        1024usize,
        512 * 1024 - gophkeeper_client::internals::sealed_len(0),
    ] {
        let plaintext = vec![0x5A; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("raw", size), &plaintext, |b, plaintext| {
            b.iter(|| {
                let sealed = key.seal_record(&aad, &RecordHeader::SAMPLE, 0, plaintext);
                key.open_record(&aad, &sealed).expect("opens")
            });
        });
    }
    // The item layer on top: validate, encode, seal; open, decode.
    for size in [1024usize, 500 * 1024] {
        let item = Item::new(
            "bench file",
            Payload::Binary {
                file_name: "bench.bin".into(),
                bytes: vec![0x5A; size],
            },
        );
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("item", size), &item, |b, item| {
            b.iter(|| {
                let sealed = item
                    .seal(&key, &aad, &RecordHeader::SAMPLE, 0)
                    .expect("seals");
                Item::open(&key, &aad, &sealed).expect("opens")
            });
        });
    }
    group.finish();
}

fn argon2id_unlock(c: &mut Criterion) {
    let params = KdfParams::generate_default();
    let mut group = c.benchmark_group("unlock");
    // Each sample takes a few hundred milliseconds; ten are enough.
    group.sample_size(10);
    group.bench_function("argon2id default (64 MiB, t=3, p=4)", |b| {
        b.iter(|| {
            MasterKey::derive_from_bytes(b"correct horse battery staple", &params).expect("derives")
        });
    });
    group.finish();
}

criterion_group!(benches, record_seal_open, argon2id_unlock);
criterion_main!(benches);

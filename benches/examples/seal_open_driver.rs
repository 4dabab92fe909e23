//! A fixed-work driver for profiling the record and item seal+open paths
//! under `valgrind --tool=callgrind`, whose instruction counts, unlike
//! criterion's wall-clock times, do not move with the load on a shared
//! machine.
//!
//! `seal_open_driver <raw|item> <iterations>` seals and opens one ~512 KiB
//! record (raw: 524,247 bytes of plaintext, sealed to exactly 512 KiB;
//! item: a binary item with a 500 KiB file) `iterations` times. Per-call
//! cost = (total − total at 0 iterations) / iterations.

// A profiling harness: a failure should stop the run loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use gophkeeper_client::internals::{RecordAad, RecordHeader, VaultKey, sealed_len};
use gophkeeper_client::item::{Item, ItemKind, Payload};
use uuid::Uuid;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "item".into());
    let iterations: usize = args.next().map_or(10, |n| n.parse().expect("a count"));
    let key = VaultKey::generate();
    let aad = RecordAad::new(Uuid::new_v4(), Uuid::new_v4(), ItemKind::Binary);
    match mode.as_str() {
        "raw" => raw(&key, &aad, iterations),
        "item" => item(&key, &aad, iterations),
        other => panic!("unknown mode {other:?}; use raw or item"),
    }
}

fn raw(key: &VaultKey, aad: &RecordAad, iterations: usize) {
    let plaintext = vec![0x5A; 512 * 1024 - sealed_len(0)];
    for _ in 0..iterations {
        let sealed = key.seal_record(aad, &RecordHeader::SAMPLE, 0, black_box(&plaintext));
        black_box(key.open_record(aad, &sealed).expect("opens"));
    }
}

fn item(key: &VaultKey, aad: &RecordAad, iterations: usize) {
    let item = Item::new(
        "bench file",
        Payload::Binary {
            file_name: "bench.bin".into(),
            bytes: vec![0x5A; 500 * 1024],
        },
    );
    for _ in 0..iterations {
        let sealed = black_box(&item)
            .seal(key, aad, &RecordHeader::SAMPLE, 0)
            .expect("seals");
        black_box(Item::open(key, aad, &sealed).expect("opens"));
    }
}

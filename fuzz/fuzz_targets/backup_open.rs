//! `backup::open`: the encrypted export file, up to the key derivation.
//!
//! `open` checks the whole envelope (JSON shape, format name, version, KDF
//! algorithm and limits, base64 of salt, wrapped key and payload, KDF
//! floors) before it runs Argon2id, so that garbage costs nothing. This
//! target feeds it any bytes and requires a refusal without a panic.
//!
//! An input that passes every one of those checks would make `open` spend
//! Argon2id (64 MiB to 1 GiB, a second or more) on it, which would stall the
//! fuzzer. [`reaches_kdf`] repeats the checks on a copy of the envelope
//! types and such inputs are skipped; their share is printed now and then. What
//! follows the key derivation (unwrapping the export key, opening the
//! payload, `decode_items`) needs the right password and is not fuzzed
//! here; the item decoder it ends in is (`item_decode`).

#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gophkeeper_client::internals::{KdfParams, SALT_LEN, SaltBinding};
use gophkeeper_client::backup;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use serde::Deserialize;

/// A copy of `Envelope` in client/src/backup.rs (private there), with the
/// same field names and types, so serde accepts exactly what `open` does.
#[derive(Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    kdf: Kdf,
    wrapped_key: String,
    sealed: String,
}

#[derive(Deserialize)]
struct Kdf {
    algorithm: String,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

/// `MAX_MEMORY_KIB` of client/src/backup.rs.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;

/// True if `open` would go on to Argon2id with these bytes.
fn reaches_kdf(bytes: &[u8]) -> bool {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(bytes) else {
        return false;
    };
    let Ok(salt) = STANDARD.decode(&envelope.kdf.salt) else {
        return false;
    };
    let Ok(salt) = <[u8; SALT_LEN]>::try_from(salt.as_slice()) else {
        return false;
    };
    envelope.format == backup::FORMAT
        && envelope.version == backup::VERSION
        && envelope.kdf.algorithm == "argon2id"
        && envelope.kdf.memory_kib <= MAX_MEMORY_KIB
        && STANDARD.decode(&envelope.wrapped_key).is_ok()
        && STANDARD.decode(&envelope.sealed).is_ok()
        && KdfParams {
            memory_kib: envelope.kdf.memory_kib,
            iterations: envelope.kdf.iterations,
            parallelism: envelope.kdf.parallelism,
            salt,
            binding: SaltBinding::Unbound,
            secret_key: false,
        }
        .validate()
        .is_ok()
}

static RUNS: AtomicU64 = AtomicU64::new(0);
static SKIPPED: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let runs = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    if reaches_kdf(data) {
        SKIPPED.fetch_add(1, Ordering::Relaxed);
    } else {
        let password = SecretString::from("fuzz");
        assert!(
            backup::open(data, &password).is_err(),
            "an export file that fails the envelope checks was opened"
        );
    }
    // The skipped share, at every power of two from 65536 runs on.
    if runs >= 1 << 16 && runs.is_power_of_two() {
        eprintln!(
            "backup_open: {} of {runs} inputs would reach Argon2id and were skipped",
            SKIPPED.load(Ordering::Relaxed)
        );
    }
});

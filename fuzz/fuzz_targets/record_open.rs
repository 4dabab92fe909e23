//! `Item::open`: a record as the server (or a cache file) hands it over,
//! decrypted under the vault key and then decoded.
//!
//! Two halves, chosen by the first input byte:
//! - the rest of the input is *sealed here* under the fuzzer's vault key and
//!   opened again, so the fuzzer reaches the decoder through the real open
//!   path: the outcome must match `Item::decode` on the same bytes, and a
//!   kind label that disagrees with the content must be refused;
//! - the rest is handed to `Item::open` *as a ciphertext*: bytes not made
//!   with the key must never open (and never panic, whatever the length).

#![no_main]

use std::sync::LazyLock;

use gophkeeper_client::internals::{RecordAad, RecordHeader, VaultKey};
use gophkeeper_client::item::{Item, ItemError, ItemKind};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

/// Random per process: no outcome checked here depends on the key's value.
static KEY: LazyLock<VaultKey> = LazyLock::new(VaultKey::generate);

const KINDS: [ItemKind; 4] = [
    ItemKind::Login,
    ItemKind::Text,
    ItemKind::Binary,
    ItemKind::Card,
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(mode >> 1) % KINDS.len()];
    let aad = RecordAad::new(Uuid::from_u128(7), Uuid::from_u128(42), kind);
    if mode & 1 == 0 {
        let sealed = KEY.seal_record(&aad, &RecordHeader::SAMPLE, 0, rest);
        let opened = Item::open(&KEY, &aad, &sealed);
        match (Item::decode(rest), opened) {
            (Ok(item), Ok(opened)) => {
                assert!(item.kind() == kind, "opened under the wrong kind label");
                assert!(opened == item, "open and decode disagree");
            }
            (Ok(item), Err(ItemError::KindMismatch { .. })) => {
                assert!(item.kind() != kind, "refused a matching kind");
            }
            (Err(_), Err(ItemError::Decode(_))) => {}
            (decoded, opened) => panic!(
                "open and decode disagree: decode ok = {}, open = {:?}",
                decoded.is_ok(),
                opened.err()
            ),
        }
    } else {
        assert!(
            Item::open(&KEY, &aad, rest).is_err(),
            "bytes not sealed with the key were accepted as a record"
        );
    }
});

//! `Item::decode`: the bytes inside a record's ciphertext. They passed
//! authentication, but any client version (or a buggy one) may have written
//! them, so the decoder must refuse garbage without panicking.
//!
//! Also checks that decoding is stable: an item re-encoded and decoded again
//! is the same item. If not, opening and saving an item from another client
//! version would silently change it (unknown fields are meant to survive).

#![no_main]

use gophkeeper_client::item::Item;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(item) = Item::decode(data) else {
        return;
    };
    // The validator runs on decoded items before a re-save; it must not
    // panic on anything the decoder lets through.
    let _ = item.validate();
    let again = Item::decode(&item.encode()).expect("a re-encoded item must decode");
    assert!(again == item, "decode(encode(item)) changed the item");
});

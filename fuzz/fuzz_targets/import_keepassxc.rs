//! `import::keepassxc::parse`: a KeePassXC CSV export (any bytes: the CSV
//! reader sees the file as read from disk).
//!
//! Must hold: no panic; every item it produces can be encoded and decoded
//! back unchanged; the item validator does not panic on it.

#![no_main]

use gophkeeper_client::item::Item;
use gophkeeper_tui::import::keepassxc;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = keepassxc::parse(data) else {
        return;
    };
    for item in &parsed.items {
        let _ = item.validate();
        let decoded = Item::decode(&item.encode()).expect("an imported item must decode");
        assert!(&decoded == item, "an imported item changed on encode/decode");
    }
});

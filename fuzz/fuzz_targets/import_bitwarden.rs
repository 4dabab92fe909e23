//! `import::bitwarden::parse`: a Bitwarden JSON export, which the person
//! may have edited or which another tool may have produced.
//!
//! Must hold: no panic on any text; every item it produces can be encoded
//! and decoded back unchanged (it is sealed as-is on import); the item
//! validator, which the import runs before saving, does not panic on it.

#![no_main]

use gophkeeper_client::item::Item;
use gophkeeper_tui::import::bitwarden;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The import command refuses non-UTF-8 before parsing, so do the same.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = bitwarden::parse(text) else {
        return;
    };
    for item in &parsed.items {
        let _ = item.validate();
        let decoded = Item::decode(&item.encode()).expect("an imported item must decode");
        assert!(&decoded == item, "an imported item changed on encode/decode");
    }
});

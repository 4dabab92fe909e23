//! The JSON shapes are an interface: these pin them field by field.

use gophkeeper_client::item::{CardExpiry, CustomField, Item, Payload};
use gophkeeper_client::vault::{Entry, EntryState};
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

fn entry(item: Item) -> Entry {
    Entry {
        id: Uuid::nil(),
        revision: 7,
        state: EntryState::Pending,
        updated_at_ms: 0,
        item,
    }
}

fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[test]
fn a_login_in_full() {
    let mut item = Item::new(
        "Mail",
        Payload::Login {
            username: "me".into(),
            password: "pw".into(),
            urls: vec!["https://mail.example".into()],
            totp: Some("JBSWY3DP".into()),
        },
    );
    item.notes = "personal".into();
    item.fields.push(CustomField::hidden("pin", "1234"));
    let entry = entry(item);
    assert_eq!(
        to_value(&Full::of(&entry)),
        json!({
            "id": "00000000-0000-0000-0000-000000000000",
            "revision": 7,
            "state": "pending",
            "name": "Mail",
            "kind": "login",
            "notes": "personal",
            "fields": [{"key": "pin", "value": "1234", "hidden": true}],
            "login": {
                "username": "me",
                "password": "pw",
                "urls": ["https://mail.example"],
                "totp": "JBSWY3DP"
            }
        })
    );
    assert_eq!(
        to_value(&Summary::of(&entry)),
        json!({
            "id": "00000000-0000-0000-0000-000000000000",
            "name": "Mail",
            "kind": "login",
            "revision": 7,
            "state": "pending"
        })
    );
}

#[test]
fn text_binary_and_card_payloads() {
    let text = Item::new("t", Payload::Text { text: "hi".into() });
    assert_eq!(
        to_value(&ItemJson::of(&text))["text"],
        json!({"text": "hi"})
    );
    let binary = Item::new(
        "b",
        Payload::Binary {
            file_name: "a.bin".into(),
            bytes: vec![0, 1, 2, 255],
        },
    );
    let value = to_value(&ItemJson::of(&binary));
    assert_eq!(
        value["binary"],
        json!({"file_name": "a.bin", "size": 4, "content_base64": "AAEC/w=="})
    );
    assert_eq!(decode_base64("AAEC/w==").unwrap(), [0, 1, 2, 255]);
    let card = Item::new(
        "c",
        Payload::Card {
            holder: "A Person".into(),
            number: "4111 1111 1111 1111".into(),
            expiry: CardExpiry { month: 8, year: 27 },
            cvv: "123".into(),
        },
    );
    let value = to_value(&ItemJson::of(&card));
    assert_eq!(
        value["card"],
        json!({"holder": "A Person", "number": "4111 1111 1111 1111", "expiry": "08/2027", "cvv": "123"})
    );
    assert_eq!(value["kind"], "card");
    assert!(value.get("login").is_none());
}

#[test]
fn status_sessions_conflicts_and_codes() {
    let status = Status {
        profile: "/p".into(),
        server: "https://127.0.0.1:50051".into(),
        username: "alice".into(),
        user_id: Uuid::nil(),
        logged_in: true,
        online: false,
        pending: 2,
        conflicts: 1,
        tampered: 0,
        last_sync_ms: None,
    };
    let mut keys: Vec<String> = to_value(&status)
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "conflicts",
            "last_sync_ms",
            "logged_in",
            "online",
            "pending",
            "profile",
            "server",
            "tampered",
            "user_id",
            "username"
        ]
    );
    let session = Session {
        id: "s1",
        device: "laptop",
        created_at_ms: 1,
        last_seen_at_ms: 2,
        current: true,
    };
    assert_eq!(
        to_value(&session),
        json!({"id": "s1", "device": "laptop", "created_at_ms": 1, "last_seen_at_ms": 2, "current": true})
    );
    let item = Item::new("t", Payload::Text { text: "x".into() });
    let conflict = Conflict {
        id: Uuid::nil(),
        theirs_revision: 3,
        mine: Some(ItemJson::of(&item)),
        theirs: None,
    };
    let value = to_value(&conflict);
    assert_eq!(value["theirs"], Value::Null);
    assert_eq!(value["mine"]["text"]["text"], "x");
    assert_eq!(value["theirs_revision"], 3);
    let code = TotpCode {
        code: "123456",
        remaining_seconds: 12,
        period: 30,
        digits: 6,
        algorithm: "SHA1",
    };
    assert_eq!(
        to_value(&code),
        json!({"code": "123456", "remaining_seconds": 12, "period": 30, "digits": 6, "algorithm": "SHA1"})
    );
}

/// JSON output needs no sanitizing of its own: serde_json writes every C0
/// control character as an escape, `json_line` adds DEL and C1, so the
/// line printed holds no control character, and a script reading it gets
/// the exact text back.
#[test]
fn control_characters_are_escaped_in_json() {
    let hostile = "a\x1b]52;c;aGVsbG8=\x07\x1b[2J\rb\u{9b}\x7f\n";
    let mut item = Item::new(
        hostile,
        Payload::Login {
            username: hostile.into(),
            password: hostile.into(),
            urls: vec![],
            totp: None,
        },
    );
    item.notes = hostile.into();
    item.fields.push(CustomField::new(hostile, hostile));
    let entry = entry(item);
    let full = crate::output::json_line(&Full::of(&entry)).unwrap();
    let summary = crate::output::json_line(&Summary::of(&entry)).unwrap();
    for line in [full, summary] {
        let line = std::str::from_utf8(&line).unwrap();
        let body = line.strip_suffix('\n').unwrap();
        assert!(!body.chars().any(char::is_control), "{line}");
        assert!(
            body.contains(r"a\u001b]52;c;aGVsbG8=\u0007\u001b[2J\rb\u009b\u007f\n"),
            "{line}"
        );
        let back: Value = serde_json::from_str(line).unwrap();
        let name = back.get("name").or_else(|| back["item"].get("name"));
        assert_eq!(name.and_then(Value::as_str), Some(hostile));
    }
}

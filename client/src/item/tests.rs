//! Encoding, sealing and size-limit tests across the whole item model.

use gophkeeper_proto::MAX_RECORD_BYTES;
use proptest::prelude::*;
use prost::Message;
use uuid::Uuid;

use super::wire::{
    ITEM_FORMAT_V1, Preserving, WireBinary, WireCard, WireField, WireItem, WireLogin, WirePayload,
    WireText,
};
use super::*;
use crate::crypto::{CryptoError, RecordAad, RecordHeader, VaultKey, sealed_len};

fn samples() -> Vec<Item> {
    let mut login = Item::new(
        "Mail",
        Payload::Login {
            username: "alice@example.com".into(),
            password: "correct horse battery staple".into(),
            urls: vec!["https://mail.example.com".into(), "example.com".into()],
            totp: Some("JBSWY3DPEHPK3PXP".into()),
        },
    );
    login.notes = "work account\nsecond line".into();
    login.fields = vec![
        CustomField::hidden("recovery", "abcd-efgh"),
        CustomField::new("team", "blue"),
    ];
    vec![
        login,
        Item::new(
            "Diary ✍",
            Payload::Text {
                text: "Ünïcödé\0and nul".into(),
            },
        ),
        Item::new(
            "ssh key",
            Payload::Binary {
                file_name: "id_ed25519".into(),
                bytes: (0..=255).collect(),
            },
        ),
        Item::new(
            "Visa",
            Payload::Card {
                holder: "Alice Example".into(),
                number: "4111 1111 1111 1111".into(),
                expiry: CardExpiry {
                    month: 8,
                    year: 2027,
                },
                cvv: "123".into(),
            },
        ),
    ]
}

fn aad_for(item: &Item) -> RecordAad {
    RecordAad::new(Uuid::from_u128(7), Uuid::from_u128(8), item.kind())
}

const HEADER: RecordHeader = RecordHeader {
    key_epoch: 1,
    version: 1,
    base: 0,
    writer: Uuid::from_u128(5),
    tombstone: false,
};

#[test]
fn every_kind_round_trips_through_encode_and_seal() {
    let key = VaultKey::generate();
    for item in samples() {
        assert_eq!(Item::decode(&item.encode()).unwrap(), item);
        let aad = aad_for(&item);
        let sealed = item.seal(&key, &aad, &HEADER, 0).unwrap();
        assert_eq!(Item::open(&key, &aad, &sealed).unwrap(), item);
    }
}

#[test]
fn seal_refuses_invalid_items_and_wrong_kind_labels() {
    let key = VaultKey::generate();
    let mut item = samples().remove(0);
    let wrong = RecordAad::new(Uuid::nil(), Uuid::nil(), ItemKind::Card);
    assert!(matches!(
        item.seal(&key, &wrong, &HEADER, 0),
        Err(ItemError::KindMismatch {
            item: ItemKind::Login,
            record: ItemKind::Card
        })
    ));
    item.name.clear();
    assert!(matches!(
        item.seal(&key, &aad_for(&item), &HEADER, 0),
        Err(ItemError::Invalid(ValidationError::EmptyName))
    ));
}

#[test]
fn open_reports_tampering_as_a_crypto_error() {
    let key = VaultKey::generate();
    let item = samples().remove(1);
    let aad = aad_for(&item);
    let mut sealed = item.seal(&key, &aad, &HEADER, 0).unwrap();
    *sealed.last_mut().unwrap() ^= 1;
    assert!(matches!(
        Item::open(&key, &aad, &sealed),
        Err(ItemError::Crypto(CryptoError::DecryptionFailed))
    ));
}

#[test]
fn a_tombstone_is_not_an_item() {
    let key = VaultKey::generate();
    let item = samples().remove(0);
    let aad = aad_for(&item);
    let tombstone = key.seal_tombstone(&aad, &HEADER, 0);
    assert!(matches!(
        Item::open(&key, &aad, &tombstone),
        Err(ItemError::Tombstone)
    ));
    let as_tombstone = RecordHeader {
        tombstone: true,
        ..HEADER
    };
    assert!(matches!(
        item.seal(&key, &aad, &as_tombstone, 0),
        Err(ItemError::Tombstone)
    ));
}

#[test]
fn format_1_items_still_open() {
    let key = VaultKey::generate();
    let item = samples().remove(2);
    let aad = aad_for(&item);
    let sealed = key.seal_record_v1(&aad, &item.encode());
    assert_eq!(Item::open(&key, &aad, &sealed).unwrap(), item);
}

#[test]
fn open_checks_the_payload_against_the_authenticated_kind() {
    // A buggy client sealed a Text payload under a Card label.
    let key = VaultKey::generate();
    let item = samples().remove(1);
    let aad = RecordAad::new(Uuid::nil(), Uuid::nil(), ItemKind::Card);
    let sealed = key.seal_record(&aad, &HEADER, 0, &item.encode());
    assert!(matches!(
        Item::open(&key, &aad, &sealed),
        Err(ItemError::KindMismatch {
            item: ItemKind::Text,
            record: ItemKind::Card
        })
    ));
}

fn largest_binary_that_fits() -> usize {
    let probe = |n: usize| {
        Item::new(
            "big",
            Payload::Binary {
                file_name: "blob.bin".into(),
                bytes: vec![0xA5; n],
            },
        )
    };
    // Near the limit every length prefix is 3 bytes long, so the encoding
    // overhead is constant there.
    let guess = MAX_RECORD_BYTES - 1024;
    let overhead = probe(guess).encode().len() - guess;
    MAX_RECORD_BYTES - sealed_len(0) - overhead
}

#[test]
fn the_512_kib_limit_is_exact() {
    let key = VaultKey::generate();
    let n = largest_binary_that_fits();
    let mut item = Item::new(
        "big",
        Payload::Binary {
            file_name: "blob.bin".into(),
            bytes: vec![0xA5; n],
        },
    );
    let aad = aad_for(&item);
    let sealed = item.seal(&key, &aad, &HEADER, 0).unwrap();
    assert_eq!(sealed.len(), MAX_RECORD_BYTES);

    if let Payload::Binary { bytes, .. } = &mut item.payload {
        bytes.push(0);
    }
    let err = item.seal(&key, &aad, &HEADER, 0).unwrap_err();
    assert!(
        matches!(
            err,
            ItemError::Invalid(ValidationError::TooLarge {
                sealed_bytes,
                limit_bytes: MAX_RECORD_BYTES,
            }) if sealed_bytes == MAX_RECORD_BYTES + 1
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "record is 513 KiB after encryption; the limit is 512 KiB"
    );
}

#[test]
fn check_sealed_size_boundary() {
    // 78 bytes of envelope and 8 of sealed time (docs/design.md).
    let limit = MAX_RECORD_BYTES - 86;
    assert_eq!(check_sealed_size(limit), Ok(MAX_RECORD_BYTES));
    assert!(check_sealed_size(limit + 1).is_err());
    assert!(check_sealed_size(usize::MAX).is_err());
}

#[test]
fn unknown_fields_from_a_newer_client_survive_an_edit() {
    // A newer client added item field 20, Card field 9 and a CustomField
    // field 4. This client edits the name and saves.
    let card = WireCard {
        holder: "H".into(),
        number: "4111111111111111".into(),
        expiry_month: 1,
        expiry_year: 2030,
        cvv: "123".into(),
    };
    let mut newer = Preserving {
        known: WireItem {
            format_version: ITEM_FORMAT_V1,
            name: "old name".into(),
            notes: String::new(),
            password_changed_ms: None,
            fields: vec![Preserving {
                known: WireField {
                    key: "k".into(),
                    value: "v".into(),
                    hidden: false,
                },
                unknown: vec![0x20, 0x01], // field 4, varint 1
            }],
            payload: Some(WirePayload::Card(Preserving {
                known: card,
                unknown: vec![0x4a, 0x04, b'v', b'i', b's', b'a'], // field 9, "visa"
            })),
        },
        unknown: vec![0xa2, 0x01, 0x02, b'h', b'i'], // field 20, "hi"
    };
    let bytes = newer.encode_to_vec();
    newer.known.name = "new name".into();
    let expected = newer.encode_to_vec();

    let mut item = Item::decode(&bytes).unwrap();
    item.name = "new name".into();
    assert_eq!(item.encode().as_slice(), expected.as_slice());
    assert_eq!(Item::decode(&item.encode()).unwrap(), item);
}

#[test]
fn payload_extensions_never_move_to_another_kind() {
    let mut newer = Preserving::<WireItem>::default();
    newer.known.format_version = ITEM_FORMAT_V1;
    newer.known.name = "n".into();
    newer.known.payload = Some(WirePayload::Text(Preserving {
        known: WireText { text: "t".into() },
        unknown: vec![0x10, 0x05], // field 2, varint 5
    }));
    let mut item = Item::decode(&newer.encode_to_vec()).unwrap();
    item.payload = Payload::Binary {
        file_name: "f".into(),
        bytes: vec![],
    };
    let Payload::Binary { .. } = Item::decode(&item.encode()).unwrap().payload else {
        panic!("kind changed")
    };
    let reencoded = Preserving::<WireItem>::decode(item.encode().as_slice()).unwrap();
    let Some(WirePayload::Binary(binary)) = &reencoded.known.payload else {
        panic!("not binary")
    };
    assert!(binary.unknown.is_empty());
}

#[test]
fn decode_errors_are_specific() {
    let item = |version, payload| {
        let mut item = Preserving::<WireItem>::default();
        item.known.format_version = version;
        item.known.name = "n".into();
        item.known.payload = payload;
        item
    };
    let text = || {
        Some(WirePayload::Text(Preserving {
            known: WireText { text: "t".into() },
            unknown: Vec::new(),
        }))
    };
    let decode = |m: Preserving<WireItem>| Item::decode(&m.encode_to_vec()).unwrap_err();

    assert!(matches!(
        decode(item(0, text())),
        DecodeError::MissingVersion
    ));
    assert!(matches!(
        decode(item(2, text())),
        DecodeError::UnsupportedVersion { found: 2 }
    ));
    assert!(matches!(decode(item(1, None)), DecodeError::MissingPayload));
    let mut card = Preserving::<WireCard>::default();
    card.known.expiry_month = 300;
    card.known.expiry_year = 2030;
    let bad_expiry = Some(WirePayload::Card(card));
    assert!(matches!(
        decode(item(1, bad_expiry)),
        DecodeError::ExpiryOutOfRange { month: 300, .. }
    ));
    // Invalid UTF-8 in the name (field 2).
    let garbage = [0x08, 0x01, 0x12, 0x02, 0xff, 0xfe];
    assert!(matches!(
        Item::decode(&garbage),
        Err(DecodeError::Malformed(_))
    ));
    // A length prefix far past the end of the input.
    assert!(matches!(
        Item::decode(&[0x62, 0xff, 0xff, 0xff, 0x7f]),
        Err(DecodeError::Malformed(_))
    ));
    assert!(Item::decode(&[]).is_err());
}

#[test]
fn file_bytes_decode_with_last_one_wins_and_bounded_lengths() {
    // Item: version 1, name "n", binary payload (field 12) holding bytes
    // field 2 twice; protobuf says the last value wins.
    let binary = [0x12, 0x02, b'a', b'b', 0x12, 0x01, b'c'];
    // 7 = binary.len().
    let mut encoded = vec![0x08, 0x01, 0x12, 0x01, b'n', 0x62, 7];
    encoded.extend_from_slice(&binary);
    let item = Item::decode(&encoded).unwrap();
    assert!(matches!(&item.payload, Payload::Binary { bytes, .. } if bytes == b"c"));
    // A bytes length past the end of the input.
    let short = [0x08, 0x01, 0x62, 0x03, 0x12, 0x05, b'x'];
    assert!(matches!(
        Item::decode(&short),
        Err(DecodeError::Malformed(_))
    ));
    // The bytes field with the wrong wire type (varint).
    let wrong_type = [0x08, 0x01, 0x62, 0x02, 0x10, 0x01];
    assert!(matches!(
        Item::decode(&wrong_type),
        Err(DecodeError::Malformed(_))
    ));
}

fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("(?s).{0,40}").unwrap()
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (
            text(),
            text(),
            proptest::collection::vec(text(), 0..3),
            proptest::option::of(text())
        )
            .prop_map(|(username, password, urls, totp)| Payload::Login {
                username,
                password,
                urls,
                totp,
            }),
        text().prop_map(|text| Payload::Text { text }),
        (text(), proptest::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(file_name, bytes)| Payload::Binary { file_name, bytes }),
        (text(), text(), any::<u8>(), any::<u16>(), text()).prop_map(
            |(holder, number, month, year, cvv)| Payload::Card {
                holder,
                number,
                expiry: CardExpiry { month, year },
                cvv,
            }
        ),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    let field = (text(), text(), any::<bool>()).prop_map(|(key, value, hidden)| {
        let mut field = CustomField::new(key, value);
        field.hidden = hidden;
        field
    });
    (
        text(),
        text(),
        proptest::collection::vec(field, 0..4),
        payload(),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(|(name, notes, fields, payload, changed)| {
            let mut item = Item::new(name, payload);
            item.notes = notes;
            item.fields = fields;
            item.password_changed_ms = changed;
            item
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encoding_matches_the_derived_wire_types(item in item()) {
        let (direct, derived) = (item.encode(), to_wire(&item).encode_to_vec());
        prop_assert_eq!(direct.as_slice(), derived.as_slice());
    }

    #[test]
    fn any_item_round_trips(item in item()) {
        prop_assert_eq!(Item::decode(&item.encode()).unwrap(), item);
    }

    #[test]
    fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = Item::decode(&bytes);
    }

    #[test]
    fn decoding_damaged_items_never_panics(
        item in item(),
        cut in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = item.encode().to_vec();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = Item::decode(&bytes);
        let _ = Item::decode(&bytes[..cut.index(bytes.len())]);
    }
}

/// The item as the derived wire structs: what `encode.rs` writes without
/// them, kept as the reference its output is tested against.
fn to_wire(item: &Item) -> Preserving<WireItem> {
    let ext = &item.extensions;
    let payload_unknown = if ext.payload_kind == item.kind().as_u8() {
        ext.payload.clone()
    } else {
        Vec::new()
    };
    let payload = match &item.payload {
        Payload::Login {
            username,
            password,
            urls,
            totp,
        } => WirePayload::Login(Preserving {
            known: WireLogin {
                username: username.clone(),
                password: password.clone(),
                urls: urls.clone(),
                totp: totp.clone(),
            },
            unknown: payload_unknown,
        }),
        Payload::Text { text } => WirePayload::Text(Preserving {
            known: WireText { text: text.clone() },
            unknown: payload_unknown,
        }),
        Payload::Binary { file_name, bytes } => WirePayload::Binary(Preserving {
            known: WireBinary {
                file_name: file_name.clone(),
                bytes: bytes.clone(),
            },
            unknown: payload_unknown,
        }),
        Payload::Card {
            holder,
            number,
            expiry,
            cvv,
        } => WirePayload::Card(Preserving {
            known: WireCard {
                holder: holder.clone(),
                number: number.clone(),
                expiry_month: expiry.month.into(),
                expiry_year: expiry.year.into(),
                cvv: cvv.clone(),
            },
            unknown: payload_unknown,
        }),
    };
    let fields = item
        .fields
        .iter()
        .map(|field| Preserving {
            known: WireField {
                key: field.key.clone(),
                value: field.value.clone(),
                hidden: field.hidden,
            },
            unknown: field.unknown.clone(),
        })
        .collect();
    Preserving {
        known: WireItem {
            format_version: ITEM_FORMAT_V1,
            name: item.name.clone(),
            notes: item.notes.clone(),
            fields,
            password_changed_ms: item.password_changed_ms,
            payload: Some(payload),
        },
        unknown: ext.item.clone(),
    }
}

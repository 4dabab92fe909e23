use crate::item::{CardExpiry, CustomField, Payload};
use proptest::prelude::*;

use super::*;

fn items() -> Vec<Item> {
    let mut login = Item::new(
        "Mail account",
        Payload::Login {
            username: "me".into(),
            password: "pw-q7Zk3v9T".into(),
            urls: vec!["mail.example".into()],
            totp: Some("JBSWY3DPEHPK3PXP".into()),
        },
    );
    login.notes = "notes".into();
    login.fields.push(CustomField::hidden("pin", "1"));
    vec![
        login,
        Item::new(
            "Note",
            Payload::Text {
                text: "the note text".into(),
            },
        ),
        Item::new(
            "File",
            Payload::Binary {
                file_name: "a.bin".into(),
                bytes: vec![0, 159, 146, 150],
            },
        ),
        Item::new(
            "Card",
            Payload::Card {
                holder: "A".into(),
                number: "4111111111111111".into(),
                expiry: CardExpiry {
                    month: 1,
                    year: 2030,
                },
                cvv: "123".into(),
            },
        ),
    ]
}

#[test]
fn round_trip_and_wrong_password() {
    let password = SecretString::from("export password");
    let sealed = seal(&items(), &password).unwrap();
    let text = String::from_utf8(sealed.clone()).unwrap();
    assert!(text.contains("\"format\": \"gophkeeper-export\""));
    // Long enough that base64 of random bytes cannot hold one by chance.
    for secret in [
        "Mail account",
        "pw-q7Zk3v9T",
        "mail.example",
        "JBSWY3DP",
        "4111111111111111",
        "the note text",
    ] {
        assert!(!text.contains(secret), "{secret} in the clear");
    }
    assert_eq!(open(&sealed, &password).unwrap(), items());
    assert!(matches!(
        open(&sealed, &SecretString::from("wrong")),
        Err(BackupError::WrongPassword)
    ));
    // Two exports of the same items share nothing.
    assert_ne!(seal(&items(), &password).unwrap(), sealed);
}

#[test]
fn tampering_and_other_files_are_refused() {
    let password = SecretString::from("pw");
    let sealed = seal(&items()[..1], &password).unwrap();
    let mut envelope: serde_json::Value = serde_json::from_slice(&sealed).unwrap();
    let payload = envelope["sealed"].as_str().unwrap().to_owned();
    let mut raw = STANDARD.decode(&payload).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    envelope["sealed"] = STANDARD.encode(&raw).into();
    let tampered = serde_json::to_vec(&envelope).unwrap();
    assert!(matches!(
        open(&tampered, &password),
        Err(BackupError::Corrupt(_))
    ));
    envelope["version"] = 2.into();
    assert!(matches!(
        open(&serde_json::to_vec(&envelope).unwrap(), &password),
        Err(BackupError::UnsupportedVersion(2))
    ));
    assert!(matches!(
        open(b"{\"items\": []}", &password),
        Err(BackupError::NotAnExport)
    ));
    assert!(matches!(
        open(b"", &password),
        Err(BackupError::NotAnExport)
    ));
}

#[test]
fn payload_framing() {
    assert_eq!(
        decode_items(&encode_items(&items()).unwrap()).unwrap(),
        items()
    );
    assert!(decode_items(&[0, 0, 0, 0]).unwrap().is_empty());
    assert!(decode_items(&[0, 0, 0, 9]).is_err());
    assert!(decode_items(&[0, 0, 0, 1, 0, 0, 0, 5, 1]).is_err());
    assert!(decode_items(&[0, 0, 0, 0, 1]).is_err());
}

proptest! {
    /// Never panics on garbage, and never reaches the key derivation.
    #[test]
    fn garbage_is_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert!(open(&bytes, &SecretString::from("x")).is_err());
        let _ = decode_items(&bytes);
    }
}

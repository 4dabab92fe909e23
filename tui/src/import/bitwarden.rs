//! Bitwarden's unencrypted JSON export (`Tools → Export vault → .json`).
//!
//! | Bitwarden type | becomes |
//! |---|---|
//! | 1 login | login: username, password, URIs, TOTP, notes, custom fields |
//! | 2 secure note | text (the note) |
//! | 3 card | card; text listing its fields if the number, expiry or CVV does not pass validation |
//! | 4 identity | text listing its fields |
//! | 5 SSH key | text listing the keys and fingerprint |
//!
//! Custom fields keep their type: hidden ones stay hidden, booleans become
//! `true`/`false`, linked fields (which only point at another field) are
//! dropped. The folder becomes a `folder` field. Items in the trash are
//! skipped; passkeys and password history cannot be imported and are
//! reported. The file is read as untyped JSON so that a field of an
//! unexpected type costs that field, not the whole import.

use gophkeeper_client::item::{
    CardExpiry, CustomField, Item, Payload, validate_card_number, validate_cvv,
};
use serde_json::Value;

use super::{ImportError, Note, Parsed, item_name, listing, login};

/// Text of a JSON value that should be a string (numbers are accepted:
/// some exporters write `"expYear": 2030`).
fn text(value: &Value, key: &str) -> String {
    match value.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub fn parse(input: &str) -> Result<Parsed, ImportError> {
    let root: Value =
        serde_json::from_str(input).map_err(|e| ImportError::NotBitwarden(e.to_string()))?;
    if root.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(ImportError::EncryptedBitwarden);
    }
    let items = root
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::NotBitwarden("it has no \"items\" list".into()))?;
    let folders: Vec<(String, String)> = array(&root, "folders")
        .iter()
        .map(|f| (text(f, "id"), text(f, "name")))
        .collect();
    let mut parsed = Parsed::default();
    for (index, entry) in items.iter().enumerate() {
        let name = text(entry, "name");
        let label = if name.trim().is_empty() {
            format!("item {}", index + 1)
        } else {
            name.clone()
        };
        if entry.get("deletedDate").is_some_and(|d| !d.is_null()) {
            parsed
                .skipped
                .push(Note::new(label, "in Bitwarden's trash"));
            continue;
        }
        let kind = entry.get("type").and_then(Value::as_u64).unwrap_or(0);
        let mut item = match kind {
            1 => login_item(entry, &name, &label, &mut parsed),
            2 => Item::new(
                item_name(&name),
                Payload::Text {
                    text: text(entry, "notes"),
                },
            ),
            3 => card_item(entry, &name, &label, &mut parsed),
            4 => identity_item(entry, &name),
            5 => ssh_key_item(entry, &name),
            other => {
                parsed.skipped.push(Note::new(
                    label,
                    format!("unknown Bitwarden item type {other}"),
                ));
                continue;
            }
        };
        // A secure note's notes are its text; everyone else's are notes.
        if kind != 2 {
            item.notes = text(entry, "notes");
        }
        add_fields(entry, &mut item, &label, &mut parsed);
        let folder_id = text(entry, "folderId");
        if let Some((_, folder)) = folders
            .iter()
            .find(|(id, _)| !id.is_empty() && *id == folder_id)
        {
            item.fields.push(CustomField::new("folder", folder.clone()));
        }
        if !array(entry, "passwordHistory").is_empty() {
            parsed.converted.push(Note::new(
                label.clone(),
                "its password history is not imported",
            ));
        }
        parsed.items.push(item);
    }
    Ok(parsed)
}

fn login_item(entry: &Value, name: &str, label: &str, parsed: &mut Parsed) -> Item {
    let empty = Value::Null;
    let data = entry.get("login").unwrap_or(&empty);
    let urls = array(data, "uris").iter().map(|u| text(u, "uri")).collect();
    let totp = Some(text(data, "totp"));
    if !array(data, "fido2Credentials").is_empty() {
        parsed.converted.push(Note::new(
            label,
            "its passkey is not imported (GophKeeper stores no passkeys)",
        ));
    }
    login(
        name,
        text(data, "username"),
        text(data, "password"),
        urls,
        totp,
    )
}

fn card_item(entry: &Value, name: &str, label: &str, parsed: &mut Parsed) -> Item {
    let empty = Value::Null;
    let data = entry.get("card").unwrap_or(&empty);
    let (holder, number, cvv) = (
        text(data, "cardholderName"),
        text(data, "number"),
        text(data, "code"),
    );
    let (month, year) = (text(data, "expMonth"), text(data, "expYear"));
    let brand = text(data, "brand");
    let expiry = CardExpiry::parse(&format!("{}/{}", month.trim(), year.trim()));
    let checked = validate_card_number(&number)
        .and_then(|()| validate_cvv(&cvv))
        .and_then(|()| expiry.clone().map(|_| ()));
    match (checked, expiry) {
        (Ok(()), Ok(expiry)) => {
            let mut item = Item::new(
                item_name(name),
                Payload::Card {
                    holder,
                    number,
                    expiry,
                    cvv,
                },
            );
            if !brand.is_empty() {
                item.fields.push(CustomField::new("brand", brand));
            }
            item
        }
        (Err(reason), _) | (_, Err(reason)) => {
            parsed
                .converted
                .push(Note::new(label, format!("card imported as text: {reason}")));
            listing(
                name,
                &[
                    ("Cardholder", holder),
                    ("Brand", brand),
                    ("Number", number),
                    ("Expiry month", month),
                    ("Expiry year", year),
                    ("Security code", cvv),
                ],
            )
        }
    }
}

fn identity_item(entry: &Value, name: &str) -> Item {
    let empty = Value::Null;
    let data = entry.get("identity").unwrap_or(&empty);
    let fields = [
        ("title", "Title"),
        ("firstName", "First name"),
        ("middleName", "Middle name"),
        ("lastName", "Last name"),
        ("username", "Username"),
        ("company", "Company"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("address1", "Address"),
        ("address2", "Address 2"),
        ("address3", "Address 3"),
        ("city", "City"),
        ("state", "State"),
        ("postalCode", "Postal code"),
        ("country", "Country"),
        ("ssn", "Social security number"),
        ("passportNumber", "Passport number"),
        ("licenseNumber", "License number"),
    ];
    let lines: Vec<(&str, String)> = fields
        .iter()
        .map(|(key, label)| (*label, text(data, key)))
        .collect();
    listing(name, &lines)
}

fn ssh_key_item(entry: &Value, name: &str) -> Item {
    let empty = Value::Null;
    let data = entry.get("sshKey").unwrap_or(&empty);
    listing(
        name,
        &[
            ("Private key", text(data, "privateKey")),
            ("Public key", text(data, "publicKey")),
            ("Fingerprint", text(data, "keyFingerprint")),
        ],
    )
}

/// Bitwarden field types: 0 text, 1 hidden, 2 boolean, 3 linked.
fn add_fields(entry: &Value, item: &mut Item, label: &str, parsed: &mut Parsed) {
    let mut linked = 0;
    for field in array(entry, "fields") {
        let (key, value) = (text(field, "name"), text(field, "value"));
        match field.get("type").and_then(Value::as_u64).unwrap_or(0) {
            1 => item.fields.push(CustomField::hidden(key, value)),
            3 => linked += 1,
            _ => item.fields.push(CustomField::new(key, value)),
        }
    }
    if linked > 0 {
        parsed.converted.push(Note::new(
            label,
            format!("{linked} linked field(s) dropped (they only point at another field)"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_shape_is_checked() {
        assert!(matches!(parse("[]"), Err(ImportError::NotBitwarden(_))));
        assert!(matches!(parse("nope"), Err(ImportError::NotBitwarden(_))));
        assert!(matches!(
            parse(r#"{"encrypted": true, "data": "x"}"#),
            Err(ImportError::EncryptedBitwarden)
        ));
        let parsed = parse(r#"{"items": [{"type": 9, "name": "x"}, {"type": 2}]}"#).unwrap();
        assert_eq!(
            parsed.skipped,
            [Note::new("x", "unknown Bitwarden item type 9")]
        );
        assert_eq!(parsed.items[0].name, "Untitled");
    }

    proptest! {
        #[test]
        fn never_panics_on_garbage(input in ".{0,300}") {
            let _ = parse(&input);
        }

        /// Well-formed JSON of the right outline but arbitrary values.
        #[test]
        fn never_panics_on_odd_values(
            kind in 0u64..8,
            a in ".{0,20}",
            b in any::<i64>(),
            c in ".{0,20}",
        ) {
            let doc = serde_json::json!({
                "folders": [{"id": a, "name": b}],
                "items": [{
                    "type": kind, "name": a, "folderId": a, "notes": b,
                    "login": {"uris": [{"uri": c}, {"uri": b}], "username": b, "totp": c},
                    "card": {"number": c, "expMonth": b, "expYear": a, "code": b},
                    "identity": {"firstName": b},
                    "fields": [{"name": a, "value": b, "type": kind}],
                }]
            });
            let _ = parse(&doc.to_string());
        }
    }
}

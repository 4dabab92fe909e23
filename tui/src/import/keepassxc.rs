//! KeePassXC's CSV export (`Database → Export → CSV file`): one row per
//! entry, with the header
//! `"Group","Title","Username","Password","URL","Notes","TOTP","Icon","Last Modified","Created"`
//! (older versions stop after `Notes`). Columns are found by their header
//! names, so either layout works.
//!
//! Every row becomes a login: title, user name, password, URL, notes and
//! TOTP (an `otpauth://` URI). The group path becomes a `group` field.
//! Rows in the recycle bin and empty rows are skipped; a TOTP value that is
//! not usable is kept as a hidden `totp` field and reported.

use gophkeeper_client::item::{CustomField, Payload};

use super::{ImportError, Note, Parsed, login};
use crate::totp::Totp;

/// Column positions, found from the header.
struct Columns {
    group: Option<usize>,
    title: usize,
    username: Option<usize>,
    password: usize,
    url: Option<usize>,
    notes: Option<usize>,
    totp: Option<usize>,
}

impl Columns {
    fn find(header: &csv::ByteRecord) -> Result<Self, ImportError> {
        let position = |name: &str| {
            header.iter().position(|h| {
                String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(name)
            })
        };
        let required = |name: &str| {
            position(name).ok_or_else(|| ImportError::NotKeepassxc(format!("no {name:?} column")))
        };
        Ok(Self {
            group: position("Group"),
            title: required("Title")?,
            username: position("Username"),
            password: required("Password")?,
            url: position("URL"),
            notes: position("Notes"),
            totp: position("TOTP"),
        })
    }
}

pub fn parse(input: &[u8]) -> Result<Parsed, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|e| ImportError::NotKeepassxc(e.to_string()))?
        .clone();
    let columns = Columns::find(&header)?;
    let mut parsed = Parsed::default();
    let mut record = csv::ByteRecord::new();
    let mut row = 1;
    loop {
        row += 1;
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                parsed.skipped.push(Note::new(
                    format!("row {row}"),
                    format!("unreadable: {err}"),
                ));
                // The reader cannot resynchronise after some errors.
                if matches!(err.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| record.get(i))
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let title = cell(Some(columns.title));
        let label = if title.trim().is_empty() {
            format!("row {row}")
        } else {
            title.clone()
        };
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            parsed.skipped.push(Note::new(label, "empty row"));
            continue;
        }
        let group = cell(columns.group);
        if group
            .split('/')
            .any(|part| part.trim().eq_ignore_ascii_case("Recycle Bin"))
        {
            parsed.skipped.push(Note::new(label, "in the recycle bin"));
            continue;
        }
        let totp = cell(columns.totp);
        let usable_totp = totp.trim().is_empty() || Totp::parse(&totp).is_ok();
        let url = cell(columns.url);
        let mut item = login(
            &title,
            cell(columns.username),
            cell(Some(columns.password)),
            vec![url],
            usable_totp.then(|| totp.clone()),
        );
        if !usable_totp {
            parsed.converted.push(Note::new(
                label.clone(),
                "its TOTP value is not a usable secret; kept as a hidden field \"totp\"",
            ));
            item.fields.push(CustomField::hidden("totp", totp));
        }
        item.notes = cell(columns.notes);
        if !group.trim().is_empty() {
            item.fields.push(CustomField::new("group", group));
        }
        debug_assert!(matches!(item.payload, Payload::Login { .. }));
        parsed.items.push(item);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn header_names_not_positions() {
        let csv = "\"Title\",\"Password\",\"Username\"\n\"a\",\"p\",\"u\"\n";
        let parsed = parse(csv.as_bytes()).unwrap();
        let Payload::Login {
            username, password, ..
        } = &parsed.items[0].payload
        else {
            panic!("not a login");
        };
        assert_eq!((username.as_str(), password.as_str()), ("u", "p"));
        assert!(matches!(
            parse(b"\"Name\",\"Secret\"\n"),
            Err(ImportError::NotKeepassxc(_))
        ));
        assert!(matches!(parse(b""), Err(ImportError::NotKeepassxc(_))));
    }

    proptest! {
        #[test]
        fn never_panics_on_garbage(input in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&input);
        }

        #[test]
        fn never_panics_on_rows(rows in proptest::collection::vec(".{0,40}", 0..6)) {
            let mut doc = String::from("\"Group\",\"Title\",\"Username\",\"Password\",\"URL\",\"Notes\",\"TOTP\"\n");
            for row in rows {
                doc.push_str(&row);
                doc.push('\n');
            }
            let _ = parse(doc.as_bytes());
        }
    }
}

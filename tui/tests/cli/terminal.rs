//! Terminal safety: item text from another device (through the server) or
//! from an imported file never reaches the terminal with a control
//! character in it. Text output shows each one escaped (`\u{1b}`, `\r`);
//! notes keep their lines; JSON carries the exact text, escaped as JSON.

use serde_json::Value;

use crate::helpers::{Device, Output, TestServer};

/// Writes the clipboard (OSC 52), clears the screen, and moves the cursor
/// back to overwrite what came before.
const OSC52: &str = "\x1b]52;c;aGVsbG8=\x07";
const CLEAR: &str = "\x1b[2J";

/// No ESC, CR, BEL or other control byte on either stream; newlines (and
/// tabs in notes) are the only ones allowed.
#[track_caller]
fn no_controls(out: &Output) {
    for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| c.is_control() && c != '\n' && c != '\t')
            .collect();
        assert!(bad.is_empty(), "{bad:?} on {stream}: {out:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_notes_reach_the_terminal_escaped() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "tess"]).await;

    let name = format!("pay{OSC52}{CLEAR}\rpal");
    let notes = format!("line one\r\n{OSC52}\rline two\n{CLEAR}line three");
    let shown_name = r"pay\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[2J\rpal";
    let out = device
        .ok(&[
            "add",
            "login",
            &name,
            "--username",
            &format!("me{CLEAR}"),
            "--password",
            "pw",
            "--meta",
            &notes,
            "--field",
            &format!("k{CLEAR}=v\r"),
        ])
        .await;
    no_controls(&out);

    let out = device.ok(&["list"]).await;
    no_controls(&out);
    assert!(out.stdout.contains(shown_name), "{out:#?}");

    let out = device.ok(&["get", &name]).await;
    no_controls(&out);
    for row in [
        format!("name:      {shown_name}\n"),
        r"username:  me\u{1b}[2J".into(),
        r"field k\u{1b}[2J: v\r".into(),
        // Notes keep their lines (CR-LF becomes a newline), nothing else.
        "notes:     line one\n".into(),
        "           \\u{1b}]52;c;aGVsbG8=\\u{7}\\rline two\n".into(),
        "           \\u{1b}[2Jline three\n".into(),
    ] {
        assert!(out.stdout.contains(&row), "{row:?} not in {out:#?}");
    }

    // A name in an error message (here one that names no item) is
    // escaped too.
    let out = device
        .run(&["get", &format!("nothing{CLEAR}\r")])
        .await
        .fails_with(1, r#"no item "nothing\u{1b}[2J\r""#);
    no_controls(&out);

    // JSON carries the exact text, every control character escaped the
    // way JSON does it.
    for args in [&["list", "--json"][..], &["get", &name, "--json"][..]] {
        let out = device.ok(args).await;
        no_controls(&out);
        assert!(
            out.stdout
                .contains(r"pay\u001b]52;c;aGVsbG8=\u0007\u001b[2J\rpal"),
            "{out:#?}"
        );
        let json = out.json();
        let item = if json.is_array() { &json[0] } else { &json };
        assert_eq!(item["name"], Value::from(name.as_str()), "{out:#?}");
    }
    let got = device.ok(&["get", &name, "--json"]).await.json();
    assert_eq!(got["notes"], Value::from(notes.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_file_cannot_drive_the_terminal() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "ivan"]).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    // A Bitwarden export whose names, notes, fields and TOTP label carry
    // escape sequences (JSON's \u001b is ESC), and one entry it cannot
    // import, so the report names it.
    let export = serde_json::json!({
        "encrypted": false,
        "folders": [],
        "items": [
            {
                "id": "1", "type": 1, "name": format!("Bank{OSC52}"),
                "notes": format!("a\r\nb{CLEAR}"),
                "fields": [{ "name": format!("pin{CLEAR}"), "value": "1\r2", "type": 0 }],
                "login": {
                    "uris": [], "username": format!("u{CLEAR}"), "password": "pw",
                    "totp": "otpauth://totp/Evil%1B%5D52;c;aGk=%07:me?secret=JBSWY3DPEHPK3PXP"
                }
            },
            { "id": "2", "type": 99, "name": format!("odd{CLEAR}\r") }
        ]
    });
    std::fs::write(file.path(), export.to_string()).unwrap();
    let out = device
        .ok(&[
            "import",
            "--format",
            "bitwarden-json",
            file.path().to_str().unwrap(),
        ])
        .await;
    no_controls(&out);
    assert!(out.stdout.contains(r"odd\u{1b}[2J\r"), "{out:#?}");

    let out = device.ok(&["list"]).await;
    no_controls(&out);
    assert!(
        out.stdout.contains(r"Bank\u{1b}]52;c;aGVsbG8=\u{7}"),
        "{out:#?}"
    );
    let bank = format!("Bank{OSC52}");
    let out = device.ok(&["get", &bank]).await;
    no_controls(&out);
    assert!(out.stdout.contains("notes:     a\n"), "{out:#?}");
    assert!(out.stdout.contains(r"field pin\u{1b}[2J: 1\r2"), "{out:#?}");
    // The TOTP code is digits whatever the label says.
    let out = device.ok(&["totp", &bank]).await;
    no_controls(&out);
    assert_eq!(out.stdout.trim().len(), 6, "{out:#?}");
}

/// Another device's version in a conflict: its name is shown escaped in
/// the conflicts list, like everywhere else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_listing_shows_the_other_side_escaped() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "cora"]).await;
    phone.ok(&["login", "cora"]).await;
    laptop.ok(&["add", "text", "doc", "--text", "base"]).await;
    phone.ok(&["sync"]).await;
    let hostile = format!("doc{OSC52}{CLEAR}\r");
    laptop.ok(&["edit", "doc", "--name", &hostile]).await;
    // Both rename it, so the edits conflict instead of merging.
    let out = phone
        .run(&["edit", "doc", "--name", "my doc", "--text", "mine"])
        .await;
    assert_eq!(out.code, 3, "{out:#?}");
    no_controls(&out);

    let out = phone.ok(&["conflicts"]).await;
    no_controls(&out);
    assert!(
        out.stdout
            .contains(r#"theirs: text "doc\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[2J\r""#),
        "{out:#?}"
    );
    assert!(out.stdout.contains("differ:  name, text"), "{out:#?}");
    let out = phone.ok(&["conflicts", "--json"]).await;
    no_controls(&out);
    assert_eq!(
        out.json()[0]["theirs"]["name"],
        Value::from(hostile.as_str())
    );
}

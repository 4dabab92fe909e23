//! Two profiles of one user (two devices) see each other's changes, through
//! every kind of item and every read command's text and JSON output.

use gophkeeper_tui::output::json::decode_base64;
use gophkeeper_tui::totp::Totp;

use crate::helpers::{Device, TestServer, names};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_of_one_user_see_each_others_changes() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    let out = laptop.ok(&["register", "alice"]).await;
    assert!(out.stderr.contains("Registered \"alice\""), "{out:#?}");
    phone.ok(&["login", "alice"]).await;

    // The laptop adds one item of every kind.
    let totp = "JBSWY3DPEHPK3PXP";
    let login_id = laptop
        .ok(&[
            "add",
            "login",
            "Mail",
            "--username",
            "alice@mail.example",
            "--password",
            "m@il-pw",
            "--url",
            "https://mail.example",
            "--url",
            "mail.example",
            "--totp",
            totp,
            "--meta",
            "personal",
            "--field",
            "recovery=words words",
        ])
        .await
        .stdout;
    let login_id = login_id.trim();
    assert_eq!(login_id.len(), 36, "the new id on stdout");
    laptop
        .ok(&["add", "text", "Diary", "--text", "dear diary"])
        .await;
    let file = laptop.dir.path().join("photo.bin");
    std::fs::write(&file, [0_u8, 1, 2, 254, 255]).unwrap();
    laptop
        .ok(&["add", "binary", "Photo", "--file", file.to_str().unwrap()])
        .await;
    let out = laptop
        .ok(&[
            "add",
            "card",
            "Visa",
            "--number",
            "4539 1488 0343 6467",
            "--expiry",
            "12/31",
            "--holder",
            "Alice A",
            "--cvv",
            "913",
        ])
        .await;
    assert!(out.stderr.contains("added card \"Visa\": done"), "{out:#?}");

    // The phone sees all of it (list syncs first).
    assert_eq!(names(&phone).await, ["Diary", "Mail", "Photo", "Visa"]);
    let out = phone.ok(&["list", "--kind", "card"]).await;
    assert!(out.stdout.contains("  card    Visa\n"), "{out:#?}");
    assert_eq!(out.stdout.lines().count(), 1);

    // Default output masks secrets; --field and --json show them.
    let details = phone.ok(&["get", "Mail"]).await.stdout;
    assert!(details.contains("alice@mail.example") && details.contains("personal"));
    assert!(
        !details.contains("m@il-pw") && !details.contains(totp),
        "{details}"
    );
    let pw = phone.ok(&["get", "Mail", "--field", "password"]).await;
    assert_eq!(pw.stdout, "m@il-pw\n");
    let custom = phone.ok(&["get", login_id, "--field", "recovery"]).await;
    assert_eq!(custom.stdout, "words words\n");
    let full = phone.ok(&["get", "Mail", "--json"]).await.json();
    assert_eq!(full["id"], login_id);
    assert_eq!(full["kind"], "login");
    assert_eq!(full["state"], "synced");
    assert_eq!(full["login"]["urls"][1], "mail.example");
    assert_eq!(full["login"]["totp"], totp);
    assert_eq!(full["fields"][0]["key"], "recovery");
    let card = phone.ok(&["get", "Visa"]).await.stdout;
    assert!(
        card.contains("**** 6467") && !card.contains("4539"),
        "{card}"
    );
    let expiry = phone.ok(&["get", "Visa", "--field", "expiry"]).await;
    assert_eq!(expiry.stdout, "12/2031\n");

    // A binary item saves to a file, owner-only.
    let saved = phone.dir.path().join("out.bin");
    phone
        .ok(&["get", "Photo", "--out", saved.to_str().unwrap()])
        .await;
    assert_eq!(std::fs::read(&saved).unwrap(), [0, 1, 2, 254, 255]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let photo = phone.ok(&["get", "Photo", "--json"]).await.json();
    let content = decode_base64(photo["binary"]["content_base64"].as_str().unwrap()).unwrap();
    assert_eq!(content, [0, 1, 2, 254, 255]);

    // TOTP: the code the binary prints is the RFC 6238 code of the secret
    // (checked around a period boundary).
    let expected = Totp::parse(totp).unwrap();
    let before = expected.now().code;
    let code = phone.ok(&["totp", "Mail"]).await.stdout;
    let after = expected.now().code;
    assert!(code.trim() == before || code.trim() == after, "{code}");
    let json = phone.ok(&["totp", "Mail", "--json"]).await.json();
    assert_eq!(
        (json["digits"].as_u64(), json["period"].as_u64()),
        (Some(6), Some(30))
    );

    // The phone edits; the laptop sees it. Then the laptop deletes.
    let out = phone
        .ok(&[
            "edit",
            "Diary",
            "--text",
            "dear diary, again",
            "--name",
            "Journal",
        ])
        .await;
    assert!(
        out.stderr.contains("edited text \"Journal\": done"),
        "{out:#?}"
    );
    let text = laptop.ok(&["get", "Journal", "--field", "text"]).await;
    assert_eq!(text.stdout, "dear diary, again\n");
    laptop.ok(&["rm", "Journal"]).await;
    assert_eq!(names(&phone).await, ["Mail", "Photo", "Visa"]);

    // Status (no password needed) and sessions.
    let status = phone
        .cmd(&["status", "--json"])
        .env_remove("GOPHKEEPER_PASSWORD")
        .run()
        .await
        .ok()
        .json();
    assert_eq!(status["username"], "alice");
    assert_eq!(status["online"], true);
    assert_eq!(status["logged_in"], true);
    assert_eq!(status["pending"], 0);
    assert!(status["last_sync_ms"].as_i64().unwrap() > 0);
    let sessions = phone.ok(&["sessions", "--json"]).await.json();
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);

    // The phone revokes the laptop's session: the laptop must log in again.
    let laptop_session = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    phone.ok(&["sessions", "--revoke", &laptop_session]).await;
    laptop
        .run(&["sync"])
        .await
        .fails_with(1, "must log in again");

    // Logging out keeps the local copy readable.
    phone.ok(&["logout"]).await;
    let out = phone.ok(&["list"]).await;
    assert!(out.stderr.contains("logged out"), "{out:#?}");
    assert_eq!(out.stdout.lines().count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_needs_no_profile_and_gives_what_was_asked() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    let pw = device.ok(&["generate"]).await.stdout;
    let pw = pw.trim_end_matches('\n');
    assert_eq!(pw.chars().count(), 20);
    assert!(pw.chars().any(|c| c.is_ascii_uppercase()));
    assert!(pw.chars().any(|c| c.is_ascii_lowercase()));
    assert!(pw.chars().any(|c| c.is_ascii_digit()));
    assert!(pw.chars().any(|c| !c.is_ascii_alphanumeric()));
    let long = device.ok(&["generate", "--length", "64"]).await.stdout;
    assert_eq!(long.trim_end().len(), 64);
    let phrase = device.ok(&["generate", "--words", "6"]).await.stdout;
    assert!(phrase.trim_end().split('-').count() >= 6, "{phrase}");
    device
        .run(&["generate", "--length", "3"])
        .await
        .fails_with(1, "cannot hold one of each class");
    device
        .run(&["generate", "--length", "8", "--words", "4"])
        .await
        .fails_with(2, "cannot be used with");
}

//! Imports of the fixtures (Bitwarden JSON, KeePassXC CSV) through the
//! binary, covering every kind they map to; the encrypted export read back
//! by `import --format gophkeeper`; a wrong export password refused.

use std::path::PathBuf;

use serde_json::Value;

use crate::helpers::{Device, PASSWORD, TestServer};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

async fn item(device: &Device, name: &str) -> Value {
    device.ok(&["get", name, "--json"]).await.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitwarden_json_maps_every_kind_and_reports_the_rest() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "bw"]).await;
    let out = device
        .ok(&[
            "import",
            "--format",
            "bitwarden-json",
            &fixture("bitwarden.json"),
        ])
        .await;
    let report = &out.stdout;
    assert!(
        report.contains("imported 7 item(s): 1 card, 2 login, 4 text"),
        "{report}"
    );
    for expected in [
        "skipped 2",
        "\"Old forum\": in Bitwarden's trash",
        "\"From the future\": unknown Bitwarden item type 42",
        "\"Router\": its passkey is not imported",
        "\"GitHub\": 1 linked field(s) dropped",
        "\"GitHub\": its password history is not imported",
        "\"Store card\": card imported as text",
    ] {
        assert!(report.contains(expected), "{expected:?} not in {report}");
    }

    let github = item(&device, "GitHub").await;
    assert_eq!(github["login"]["username"], "octocat");
    assert_eq!(github["login"]["password"], "gh-Pa55word!");
    assert_eq!(
        github["login"]["urls"],
        serde_json::json!(["https://github.com/login", "github.com"])
    );
    assert!(
        github["login"]["totp"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert_eq!(github["notes"], "two-factor is on");
    let fields = github["fields"].as_array().unwrap();
    let field = |key: &str| fields.iter().find(|f| f["key"] == key).unwrap().clone();
    assert_eq!(field("PIN")["hidden"], true);
    assert_eq!(field("Recovery email")["value"], "octo@example.com");
    assert_eq!(field("Remember me")["value"], "true");
    assert_eq!(field("folder")["value"], "Work");
    device.ok(&["totp", "GitHub"]).await;

    let router = item(&device, "Router").await;
    assert_eq!(router["login"]["urls"], serde_json::json!(["192.168.1.1"]));
    assert_eq!(router["fields"][0]["value"], "not a url");

    let wifi = item(&device, "Wi-Fi at home").await;
    assert_eq!(
        wifi["text"]["text"],
        "SSID: gopher-net\nKey: wifi-secret-123"
    );
    let visa = item(&device, "Visa").await;
    assert_eq!(visa["card"]["number"], "4539 1488 0343 6467");
    assert_eq!(visa["card"]["expiry"], "12/2031");
    assert_eq!(visa["card"]["cvv"], "913");
    assert_eq!(visa["card"]["holder"], "Ada Lovelace");
    assert_eq!(visa["notes"], "travel card");
    let store = item(&device, "Store card").await;
    assert!(
        store["text"]["text"]
            .as_str()
            .unwrap()
            .contains("Number: 1234 5678 9012")
    );
    let identity = item(&device, "Passport identity").await;
    let text = identity["text"]["text"].as_str().unwrap();
    for line in [
        "First name: Ada",
        "Last name: Lovelace",
        "Passport number: P1234567",
        "City: London",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    assert!(
        !text.contains("Middle name"),
        "empty fields are left out: {text}"
    );
    let key = item(&device, "Deploy key").await;
    assert!(
        key["text"]["text"]
            .as_str()
            .unwrap()
            .contains("BEGIN OPENSSH PRIVATE KEY")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepassxc_csv_rows_become_logins() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "kp"]).await;
    let out = device
        .ok(&[
            "import",
            "--format",
            "keepassxc-csv",
            &fixture("keepassxc.csv"),
        ])
        .await;
    assert!(
        out.stdout.contains("imported 3 item(s): 3 login"),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains("\"Deleted thing\": in the recycle bin"),
        "{out:#?}"
    );
    assert!(out.stdout.contains("empty row"), "{out:#?}");
    assert!(
        out.stdout
            .contains("\"NAS\": its TOTP value is not a usable secret"),
        "{out:#?}"
    );

    let mail = item(&device, "Fastmail").await;
    assert_eq!(mail["login"]["username"], "ada@fastmail.example");
    assert_eq!(mail["login"]["password"], "fm-Secret-1");
    assert_eq!(mail["login"]["urls"][0], "https://www.fastmail.com");
    assert_eq!(mail["notes"], "recovery codes are in the safe");
    assert_eq!(mail["fields"][0]["key"], "group");
    assert_eq!(mail["fields"][0]["value"], "Root/Email");
    let code = device.ok(&["totp", "Fastmail"]).await.stdout;
    assert_eq!(code.trim().len(), 6);
    let bank = item(&device, "Bank").await;
    assert_eq!(bank["login"]["password"], "bank, \"quoted\" pass");
    assert_eq!(bank["notes"], "line one\nline two");
    let nas = item(&device, "NAS").await;
    let fields = nas["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["key"] == "url" && f["value"] == "not a url")
    );
    assert!(
        fields
            .iter()
            .any(|f| f["key"] == "totp" && f["hidden"] == true)
    );

    device
        .run(&[
            "import",
            "--format",
            "keepassxc-csv",
            &fixture("bitwarden.json"),
        ])
        .await
        .fails_with(1, "not a KeePassXC CSV export");
    device
        .run(&[
            "import",
            "--format",
            "bitwarden-json",
            &fixture("keepassxc.csv"),
        ])
        .await
        .fails_with(1, "not a Bitwarden JSON export");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_reads_back_and_only_with_its_password() {
    let server = TestServer::start().await;
    let alice = Device::new(&server);
    alice.ok(&["register", "exporter"]).await;
    alice
        .ok(&[
            "add",
            "login",
            "Mail",
            "--username",
            "me",
            "--password",
            "pw",
            "--field",
            "k=v",
        ])
        .await;
    alice.ok(&["add", "text", "Note", "--text", "hello"]).await;
    let file = alice.dir.path().join("a.bin");
    std::fs::write(&file, [9_u8; 1000]).unwrap();
    alice
        .ok(&["add", "binary", "Blob", "--file", file.to_str().unwrap()])
        .await;
    alice
        .ok(&[
            "add",
            "card",
            "Card",
            "--number",
            "4111111111111111",
            "--expiry",
            "02/29",
            "--holder",
            "A",
            "--cvv",
            "321",
        ])
        .await;
    let backup = alice.dir.path().join("backup.gkx");
    let backup = backup.to_str().unwrap();
    let out = alice.ok(&["export", "--out", backup]).await;
    assert!(out.stderr.contains("exported 4 item(s)"), "{out:#?}");
    let bytes = std::fs::read(backup).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("gophkeeper-export"));
    for secret in ["Mail", "pw", "hello", "4111111111111111", "321"] {
        assert!(
            !text.contains(&format!("\"{secret}\"")),
            "{secret} in the clear"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    alice
        .run(&["export", "--out", backup])
        .await
        .fails_with(1, "exists");

    // Another account, another master password: the export's is asked for.
    let mut bob = Device::new(&server);
    bob.password = "bob's own master password".into();
    bob.ok(&["register", "importer"]).await;
    bob.cmd(&["import", "--format", "gophkeeper", backup])
        .env("GOPHKEEPER_EXPORT_PASSWORD", "not the password")
        .run()
        .await
        .fails_with(1, "wrong password for this export file");
    let listed = bob.ok(&["list", "--json"]).await.json();
    assert!(listed.as_array().unwrap().is_empty(), "nothing imported");
    let out = bob
        .cmd(&["import", "--format", "gophkeeper", backup])
        .env("GOPHKEEPER_EXPORT_PASSWORD", PASSWORD)
        .run()
        .await
        .ok();
    assert!(
        out.stdout
            .contains("imported 4 item(s): 1 binary, 1 card, 1 login, 1 text"),
        "{out:#?}"
    );
    let mail = bob.ok(&["get", "Mail", "--json"]).await.json();
    assert_eq!(mail["login"]["password"], "pw");
    assert_eq!(mail["fields"][0]["value"], "v");
    assert_eq!(
        bob.ok(&["get", "Card", "--field", "cvv"]).await.stdout,
        "321\n"
    );
    let blob = bob.ok(&["get", "Blob", "--json"]).await.json();
    assert_eq!(blob["binary"]["size"], 1000);

    // The same account needs no extra password (its master password opens
    // the file); without a terminal a wrong guess is an error, not a hang.
    let out = alice
        .ok(&["import", "--format", "gophkeeper", backup])
        .await;
    assert!(out.stdout.contains("imported 4 item(s)"), "{out:#?}");
    bob.run(&["import", "--format", "gophkeeper", backup])
        .await
        .fails_with(1, "no terminal to ask on; set GOPHKEEPER_EXPORT_PASSWORD");
}

//! A server that serves an older version of a record is caught, and the
//! CLI says so: exit code 4, the item named, the newest version kept.

use sqlx::{Connection, SqliteConnection};

use crate::helpers::{Device, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_version_from_the_server_fails_the_command_and_is_not_shown() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "tess"]).await;
    let id = laptop
        .ok(&[
            "add",
            "login",
            "Bank",
            "--username",
            "tess",
            "--password",
            "old-pin",
        ])
        .await
        .stdout;
    let id = uuid::Uuid::parse_str(id.trim()).unwrap();
    let db = server.data.path().join("vault.db");
    let mut db = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let record = id.as_bytes().to_vec();
    let old: Vec<u8> = sqlx::query_scalar("SELECT ciphertext FROM records WHERE record_id = ?")
        .bind(&record)
        .fetch_one(&mut db)
        .await
        .unwrap();
    laptop
        .ok(&[
            "edit",
            "Bank",
            "--username",
            "tess",
            "--password",
            "new-pin",
        ])
        .await;
    phone.ok(&["login", "tess"]).await;

    // The operator serves the old ciphertext as the newest change.
    sqlx::query(
        "UPDATE records SET ciphertext = ?, \
         revision = (SELECT revision + 1 FROM user_revisions WHERE user_id = records.user_id) \
         WHERE record_id = ?",
    )
    .bind(&old)
    .bind(&record)
    .execute(&mut db)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE user_revisions SET revision = revision + 1 WHERE user_id = \
         (SELECT user_id FROM records WHERE record_id = ?)",
    )
    .bind(&record)
    .execute(&mut db)
    .await
    .unwrap();

    let out = phone.run(&["get", "Bank"]).await;
    out.fails_with(4, "the server served an older version of \"Bank\"");
    // Later reads show the newest version this device trusts, and status
    // keeps the count.
    let out = phone.ok(&["get", "Bank", "--field", "password"]).await;
    assert_eq!(out.stdout.trim(), "new-pin", "{out:#?}");
    let status = phone.ok(&["status", "--json"]).await.json();
    assert_eq!(status["tampered"], 1);
}

/// `verify`: the same fingerprint on two devices of one vault, and a
/// record the server dropped named with exit code 4, in text and JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_prints_one_fingerprint_per_vault_and_names_what_is_wrong() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "vera"]).await;
    laptop
        .ok(&["add", "text", "Diary", "--text", "dear diary"])
        .await;
    let id = laptop
        .ok(&["add", "text", "Plans", "--text", "world domination"])
        .await
        .stdout;
    let id = uuid::Uuid::parse_str(id.trim()).unwrap();
    phone.ok(&["login", "vera"]).await;
    let fingerprint = |out: &str| {
        out.lines()
            .find_map(|line| line.strip_prefix("vault fingerprint: "))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no fingerprint in {out}"))
    };
    let on_laptop = laptop.ok(&["verify"]).await.stdout;
    let on_phone = phone.ok(&["verify"]).await.stdout;
    assert!(on_laptop.contains("checked 2 record(s) on this device, 2 on the server"));
    assert_eq!(fingerprint(&on_laptop), fingerprint(&on_phone));
    let json = phone.ok(&["verify", "--json"]).await.json();
    assert_eq!(json["fingerprint"], fingerprint(&on_phone).as_str());
    assert_eq!(json["problems"], serde_json::json!([]));

    withhold(&server, id).await;
    let out = phone.run(&["verify"]).await;
    let out = out.fails_with(4, "failed the integrity checks");
    assert!(
        out.stdout.contains(&format!(
            "PROBLEM: \"Plans\" ({id}): this device holds it, or a device's summary lists it; \
             the server's answer lacks it"
        )),
        "{out:#?}"
    );
    let json = phone.run(&["verify", "--json"]).await;
    assert_eq!(json.code, 4);
    let problems = &json.json()["problems"];
    assert_eq!(problems[0]["id"], id.to_string());
    assert_eq!(problems[0]["name"], "Plans");
    assert_eq!(problems[0]["problem"], "withheld");
    assert_eq!(problems[0]["place"], "server");
}

/// A record of the local copy that does not decrypt is never skipped
/// silently: `list` names it, `status` counts it, `export` refuses to write
/// a backup without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_does_not_decrypt_is_named_counted_and_stops_export() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "nina"]).await;
    device.ok(&["add", "text", "Fine", "--text", "ok"]).await;
    let id = device
        .ok(&["add", "text", "Broken", "--text", "soon"])
        .await
        .stdout;
    let id = id.trim().to_owned();
    let cache = device.profile().join("cache.db");
    let mut db = SqliteConnection::connect(&format!("sqlite://{}", cache.display()))
        .await
        .unwrap();
    let mut bytes: Vec<u8> =
        sqlx::query_scalar("SELECT ciphertext FROM records WHERE record_id = ?")
            .bind(&id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    sqlx::query("UPDATE records SET ciphertext = ? WHERE record_id = ?")
        .bind(&bytes)
        .bind(&id)
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();

    let out = device.ok(&["list"]).await;
    assert!(out.stdout.contains("Fine") && !out.stdout.contains("Broken"));
    assert!(
        out.stderr.contains(&format!(
            "WARNING: record {id} does not decrypt on this device"
        )),
        "{out:#?}"
    );
    let status = device.ok(&["status", "--json"]).await.json();
    assert_eq!(status["tampered"], 1);
    let backup = device.profile().join("backup.gkx");
    let out = device
        .run(&["export", "--out", backup.to_str().unwrap()])
        .await;
    out.fails_with(1, "1 record(s) of this vault cannot be read here");
    assert!(!backup.exists());
}

/// A new device's first sync (run by `login`) finds a record the server
/// withholds from it, because the writing device's summary lists it: the
/// login fails with exit code 4 naming the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_on_a_new_device_names_a_withheld_record() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "wendy"]).await;
    laptop.ok(&["add", "text", "Kept", "--text", "k"]).await;
    let id = laptop
        .ok(&["add", "text", "Will", "--text", "my will"])
        .await
        .stdout;
    let id = uuid::Uuid::parse_str(id.trim()).unwrap();
    withhold(&server, id).await;

    let out = phone.run(&["login", "wendy"]).await;
    out.fails_with(4, &format!("the server withholds record {id}"));
    let status = phone.ok(&["status", "--json"]).await.json();
    assert_eq!(status["tampered"], 1);
    let list = phone.ok(&["list"]).await.stdout;
    assert!(list.contains("Kept") && !list.contains("Will"), "{list}");
}

/// The operator deletes a record's row: the server no longer serves it.
async fn withhold(server: &TestServer, id: uuid::Uuid) {
    let db = server.data.path().join("vault.db");
    let mut db = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("DELETE FROM records WHERE record_id = ?")
        .bind(id.as_bytes().to_vec())
        .execute(&mut db)
        .await
        .unwrap();
}

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

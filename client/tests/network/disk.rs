//! Nothing secret reaches the disk in the clear: after a workload with
//! planted strings in every item field, no file of either profile holds any
//! of them, nor the refresh token or the master password.

use std::path::Path;

use gophkeeper_client::item::{CardExpiry, CustomField, Item, Payload};
use secrecy::ExposeSecret;

use crate::helpers::{Device, PASSWORD, TestServer};

fn planted(tag: &str) -> String {
    format!("PLANTED-{tag}-7f3a9c")
}

fn items() -> Vec<Item> {
    let mut login = Item::new(
        planted("login-name"),
        Payload::Login {
            username: planted("username"),
            password: planted("password"),
            urls: vec![format!("https://{}.example", planted("url").to_lowercase())],
            totp: Some("JBSWY3DPEHPK3PXPPLANTEDTOTP".into()),
        },
    );
    login.notes = planted("notes");
    login.fields.push(CustomField::hidden(
        planted("field-key"),
        planted("field-value"),
    ));
    let text = Item::new(
        planted("text-name"),
        Payload::Text {
            text: planted("text"),
        },
    );
    let binary = Item::new(
        planted("binary-name"),
        Payload::Binary {
            file_name: planted("file-name"),
            bytes: planted("file-bytes").into_bytes(),
        },
    );
    let card = Item::new(
        planted("card-name"),
        Payload::Card {
            holder: planted("holder"),
            number: "4539 1488 0343 6467".into(),
            expiry: CardExpiry {
                month: 12,
                year: 2031,
            },
            cvv: "913".into(),
        },
    );
    vec![login, text, binary, card]
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn no_cache_file_holds_a_secret_in_the_clear() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(&server, "planted-user").await;
    let vault_b = b.login(&server, "planted-user").await;
    for item in items() {
        let id = vault_a.add(&item).await.unwrap().record_id;
        // Edit once too, so that old versions would be on disk if anything
        // leaked.
        vault_a.edit(id, &item).await.unwrap();
    }
    vault_b.sync().await.unwrap();
    assert_eq!(vault_b.list().await.unwrap().len(), 4);
    let mut secrets: Vec<String> = [
        "login-name",
        "username",
        "password",
        "url",
        "notes",
        "field-key",
        "field-value",
        "text-name",
        "text",
        "binary-name",
        "file-name",
        "file-bytes",
        "card-name",
        "holder",
    ]
    .iter()
    .map(|tag| planted(tag))
    .collect();
    secrets.extend(
        [
            "PLANTEDTOTP",
            "4539 1488 0343 6467",
            "4539148803436467",
            PASSWORD,
        ]
        .map(String::from),
    );
    for vault in [&vault_a, &vault_b] {
        let token = vault.engine().session().refresh_token().await.unwrap();
        secrets.push(token.expose_secret().to_owned());
    }
    // While the caches are open (their write-ahead logs hold the newest
    // pages) and after they are closed.
    let mut scanned = scan(&[a.profile(), b.profile()], &secrets);
    drop(vault_a);
    drop(vault_b);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    scanned += scan(&[a.profile(), b.profile()], &secrets);
    assert!(scanned > 10_000, "scanned only {scanned} bytes");
}

fn scan(dirs: &[&Path], secrets: &[String]) -> usize {
    let mut scanned = 0;
    for dir in dirs {
        for file in files(dir) {
            // SQLite removes its -wal and -shm files on close.
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            scanned += bytes.len();
            for secret in secrets {
                let needle = secret.as_bytes();
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} holds {secret:?} in the clear",
                    file.display()
                );
            }
        }
    }
    scanned
}

//! Zero knowledge on the cluster, checked from the outside: after two
//! devices of the real client library store, edit and delete items with
//! planted secrets in every field of every kind, none of those secrets, nor
//! the master password, is found in a `pg_dump` of the auth database, the
//! vault primary or the replica, in the raw data directories and WAL of the
//! three PostgreSQL servers, in the broker's stored log (tansu's SQLite file
//! and its WAL), or in any log file of the cluster.

use std::path::{Path, PathBuf};
use std::process::Command;

use gophkeeper_client::item::{CardExpiry, CustomField, Item, Payload};
use gophkeeper_client::vault::{ConnectOptions, ServerUrl, Trust, TrustRequest, Vault};
use secrecy::SecretString;

use crate::fixture;

const MASTER: &str = "PLANTED-master-password-7c4a";

fn planted(tag: &str) -> String {
    format!("PLANTED-{tag}-7c4a")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_clean(what: &str, bytes: &[u8], secrets: &[String]) {
    for secret in secrets {
        assert!(!find(bytes, secret.as_bytes()), "{secret} found in {what}");
    }
}

fn pg_dump(url: &str) -> Vec<u8> {
    let output = Command::new("pg_dump")
        .arg("--dbname")
        .arg(url)
        .output()
        .expect("pg_dump (installed with PostgreSQL by scripts/provision)");
    assert!(
        output.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.len() > 1000, "an empty dump proves nothing");
    output.stdout
}

async fn device(register: bool, user: &str, dir: &Path) -> Vault {
    let cluster = fixture::get();
    let mut options = ConnectOptions::new(ServerUrl::parse(&cluster.url).unwrap());
    options.trust = TrustRequest::Configured(Trust::CaFile(cluster.ca.clone()));
    let password = SecretString::from(MASTER);
    let mut never = |_: &str| false;
    if register {
        Vault::register(&options, dir, user, &password, &mut never).await
    } else {
        Vault::login(&options, dir, user, &password, &mut never).await
    }
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_database_dump_data_file_broker_log_or_log_line_holds_a_planted_secret() {
    let cluster = fixture::get();
    let (laptop_dir, phone_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let user = format!("scan-{}", uuid::Uuid::new_v4());
    let laptop = device(true, &user, laptop_dir.path()).await;
    let phone = device(false, &user, phone_dir.path()).await;

    let mut login = Item::new(
        planted("login-name"),
        Payload::Login {
            username: planted("username"),
            password: planted("password"),
            urls: vec![format!("https://{}.example", planted("url").to_lowercase())],
            totp: Some("JBSWY3DPEHPK3PXPPLANTED".into()),
        },
    );
    login.notes = planted("notes");
    login
        .fields
        .push(CustomField::new(planted("key"), planted("value")));
    login
        .fields
        .push(CustomField::hidden("pin", planted("pin")));
    let note = Item::new(
        planted("note-name"),
        Payload::Text {
            text: planted("note-text"),
        },
    );
    let file = Item::new(
        planted("file-item"),
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
            expiry: CardExpiry::parse("12/31").unwrap(),
            cvv: "913".into(),
        },
    );
    let login_id = laptop.add(&login).await.unwrap().record_id;
    laptop.add(&note).await.unwrap();
    let file_id = laptop.add(&file).await.unwrap().record_id;
    laptop.add(&card).await.unwrap();
    // The other device reads everything, edits one item and deletes one:
    // old versions and tombstones would be there too if anything leaked.
    phone.sync().await.unwrap();
    assert_eq!(phone.list().await.unwrap().len(), 4);
    let mut edited = login.clone();
    if let Payload::Login { password, .. } = &mut edited.payload {
        *password = planted("new-password");
    }
    phone.edit(login_id, &edited).await.unwrap();
    phone.delete(file_id).await.unwrap();
    let report = laptop.sync().await.unwrap();
    assert!(report.offline.is_none() && report.conflicts.is_empty());
    assert_eq!(laptop.list().await.unwrap().len(), 3);

    let mut secrets: Vec<String> = [
        "login-name",
        "username",
        "password",
        "url",
        "notes",
        "key",
        "value",
        "pin",
        "note-name",
        "note-text",
        "file-item",
        "file-name",
        "file-bytes",
        "card-name",
        "holder",
        "new-password",
    ]
    .iter()
    .map(|tag| planted(tag))
    .collect();
    secrets.extend(
        [
            "PLANTED",
            "planted-url",
            "JBSWY3DPEHPK3PXP",
            "4539 1488 0343 6467",
            "4539148803436467",
            MASTER,
        ]
        .map(String::from),
    );

    // Let the replica replay, then dump all three databases.
    let newest = laptop.status().await.unwrap();
    assert_eq!(newest.pending, 0);
    for (what, key) in [
        ("the auth database", "GOPHKEEPER__POSTGRES__AUTH_URL"),
        ("the vault primary", "PG_LOCAL_PRIMARY_ADMIN_URL"),
        ("the vault replica", "PG_LOCAL_REPLICA_ADMIN_URL"),
    ] {
        let dump = pg_dump(cluster.value(key));
        assert_clean(&format!("a pg_dump of {what}"), &dump, &secrets);
    }
    // The user exists in the dumps (so the dumps hold this run's data).
    let auth_dump = pg_dump(cluster.value("GOPHKEEPER__POSTGRES__AUTH_URL"));
    assert!(find(&auth_dump, user.as_bytes()));

    let mut scanned = Vec::new();
    for dir in ["pg", "tansu", "logs", "data"] {
        files(&cluster.dir.join(dir), &mut scanned);
    }
    let mut bytes_read = 0;
    for file in &scanned {
        // Sockets and lock files come and go while the servers run.
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        bytes_read += bytes.len();
        assert_clean(&file.display().to_string(), &bytes, &secrets);
    }
    let names: Vec<String> = scanned
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    for expected in ["tansu.db", "gateway.log", "consumer0.log", "/pg_wal/"] {
        assert!(
            names.iter().any(|n| n.contains(expected)),
            "{expected} not among the scanned files"
        );
    }
    println!(
        "scanned 3 database dumps and {} files ({} MiB): no planted secret",
        scanned.len(),
        bytes_read >> 20
    );
}

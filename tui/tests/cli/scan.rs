//! Zero knowledge, checked from the outside: after a workload through the
//! binary with planted secrets, names and metadata in every field of every
//! kind, no server data file (SQLite databases with their -wal and -shm
//! files, the server secret, the TLS material) and no server log line holds
//! any of them in the clear.

use std::path::{Path, PathBuf};

use crate::helpers::{Device, PASSWORD, TestServer, server_logs};

fn planted(tag: &str) -> String {
    format!("PLANTED-{tag}-5e1d")
}

fn files(dir: &Path) -> Vec<PathBuf> {
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

/// Each secret as UTF-8 and as UTF-16 (little endian), which is how a
/// string would sit in some encodings.
fn needles(secrets: &[String]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for secret in secrets {
        out.push((secret.clone(), secret.as_bytes().to_vec()));
        let wide: Vec<u8> = secret.encode_utf16().flat_map(u16::to_le_bytes).collect();
        out.push((format!("{secret} (UTF-16)"), wide));
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`; returns how many were read.
fn scan(dir: &Path, secrets: &[String]) -> usize {
    let needles = needles(secrets);
    let files = files(dir);
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for (name, needle) in &needles {
            assert!(!find(&bytes, needle), "{name} found in {}", file.display());
        }
    }
    files.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_file_or_log_line_holds_a_planted_secret() {
    let mut server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "planted-user"]).await;
    phone.ok(&["login", "planted-user"]).await;

    let (name, user, pw, url) = (
        planted("login-name"),
        planted("username"),
        planted("password"),
        format!("https://{}.example/login", planted("url").to_lowercase()),
    );
    let (meta, field) = (
        planted("meta"),
        format!("{}={}", planted("key"), planted("value")),
    );
    let totp = "JBSWY3DPEHPK3PXPPLANTED";
    laptop
        .ok(&[
            "add",
            "login",
            &name,
            "--username",
            &user,
            "--password",
            &pw,
            "--url",
            &url,
            "--totp",
            totp,
            "--meta",
            &meta,
            "--field",
            &field,
        ])
        .await;
    let note_name = planted("note-name");
    laptop
        .ok(&["add", "text", &note_name, "--text", &planted("note-text")])
        .await;
    let file = laptop.dir.path().join(planted("file-name"));
    std::fs::write(&file, planted("file-bytes")).unwrap();
    laptop
        .ok(&[
            "add",
            "binary",
            &planted("binary-name"),
            "--file",
            file.to_str().unwrap(),
        ])
        .await;
    laptop
        .ok(&[
            "add",
            "card",
            &planted("card-name"),
            "--number",
            "4539 1488 0343 6467",
            "--expiry",
            "12/31",
            "--holder",
            &planted("holder"),
            "--cvv",
            "913",
        ])
        .await;
    // Edits (so old versions would be there too if anything leaked) and a
    // delete, from the other device.
    phone
        .ok(&["edit", &name, "--password", &planted("new-password")])
        .await;
    phone
        .ok(&["edit", &note_name, "--meta", &planted("edited-meta")])
        .await;
    phone.ok(&["rm", &planted("binary-name")]).await;
    laptop.ok(&["sync"]).await;
    let list = laptop.ok(&["list"]).await.stdout;
    assert!(list.contains(&name) && list.contains(&note_name), "{list}");

    let mut secrets: Vec<String> = [
        "login-name",
        "username",
        "password",
        "url",
        "meta",
        "key",
        "value",
        "note-name",
        "note-text",
        "file-name",
        "file-bytes",
        "binary-name",
        "card-name",
        "holder",
        "new-password",
        "edited-meta",
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
            PASSWORD,
        ]
        .map(String::from),
    );
    // The account name ("planted-user", lower case) is not a secret: the
    // server must know it. Every planted value is upper case "PLANTED-...".
    let running = scan(server.data.path(), &secrets);
    server.stop().await;
    let stopped = scan(server.data.path(), &secrets);
    assert!(
        running >= 4 && stopped >= 4,
        "scanned {running} and {stopped} files"
    );
    let names: Vec<String> = files(server.data.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["vault.db", "auth.db", "ca.pem"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }

    let logs = server_logs();
    assert!(logs.len() > 1000, "the server logged: {logs}");
    for (name, needle) in needles(&secrets) {
        assert!(
            !find(logs.as_bytes(), &needle),
            "{name} found in the server's log"
        );
    }
}

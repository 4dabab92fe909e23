//! The restore drill: a backup taken with the real binary while users keep
//! writing, restored into a new data directory with the real binary, and
//! served again. Every command acknowledged before the backup started is
//! there exactly once.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gophkeeper_proto::v1;

use crate::helpers::*;

const BINARY: &str = env!("CARGO_BIN_EXE_gophkeeper-server");
const USERS: usize = 8;

/// One user's acknowledged updates: (revision, when the answer came).
type Acks = Arc<Mutex<Vec<(u64, Instant)>>>;

fn run(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let output = Command::new(BINARY).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "gophkeeper-server {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_acknowledged_command_once() {
    // A generated server secret, so that there is one on disk to keep out.
    let app = spawn_app_with(|s| s.auth.secret = String::new().into()).await;
    let data_dir = app.settings.data_dir().unwrap();

    let mut users = Vec::new();
    for _ in 0..USERS {
        let device = app.new_user().await;
        let (record, revision) = device.create(v1::RecordKind::Text, b"v1").await;
        assert_eq!(revision, 1);
        users.push((device, record, Acks::default()));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (device, record, acks) in &users {
        let (device, record, acks, stop) =
            (device.clone(), record.clone(), acks.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut base = 1;
            while !stop.load(Ordering::Relaxed) {
                let body = format!("v{}", base + 1);
                let outcome = device
                    .submit(update_cmd(&record, base, body.as_bytes()))
                    .await
                    .unwrap();
                base = applied(&outcome);
                acks.lock().unwrap().push((base, Instant::now()));
            }
            base
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("node.gkbackup");
    let started = Instant::now();
    let output = tokio::task::spawn_blocking({
        let (data_dir, file) = (data_dir.clone(), file.clone());
        move || {
            run(&[
                "backup".as_ref(),
                "--data-dir".as_ref(),
                data_dir.as_os_str(),
                "--out".as_ref(),
                file.as_os_str(),
            ])
        }
    })
    .await
    .unwrap();
    let finished = Instant::now();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("secrets are not in a backup"), "{said}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut last = Vec::new();
    for writer in writers {
        last.push(writer.await.unwrap());
    }

    let acked = |acks: &Acks, before: Instant| {
        acks.lock()
            .unwrap()
            .iter()
            .filter(|(_, at)| *at < before)
            .map(|(revision, _)| *revision)
            .max()
            .unwrap_or(1)
    };
    let before: usize = users
        .iter()
        .map(|(_, _, a)| acked(a, started) as usize)
        .sum();
    // The writers ran before the backup began and after it ended, so
    // they ran through it.
    let after: usize = users
        .iter()
        .map(|(_, _, a)| {
            a.lock()
                .unwrap()
                .iter()
                .filter(|(_, at)| *at > finished)
                .count()
        })
        .sum();
    assert!(
        before > USERS && after > 0,
        "the backup ran under load: {before} revisions before it, {after} commands after"
    );

    // The secret material stays out of the file.
    let backup = std::fs::read(&file).unwrap();
    let secret = std::fs::read_to_string(data_dir.join("secrets/auth.key")).unwrap();
    let tls_key = std::fs::read_to_string(data_dir.join("tls/server.key")).unwrap();
    let tls_body: String = tls_key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for needle in [secret.trim(), &tls_body[..40]] {
        assert!(
            !backup.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "the backup holds secret material"
        );
    }

    // Restore into a new directory, bring the secrets back separately, as
    // an operator would, and serve it.
    let restored = work.path().join("restored");
    run(&[
        "restore".as_ref(),
        "--from".as_ref(),
        file.as_os_str(),
        "--data-dir".as_ref(),
        restored.as_os_str(),
    ]);
    for dir in ["secrets", "tls"] {
        std::fs::create_dir_all(restored.join(dir)).unwrap();
        for entry in std::fs::read_dir(data_dir.join(dir)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), restored.join(dir).join(entry.file_name())).unwrap();
        }
    }
    let again = spawn_app_with(|s| {
        s.auth.secret = String::new().into();
        s.set_data_dir(restored.clone());
    })
    .await;

    for ((device, record, acks), last) in users.iter().zip(&last) {
        let device = again.device(&device.username).await;
        let changes = device.changes(0).await.unwrap();
        assert_eq!(changes.records.len(), 1, "{}", device.username);
        let held = &changes.records[0];
        assert_eq!(&held.id, record);
        let must_have = acked(acks, started);
        assert!(
            (must_have..=*last).contains(&held.revision),
            "{}: revision {} restored, {must_have} acknowledged before the backup, {last} at the end",
            device.username,
            held.revision
        );
        // Each revision is one command: its content is that command's.
        assert_eq!(held.ciphertext, format!("v{}", held.revision).as_bytes());
        assert_eq!(changes.current_revision, held.revision);
    }
    println!(
        "backup under load took {:?}; {before} revisions acknowledged before it began",
        finished - started
    );
}

/// The tools refuse a cluster's PostgreSQL and a directory in use, saying
/// why, and change nothing.
#[test]
fn backup_and_restore_refuse_clearly() {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config/cluster-command-consumer.toml");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("b");
    let refused = |setting: &str, value: &std::path::Path, reason: &str| {
        let output = Command::new(BINARY)
            .arg("backup")
            .arg(setting)
            .arg(value)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{stderr}");
        assert!(!out.exists());
    };
    // A cluster's PostgreSQL, and a directory without the databases.
    refused("--config", &config, "WAL archiving");
    refused("--data-dir", work.path(), "no database at");
}

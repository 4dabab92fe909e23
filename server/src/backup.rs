//! Backups of a single node's databases, and restoring one into a new data
//! directory (`gophkeeper-server backup` and `restore`).
//!
//! A backup is a tar file: `manifest.json` (format, time, server version,
//! each database's size and SHA-256), then `vault.db` and `auth.db`, each a
//! consistent snapshot taken with `VACUUM INTO`. That is a read
//! transaction, so the server keeps serving and writing meanwhile. The
//! vault is copied first: every record in the copy then belongs to a user
//! the later copy of auth knows, and auth's copy holds every vault key the
//! records were sealed under (key epochs are only ever added).
//!
//! The server's secret material (`secrets/` and `tls/` in the data
//! directory, or `auth.secret` in the settings) is never in the file: a
//! backup kept next to the secret that signs tokens and derives the OPAQUE
//! keys would be the stolen database plus its secrets. Operators back
//! those up separately, encrypted (docs/backups.md).

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use gophkeeper_private_file::Existing;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

/// The databases, in the order they are copied.
pub const DATABASES: [&str; 2] = ["vault.db", "auth.db"];
const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "gophkeeper-server-backup";
const FORMAT_VERSION: u32 = 1;
/// A manifest is a few hundred bytes; anything far larger is not one.
const MANIFEST_LIMIT: u64 = 64 * 1024;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    created_at: String,
    server: String,
    files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backup and restore cover the single node's SQLite databases; with \
         PostgreSQL use its base backups and WAL archiving (docs/backups.md)"
    )]
    NotSqlite,
    #[error("no database at {0}: is this the server's data directory?")]
    NoDatabase(PathBuf),
    #[error("{0} exists already; a backup never replaces a file")]
    OutExists(PathBuf),
    #[error(
        "{dir} already holds a server's {name}; restore into a new data \
         directory"
    )]
    DirInUse { dir: PathBuf, name: String },
    #[error("{path} is not a usable GophKeeper server backup: {why}")]
    NotABackup { path: PathBuf, why: String },
    #[error("copying {name}")]
    Sqlite {
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot {what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BackupError {
    let path = path.to_owned();
    move |source| BackupError::Io { what, path, source }
}

/// Writes a backup of the databases in `data_dir` to `out` (a new file,
/// owner-only). Returns what it holds.
pub async fn backup(data_dir: &Path, out: &Path) -> Result<Vec<FileEntry>, BackupError> {
    for name in DATABASES {
        let path = data_dir.join(name);
        if !path.is_file() {
            return Err(BackupError::NoDatabase(path));
        }
    }
    if out.exists() {
        return Err(BackupError::OutExists(out.to_owned()));
    }
    // The snapshots go next to the output: the same file system, and not
    // into the data directory the server is using.
    let parent = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let staging = tempfile::Builder::new()
        .prefix(".gophkeeper-backup-")
        .tempdir_in(parent)
        .map_err(io_error("make a staging directory in", parent))?;
    let mut files = Vec::new();
    for name in DATABASES {
        let copy = staging.path().join(name);
        snapshot(&data_dir.join(name), &copy)
            .await
            .map_err(|source| BackupError::Sqlite { name, source })?;
        files.push(describe(name, &copy)?);
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        created_at: jiff::Timestamp::now().to_string(),
        server: gophkeeper_build_info::version!().into(),
        files: files.clone(),
    };
    let manifest = serde_json::to_vec_pretty(&manifest)
        .map_err(|err| io_error("describe the backup in", out)(err.into()))?;
    gophkeeper_private_file::write_with(out, Existing::Keep, |file| {
        let mut tar = tar::Builder::new(file);
        append(&mut tar, MANIFEST, manifest.len() as u64, &manifest[..])?;
        for entry in &files {
            let copy = std::fs::File::open(staging.path().join(&entry.name))?;
            append(&mut tar, &entry.name, entry.bytes, copy)?;
        }
        tar.finish()
    })
    .map_err(|err| match err.kind() {
        io::ErrorKind::AlreadyExists => BackupError::OutExists(out.to_owned()),
        _ => io_error("write", out)(err),
    })?;
    Ok(files)
}

/// A consistent copy of the database at `from`, written to `to`.
async fn snapshot(from: &Path, to: &Path) -> Result<(), sqlx::Error> {
    let mut connection: SqliteConnection = SqliteConnectOptions::new()
        .filename(from)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await?;
    sqlx::query("VACUUM INTO ?")
        .bind(to.to_string_lossy().into_owned())
        .execute(&mut connection)
        .await?;
    connection.close().await
}

fn append(
    tar: &mut tar::Builder<&mut std::fs::File>,
    name: &str,
    bytes: u64,
    data: impl Read,
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes);
    header.set_mode(0o600);
    header.set_mtime(jiff::Timestamp::now().as_second().max(0).unsigned_abs());
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data)
}

fn describe(name: &str, path: &Path) -> Result<FileEntry, BackupError> {
    let mut file = std::fs::File::open(path).map_err(io_error("read", path))?;
    let mut hasher = Sha256::new();
    let bytes = io::copy(&mut file, &mut hasher).map_err(io_error("read", path))?;
    Ok(FileEntry {
        name: name.into(),
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Restores the backup at `from` into `data_dir`, which must hold no
/// databases yet (it is made if missing). Every database is checked
/// (manifest, size, SHA-256, SQLite's own check) before any is put in
/// place, so a bad file leaves `data_dir` as it was.
pub async fn restore(from: &Path, data_dir: &Path) -> Result<Vec<FileEntry>, BackupError> {
    check_unused(data_dir)?;
    let made = !data_dir.exists();
    std::fs::create_dir_all(data_dir).map_err(io_error("make", data_dir))?;
    let restored = restore_into(from, data_dir).await;
    if made && restored.is_err() {
        // Left empty by the failure; only an empty directory goes.
        let _ = std::fs::remove_dir(data_dir);
    }
    restored
}

async fn restore_into(from: &Path, data_dir: &Path) -> Result<Vec<FileEntry>, BackupError> {
    let staging = tempfile::Builder::new()
        .prefix(".gophkeeper-restore-")
        .tempdir_in(data_dir)
        .map_err(io_error("make a staging directory in", data_dir))?;
    let not_a_backup = |why: String| BackupError::NotABackup {
        path: from.to_owned(),
        why,
    };
    let manifest = unpack(from, staging.path())?;
    let manifest: Manifest = serde_json::from_slice(&manifest)
        .map_err(|err| not_a_backup(format!("its manifest does not read: {err}")))?;
    if manifest.format != FORMAT || manifest.version != FORMAT_VERSION {
        return Err(not_a_backup(format!(
            "format {} version {}, this server reads {FORMAT} version {FORMAT_VERSION}",
            manifest.format, manifest.version
        )));
    }
    for name in DATABASES {
        let listed = manifest
            .files
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| not_a_backup(format!("its manifest lists no {name}")))?;
        let path = staging.path().join(name);
        if !path.is_file() {
            return Err(not_a_backup(format!("it holds no {name}")));
        }
        if describe(name, &path)? != *listed {
            return Err(not_a_backup(format!(
                "{name} is not what the manifest says (damaged or changed)"
            )));
        }
        quick_check(&path)
            .await
            .map_err(|why| not_a_backup(format!("{name}: {why}")))?;
    }
    check_unused(data_dir)?;
    for name in DATABASES {
        let target = data_dir.join(name);
        std::fs::rename(staging.path().join(name), &target)
            .map_err(io_error("move into place", &target))?;
    }
    Ok(manifest.files)
}

/// Refuses a directory that holds a database (or its WAL files) already.
fn check_unused(data_dir: &Path) -> Result<(), BackupError> {
    for name in DATABASES {
        for suffix in ["", "-wal", "-shm"] {
            let name = format!("{name}{suffix}");
            if data_dir.join(&name).exists() {
                return Err(BackupError::DirInUse {
                    dir: data_dir.to_owned(),
                    name,
                });
            }
        }
    }
    Ok(())
}

/// Unpacks the databases into `dir` and returns the manifest's bytes.
/// Only the names a backup has are taken, each once, as plain files
/// written here (never a path from the archive).
fn unpack(from: &Path, dir: &Path) -> Result<Vec<u8>, BackupError> {
    let not_a_backup = |why: String| BackupError::NotABackup {
        path: from.to_owned(),
        why,
    };
    let file = std::fs::File::open(from).map_err(io_error("read", from))?;
    let mut archive = tar::Archive::new(file);
    let entries = archive
        .entries()
        .map_err(|err| not_a_backup(err.to_string()))?;
    let mut manifest = None;
    for entry in entries {
        let mut entry = entry.map_err(|err| not_a_backup(format!("not a tar file: {err}")))?;
        let name = entry
            .path()
            .map_err(|err| not_a_backup(err.to_string()))?
            .to_string_lossy()
            .into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(not_a_backup(format!("{name} is not a plain file")));
        }
        if name == MANIFEST && manifest.is_none() {
            if entry.size() > MANIFEST_LIMIT {
                return Err(not_a_backup("its manifest is too large".into()));
            }
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|err| not_a_backup(format!("{name}: {err}")))?;
            manifest = Some(bytes);
        } else if DATABASES.contains(&name.as_str()) && !dir.join(&name).exists() {
            let path = dir.join(&name);
            gophkeeper_private_file::write_with(&path, Existing::Keep, |file| {
                io::copy(&mut entry, file).map(drop)
            })
            .map_err(|err| not_a_backup(format!("{name}: {err}")))?;
        } else {
            return Err(not_a_backup(format!(
                "unexpected or repeated entry {name:?}"
            )));
        }
    }
    manifest.ok_or_else(|| not_a_backup("it has no manifest".into()))
}

/// SQLite's own check of a restored file.
async fn quick_check(path: &Path) -> Result<(), String> {
    let mut connection: SqliteConnection = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(|err| err.to_string())?;
    let verdict: Result<String, _> = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut connection)
        .await;
    let _ = connection.close().await;
    match verdict {
        Ok(verdict) if verdict == "ok" => Ok(()),
        Ok(verdict) => Err(format!("SQLite finds it damaged: {verdict}")),
        Err(err) => Err(format!("not an SQLite database: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data directory whose two databases hold `rows` rows each.
    async fn data_dir(rows: i64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in DATABASES {
            let mut db: SqliteConnection = SqliteConnectOptions::new()
                .filename(dir.path().join(name))
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .connect()
                .await
                .unwrap();
            sqlx::query("CREATE TABLE t (n INTEGER)")
                .execute(&mut db)
                .await
                .unwrap();
            for n in 0..rows {
                sqlx::query("INSERT INTO t VALUES (?)")
                    .bind(n)
                    .execute(&mut db)
                    .await
                    .unwrap();
            }
            db.close().await.unwrap();
        }
        dir
    }

    async fn rows(path: &Path) -> i64 {
        let mut db: SqliteConnection = SqliteConnectOptions::new()
            .filename(path)
            .connect()
            .await
            .unwrap();
        sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut db)
            .await
            .unwrap()
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A name and contents in a hand-made tar file.
    type Entry<'a> = (&'a str, &'a [u8]);

    /// A tar file with these entries, as a hand-made or altered backup.
    fn tar_of(path: &Path, entries: &[Entry<'_>]) {
        let file = std::fs::File::create(path).unwrap();
        let mut tar = tar::Builder::new(file);
        for (name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o600);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, name, *data).unwrap();
        }
        tar.finish().unwrap();
    }

    /// The entries of a real backup, to alter.
    fn entries_of(path: &Path) -> Vec<(String, Vec<u8>)> {
        let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().to_string_lossy().into_owned();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (name, data)
            })
            .collect()
    }

    fn refused_as_not_a_backup(err: BackupError, needle: &str) {
        match err {
            BackupError::NotABackup { why, .. } => assert!(why.contains(needle), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_backup_restores_every_row_into_a_new_directory() {
        let source = data_dir(50).await;
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("node.gkbackup");
        let files = backup(source.path(), &out).await.unwrap();
        assert_eq!(
            files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            DATABASES
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Nothing but the file is left beside it.
        assert_eq!(listing(out_dir.path()), ["node.gkbackup"]);

        let target = tempfile::tempdir().unwrap();
        let restored_dir = target.path().join("restored");
        let restored = restore(&out, &restored_dir).await.unwrap();
        assert_eq!(restored, files);
        assert_eq!(listing(&restored_dir), ["auth.db", "vault.db"]);
        for name in DATABASES {
            assert_eq!(rows(&restored_dir.join(name)).await, 50);
        }
    }

    #[tokio::test]
    async fn a_backup_never_replaces_a_file_and_needs_both_databases() {
        let source = data_dir(1).await;
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("taken");
        std::fs::write(&out, b"another backup").unwrap();
        let err = backup(source.path(), &out).await.unwrap_err();
        assert!(matches!(err, BackupError::OutExists(_)), "{err:?}");
        assert_eq!(std::fs::read(&out).unwrap(), b"another backup");

        std::fs::remove_file(source.path().join("auth.db")).unwrap();
        let out = out_dir.path().join("new");
        let err = backup(source.path(), &out).await.unwrap_err();
        assert!(matches!(err, BackupError::NoDatabase(_)), "{err:?}");
        assert!(err.to_string().contains("auth.db"), "{err}");
        assert!(!out.exists());
    }

    #[tokio::test]
    async fn restore_refuses_a_directory_with_a_database_and_leaves_it_alone() {
        let source = data_dir(3).await;
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("b");
        backup(source.path(), &out).await.unwrap();
        let in_use = data_dir(7).await;
        std::fs::remove_file(in_use.path().join("auth.db")).unwrap();
        let err = restore(&out, in_use.path()).await.unwrap_err();
        assert!(
            matches!(&err, BackupError::DirInUse { name, .. } if name == "vault.db"),
            "{err:?}"
        );
        assert_eq!(listing(in_use.path()), ["vault.db"]);
        assert_eq!(rows(&in_use.path().join("vault.db")).await, 7);
    }

    #[tokio::test]
    async fn restore_refuses_what_is_not_an_intact_backup_and_writes_nothing() {
        let source = data_dir(3).await;
        let work = tempfile::tempdir().unwrap();
        let good = work.path().join("good");
        backup(source.path(), &good).await.unwrap();
        let entries = entries_of(&good);
        let entry = |name: &str| {
            entries
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| d.clone())
                .unwrap()
        };
        let (manifest, vault, auth) = (entry(MANIFEST), entry("vault.db"), entry("auth.db"));
        let mut flipped = vault.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 1;
        let other_format = String::from_utf8(manifest.clone())
            .unwrap()
            .replace(FORMAT, "something-else");
        // A database the manifest vouches for that SQLite cannot read.
        let junk = vec![7u8; 4096];
        let junk_manifest = serde_json::to_vec(&Manifest {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            created_at: String::new(),
            server: String::new(),
            files: vec![
                FileEntry {
                    name: "vault.db".into(),
                    bytes: junk.len() as u64,
                    sha256: hex::encode(Sha256::digest(&junk)),
                },
                serde_json::from_slice::<Manifest>(&manifest).unwrap().files[1].clone(),
            ],
        })
        .unwrap();

        let cases: Vec<(&str, Vec<Entry<'_>>, &str)> = vec![
            (
                "changed",
                vec![
                    (MANIFEST, &manifest),
                    ("vault.db", &flipped),
                    ("auth.db", &auth),
                ],
                "not what the manifest says",
            ),
            (
                "no-auth",
                vec![(MANIFEST, &manifest), ("vault.db", &vault)],
                "holds no auth.db",
            ),
            (
                "no-manifest",
                vec![("vault.db", &vault), ("auth.db", &auth)],
                "no manifest",
            ),
            (
                "format",
                vec![
                    (MANIFEST, other_format.as_bytes()),
                    ("vault.db", &vault),
                    ("auth.db", &auth),
                ],
                "something-else",
            ),
            (
                "escape",
                vec![
                    (MANIFEST, &manifest),
                    ("nested/vault.db", &vault),
                    ("auth.db", &auth),
                ],
                "unexpected",
            ),
            (
                "twice",
                vec![
                    (MANIFEST, &manifest),
                    ("vault.db", &vault),
                    ("vault.db", &vault),
                    ("auth.db", &auth),
                ],
                "repeated",
            ),
            (
                "junk-db",
                vec![
                    (MANIFEST, &junk_manifest),
                    ("vault.db", &junk),
                    ("auth.db", &auth),
                ],
                "vault.db: not an SQLite database",
            ),
        ];
        for (name, entries, needle) in cases {
            let path = work.path().join(name);
            tar_of(&path, &entries);
            let target = work.path().join(format!("{name}-restored"));
            let err = restore(&path, &target).await.unwrap_err();
            refused_as_not_a_backup(err, needle);
            assert!(!target.exists(), "{name}: restore left {target:?} behind");
        }

        let garbage = work.path().join("garbage");
        std::fs::write(&garbage, vec![0x5a; 3000]).unwrap();
        let target = work.path().join("garbage-restored");
        let err = restore(&garbage, &target).await.unwrap_err();
        assert!(matches!(err, BackupError::NotABackup { .. }), "{err:?}");
        assert!(!target.exists());
    }
}

//! The local cache reader: what `Cache` and the vault make of the rows of a
//! cache file that was damaged, edited by hand, or written by another
//! version.
//!
//! The reader is SQL (SQLite through sqlx), so the fuzzer does not flip
//! bytes of the database file (that would fuzz SQLite's own page parser,
//! not our code). Instead each input is a set of rows, every cell of any
//! SQLite type (NULL, integer, real, text, blob), written straight into the
//! four tables of a real cache file (made by `Cache::open`, so with the real
//! schema and its constraints). Then every read of the `Cache` API runs:
//! `profile`, `sync_state`, `sealed_refresh_token`, `live_records`,
//! `record`, `pending`, `pending_count`, `conflicts`, `conflict`; and what
//! the vault does next with what they return, without the network:
//! unwrapping the wrapped vault key with the key-encryption key, opening the
//! sealed refresh token, parsing the server URL, checking the KDF parameters,
//! and opening every record, queued command and conflict ciphertext as an
//! item (`ItemKind::try_from` + `Item::open`). Cells can hold valid UUIDs,
//! the real wrapped vault key, a really sealed token, or a record really
//! sealed under the vault key over fuzzer bytes, so the fuzzer gets past the
//! type checks and the decryption into the item decoder.
//!
//! Not run per input: Argon2id on the profile's KDF parameters (a second per
//! input); the key-encryption key is derived once, at start-up.
//!
//! Must hold: no panic; every failure is an error value.

#![no_main]

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::LazyLock;

use arbitrary::Arbitrary;
use gophkeeper_client::internals::{Cache, OpKind, StoredRecord};
use gophkeeper_client::internals::{
    KdfParams, KeyEncryptionKey, LocalKey, MasterKey, RecordAad, RecordHeader, SALT_LEN,
    SaltBinding, VaultKey, VaultKeys,
};
use gophkeeper_client::item::{Item, ItemKind};
use gophkeeper_client::vault::ServerUrl;
use libfuzzer_sys::fuzz_target;
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Sqlite};
use tokio::runtime::Runtime;
use uuid::Uuid;

/// The purpose label the vault seals the refresh token under
/// (`REFRESH_TOKEN_PURPOSE` in client/src/vault/mod.rs, which is private).
const REFRESH_TOKEN_PURPOSE: &str = "refresh-token";

/// The user every sealed record in the cache belongs to.
const USER: Uuid = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);

struct Fixture {
    runtime: Runtime,
    cache: Cache,
    raw: tokio::sync::Mutex<SqliteConnection>,
    kek: KeyEncryptionKey,
    vault_key: VaultKey,
    local_key: LocalKey,
    wrapped: Vec<u8>,
    /// Keeps the profile directory alive for the whole run.
    _dir: tempfile::TempDir,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    // /dev/shm where there is one: the cache syncs every write to disk.
    let shm = PathBuf::from("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temporary directory");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (cache, raw) = runtime.block_on(async {
        let cache = Cache::open(dir.path()).await.expect("cache opens");
        let options = SqliteConnectOptions::from_str("sqlite://")
            .expect("options")
            .filename(dir.path().join(gophkeeper_client::internals::CACHE_FILE));
        let raw = SqliteConnection::connect_with(&options)
            .await
            .expect("second connection");
        (cache, raw)
    });
    let params = KdfParams {
        memory_kib: KdfParams::MIN_MEMORY_KIB,
        iterations: KdfParams::MIN_ITERATIONS,
        parallelism: KdfParams::MIN_PARALLELISM,
        salt: [7; SALT_LEN],
        binding: SaltBinding::Unbound,
        secret_key: false,
    };
    let kek = MasterKey::derive_from_bytes(b"fuzz", &params)
        .expect("derive")
        .key_encryption_key();
    let keys = VaultKeys::first(VaultKey::generate());
    let wrapped = kek.wrap(&keys);
    let vault_key = keys.into_current();
    let local_key = LocalKey::derive(&vault_key);
    Fixture {
        runtime,
        cache,
        raw: tokio::sync::Mutex::new(raw),
        kek,
        vault_key,
        local_key,
        wrapped,
        _dir: dir,
    }
});

/// One value in one column.
#[derive(Arbitrary, Debug)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    /// A well-formed UUID as text (ids are stored that way).
    Uuid(u8),
    /// The fixed user id as text.
    User,
    /// The fixture's real wrapped vault key.
    WrappedKey,
    /// These bytes sealed as the refresh token.
    SealedToken(Vec<u8>),
    /// These bytes sealed as a record of the given kind and id, under the
    /// vault key and the fixed user, as the server would hold it.
    SealedRecord { kind: u8, id: u8, plaintext: Vec<u8> },
}

#[derive(Arbitrary, Debug)]
struct Input {
    profile: Option<[Cell; 16]>,
    records: Vec<[Cell; 6]>,
    pending: Vec<[Cell; 9]>,
    conflicts: Vec<[Cell; 9]>,
}

const KINDS: [ItemKind; 4] = [
    ItemKind::Login,
    ItemKind::Text,
    ItemKind::Binary,
    ItemKind::Card,
];

fn small_uuid(n: u8) -> Uuid {
    Uuid::from_u128(u128::from(n) + 1)
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, Sqlite, SqliteArguments>,
    cells: &'q [Cell],
    fixture: &Fixture,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments> {
    for cell in cells {
        query = match cell {
            Cell::Null => query.bind(Option::<i64>::None),
            Cell::Int(value) => query.bind(*value),
            Cell::Real(value) => query.bind(*value),
            Cell::Text(value) => query.bind(value.as_str()),
            Cell::Blob(value) => query.bind(value.as_slice()),
            Cell::Uuid(n) => query.bind(small_uuid(*n).to_string()),
            Cell::User => query.bind(USER.to_string()),
            Cell::WrappedKey => query.bind(fixture.wrapped.clone()),
            Cell::SealedToken(token) => {
                query.bind(fixture.local_key.seal(REFRESH_TOKEN_PURPOSE, token))
            }
            Cell::SealedRecord {
                kind,
                id,
                plaintext,
            } => {
                let kind = KINDS[usize::from(*kind) % KINDS.len()];
                let aad = RecordAad::new(USER, small_uuid(*id), kind);
                let header = RecordHeader {
                    key_epoch: 1,
                    version: u64::from(*id) + 1,
                    base: u64::from(*id),
                    writer: USER,
                    tombstone: false,
                };
                query.bind(fixture.vault_key.seal_record(&aad, &header, 0, plaintext))
            }
        };
    }
    query
}

/// Writes the rows; false if SQLite refused them (a constraint or a type
/// the column cannot hold), in which case there is nothing to read.
async fn write(input: &Input, fixture: &Fixture) -> bool {
    let mut raw = fixture.raw.lock().await;
    let Ok(mut tx) = raw.begin().await else {
        return false;
    };
    let mut ok = true;
    if let Some(profile) = &input.profile {
        let sql = "INSERT INTO profile (id, server_url, username, user_id, device_name, \
                   kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, wrapped_vault_key, \
                   trust_kind, trust_value, sealed_refresh_token, sync_cursor, seen_revision, \
                   last_sync_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        ok &= bind(sqlx::query(sql), profile, fixture)
            .execute(&mut *tx)
            .await
            .is_ok();
    }
    for row in &input.records {
        let sql = "INSERT INTO records (record_id, kind, ciphertext, revision, deleted, \
                   updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)";
        ok &= bind(sqlx::query(sql), row, fixture)
            .execute(&mut *tx)
            .await
            .is_ok();
    }
    for row in &input.pending {
        let sql = "INSERT INTO pending (seq, command_id, record_id, op, kind, ciphertext, \
                   base_revision, sent, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
        ok &= bind(sqlx::query(sql), row, fixture)
            .execute(&mut *tx)
            .await
            .is_ok();
    }
    for row in &input.conflicts {
        let sql = "INSERT INTO conflicts (record_id, kind, mine_op, mine_ciphertext, \
                   theirs_kind, theirs_ciphertext, theirs_revision, theirs_deleted, \
                   detected_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
        ok &= bind(sqlx::query(sql), row, fixture)
            .execute(&mut *tx)
            .await
            .is_ok();
    }
    if !ok {
        let _ = tx.rollback().await;
        return false;
    }
    tx.commit().await.is_ok()
}

async fn clear(fixture: &Fixture) {
    let mut raw = fixture.raw.lock().await;
    for sql in [
        "DELETE FROM profile",
        "DELETE FROM records",
        "DELETE FROM pending",
        "DELETE FROM conflicts",
    ] {
        sqlx::query(sql)
            .execute(&mut *raw)
            .await
            .expect("clearing the cache between inputs");
    }
}

/// What the vault does with a stored ciphertext: kind check, then open.
fn open_item(fixture: &Fixture, user: Uuid, id: Uuid, kind: i32, ciphertext: &[u8]) {
    if let Ok(kind) = ItemKind::try_from(kind) {
        let aad = RecordAad::new(user, id, kind);
        if let Ok(item) = Item::open(&fixture.vault_key, &aad, ciphertext) {
            let _ = item.validate();
        }
    }
}

fn open_record(fixture: &Fixture, user: Uuid, record: &StoredRecord) {
    open_item(fixture, user, record.id, record.kind, &record.ciphertext);
}

async fn read(fixture: &Fixture) {
    let cache = &fixture.cache;
    let mut user = USER;
    if let Ok(Some(profile)) = cache.profile().await {
        user = profile.user_id;
        let _ = ServerUrl::parse(&profile.server_url);
        let _ = profile.kdf.validate();
        if let Ok(keys) = fixture.kek.unwrap(&profile.wrapped_vault_key) {
            // The only key that wraps is the fixture's own.
            let _ = LocalKey::derive(keys.current());
        }
    }
    let _ = cache.sync_state().await;
    if let Ok(Some(sealed)) = cache.sealed_refresh_token().await {
        if let Ok(token) = fixture.local_key.open(REFRESH_TOKEN_PURPOSE, &sealed) {
            let _ = String::from_utf8(token.to_vec());
        }
    }
    if let Ok(records) = cache.live_records().await {
        for record in &records {
            open_record(fixture, user, record);
        }
    }
    for n in 0..4 {
        if let Ok(Some(record)) = cache.record(small_uuid(n)).await {
            open_record(fixture, user, &record);
        }
    }
    if let Ok(pending) = cache.pending().await {
        for op in &pending {
            if let Some(ciphertext) = &op.ciphertext {
                open_item(fixture, user, op.record_id, op.kind, ciphertext);
            }
        }
    }
    let _ = cache.pending_count().await;
    if let Ok(conflicts) = cache.conflicts().await {
        for conflict in &conflicts {
            if let Some(mine) = &conflict.mine_ciphertext {
                open_item(fixture, user, conflict.record_id, conflict.kind, mine);
            }
            open_record(fixture, user, &conflict.theirs);
        }
    }
    for n in 0..4 {
        let _ = cache.conflict(small_uuid(n)).await;
        let _ = cache.next_versions(small_uuid(n), OpKind::Update).await;
    }
    let _ = cache.tamper_alerts().await;
    let _ = cache.device_id().await;
}

fuzz_target!(|input: Input| {
    let fixture = &*FIXTURE;
    fixture.runtime.block_on(async {
        if write(&input, fixture).await {
            read(fixture).await;
        }
        clear(fixture).await;
    });
});

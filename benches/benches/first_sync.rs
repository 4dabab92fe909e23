//! A new device's first sync of a 10,000-item vault, decryption included,
//! through the client library: the sync engine pulls every page of
//! `Changes` into a fresh encrypted local cache, then every record is
//! opened and decoded as an `Item`.
//!
//! Timed: `SyncEngine::pull` plus decrypting all records from the cache.
//! Not timed: opening the empty cache and the login before it, and the
//! Argon2id derivation a real login also pays (measured on its own in the
//! `crypto` bench), so the figure is the sync alone.
//!
//! The vault is what real devices leave: the items, and the filling
//! device's vault summary (all 256 buckets), which the first sync checks.
//!
//! The second bench is the delta sync of a device that already holds the
//! whole vault: another device (a sync engine of its own) creates one item
//! and, as every device does after a change, re-seals the bucket of its
//! summary that the item fell in (untimed); then this device's
//! `SyncEngine::pull` (one `Changes` call, the cache write, the summary
//! check) and the decryption of the new record are timed.

// A bench harness: a failure should stop the run loudly.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gophkeeper_benches::BenchServer;
use gophkeeper_client::internals::{
    Cache, KdfParams, MasterKey, MasterSecret, NewOp, OpKind, OpaqueLogin, OpaqueRegistration,
    RecordAad, RecordHeader, Sealer, Session, SyncEngine, Transport, VaultKey, VaultKeys, Versions,
};
use gophkeeper_client::item::{Item, ItemKind, Payload};
use gophkeeper_client::vault::{Profile, ServerUrl, Trust};
use gophkeeper_proto::v1;
use secrecy::SecretString;
use uuid::Uuid;

const ITEMS: usize = 10_000;
/// Commands in flight while the vault is filled.
const FILL_CONCURRENCY: usize = 64;

/// One account with a full vault, and what a device needs to read it.
struct Account {
    url: ServerUrl,
    trust: Trust,
    username: String,
    password: MasterSecret,
    vault_key: Arc<VaultKeys>,
    user_id: Uuid,
    kdf: KdfParams,
    wrapped_vault_key: Vec<u8>,
}

/// Signs `session` in as `account` (OPAQUE, as the client does).
async fn log_in(session: &Session, account: &Account, device: &str) {
    let (state, request) = OpaqueLogin::start(&account.password).expect("login start");
    let start = session
        .login_start(&account.username, request)
        .await
        .expect("login start");
    let finish = state
        .finish(&account.password, &start.credential_response, &account.kdf)
        .expect("login finish");
    session
        .login_finish(
            &account.username,
            &start.login_id,
            &finish.message,
            device,
            None,
        )
        .await
        .expect("login");
}

/// The sync engine of a device of `account`, checking what it pulls.
fn engine(account: &Account, cache: &Cache, session: Session) -> SyncEngine {
    let sealer = Sealer::new(account.vault_key.clone(), account.user_id, Uuid::new_v4());
    SyncEngine::new(cache.clone(), Arc::new(session), Arc::new(sealer))
}

async fn session(account: &Account) -> Session {
    let transport = Transport::open(account.url.clone(), account.trust.clone())
        .await
        .expect("transport");
    Session::new(transport)
}

/// Registers a user the way the client does and fills the vault with
/// sealed login items through the client session.
async fn fill(server: &BenchServer) -> Account {
    let url = ServerUrl::parse(&server.url()).expect("url");
    let trust = Trust::CaFile(server.server.ca_path.clone().expect("generated CA"));
    let kdf = KdfParams::generate_default();
    let master = MasterKey::derive_from_bytes(b"first sync bench", &kdf).expect("derive");
    let vault_key = VaultKeys::first(VaultKey::generate());
    // This device's copy, as a profile keeps it.
    let wrapped_vault_key = master.key_encryption_key().wrap(&vault_key);
    let mut account = Account {
        url,
        trust,
        username: format!("sync-{}", Uuid::new_v4()),
        password: MasterSecret::new(SecretString::from("first sync bench"), None),
        vault_key: Arc::new(vault_key),
        user_id: Uuid::nil(),
        kdf,
        wrapped_vault_key,
    };
    let writer = Arc::new(session(&account).await);
    let (state, request) =
        OpaqueRegistration::start(&account.password, &account.kdf).expect("register");
    let response = writer
        .register_start(&account.username, request)
        .await
        .expect("register start");
    let finish = state
        .finish(&account.password, &response, &account.kdf)
        .expect("register finish");
    account.user_id = writer
        .register(
            &account.username,
            &account.kdf,
            finish.message,
            finish.wrap_key.wrap(&account.vault_key),
        )
        .await
        .expect("register");
    log_in(&writer, &account, "filler").await;
    let mut in_flight = tokio::task::JoinSet::new();
    for i in 0..ITEMS {
        let (_, command) = create_login(&account, i);
        let writer = writer.clone();
        in_flight.spawn(async move { writer.submit(command, true).await.expect("submit") });
        if in_flight.len() >= FILL_CONCURRENCY {
            in_flight.join_next().await.expect("task").expect("join");
        }
    }
    while let Some(done) = in_flight.join_next().await {
        done.expect("join");
    }
    // What the filling device's summary would say once it synced.
    let filler = Device::new(&account, "filler").await;
    filler.engine.pull().await.expect("filler pull");
    let report = filler.engine.summarise_everything().await.expect("summary");
    assert_eq!(report.pending, 0, "{report:?}");
    account
}

/// A device with its own cache and sync engine.
struct Device {
    _dir: tempfile::TempDir,
    cache: Cache,
    engine: SyncEngine,
}

impl Device {
    async fn new(account: &Account, name: &str) -> Self {
        let dir = tempfile::tempdir().expect("profile dir");
        let cache = Cache::open(dir.path()).await.expect("cache");
        // The sync cursor lives in the profile row, as after a real login:
        // without it every pull would start from revision 0 again.
        cache
            .save_profile(&Profile {
                server_url: account.url.to_string(),
                username: account.username.clone(),
                user_id: account.user_id,
                device_name: name.into(),
                kdf: account.kdf.clone(),
                wrapped_vault_key: account.wrapped_vault_key.clone(),
                trust: account.trust.clone(),
            })
            .await
            .expect("profile");
        let session = session(account).await;
        log_in(&session, account, name).await;
        let engine = engine(account, &cache, session);
        Self {
            _dir: dir,
            cache,
            engine,
        }
    }
}

fn login_item(i: usize) -> Item {
    Item::new(
        format!("site {i}"),
        Payload::Login {
            username: format!("user{i}@example.com"),
            password: "correct horse battery staple".into(),
            urls: vec![format!("https://site{i}.example.com/login")],
            totp: None,
        },
    )
}

/// A command creating a sealed login item, and the new record's id.
fn create_login(account: &Account, i: usize) -> (Uuid, v1::Command) {
    let record_id = Uuid::new_v4();
    let item = login_item(i);
    let aad = RecordAad::new(account.user_id, record_id, ItemKind::Login);
    let command = v1::Command {
        command_id: Uuid::new_v4().to_string(),
        op: Some(v1::command::Op::Create(v1::CreateRecord {
            record_id: record_id.to_string(),
            kind: v1::RecordKind::Login as i32,
            ciphertext: item
                .seal(account.vault_key.current(), &aad, &RecordHeader::SAMPLE, 0)
                .expect("seal"),
        })),
    };
    (record_id, command)
}

/// A device holding the whole vault in its cache, and a second device
/// that makes the changes it then syncs.
struct SyncedDevices {
    this: Device,
    other: Device,
}

async fn synced_devices(account: &Account) -> SyncedDevices {
    let this = Device::new(account, "synced device").await;
    let first = this.engine.pull().await.expect("first pull");
    assert!(first.tampered.is_empty(), "{first:?}");
    assert_eq!((first.pulled, first.offline), (ITEMS, None), "first pull");
    let other = Device::new(account, "other device").await;
    other.engine.pull().await.expect("other pull");
    SyncedDevices { this, other }
}

/// One change on the other device (untimed), then the timed delta sync.
async fn delta_sync(account: &Account, devices: &SyncedDevices, i: usize) -> Duration {
    let record_id = Uuid::new_v4();
    let item = login_item(ITEMS + i);
    let first = Versions {
        base: 0,
        version: 1,
    };
    let other = &devices.other;
    let ciphertext = other
        .engine
        .sealer()
        .seal_item(record_id, &item, first)
        .expect("seal");
    other
        .cache
        .enqueue(&NewOp {
            record_id,
            kind: v1::RecordKind::Login as i32,
            op: OpKind::Create,
            ciphertext: Some(ciphertext),
            base_revision: None,
        })
        .await
        .expect("queue");
    let pushed = other.engine.push().await.expect("push");
    assert_eq!((pushed.applied, pushed.pending), (1, 0), "{pushed:?}");

    let started = Instant::now();
    let report = devices.this.engine.pull().await.expect("pull");
    let record = devices
        .this
        .cache
        .record(record_id)
        .await
        .expect("cache read")
        .expect("the new record is in the cache");
    let aad = RecordAad::new(account.user_id, record_id, ItemKind::Login);
    let item = Item::open(account.vault_key.current(), &aad, &record.ciphertext).expect("opens");
    let elapsed = started.elapsed();

    assert_eq!(report.pulled, 1);
    assert!(report.tampered.is_empty(), "{report:?}");
    assert_eq!(item.name, format!("site {}", ITEMS + i));
    elapsed
}

/// One new device: log in (untimed), then pull everything and open it.
async fn first_sync(account: &Account) -> Duration {
    let dir = tempfile::tempdir().expect("profile dir");
    let cache = Cache::open(dir.path()).await.expect("cache");
    let session = session(account).await;
    log_in(&session, account, "bench device").await;
    let engine = engine(account, &cache, session);

    let started = Instant::now();
    let report = engine.pull().await.expect("pull");
    let records = cache.live_records().await.expect("records");
    let mut opened = 0;
    // The summaries were opened and checked by the pull.
    let summary = v1::RecordKind::VaultSummary as i32;
    for record in records.iter().filter(|r| r.kind != summary) {
        let aad = RecordAad::new(account.user_id, record.id, ItemKind::Login);
        let item =
            Item::open(account.vault_key.current(), &aad, &record.ciphertext).expect("opens");
        opened += usize::from(!item.name.is_empty());
    }
    let elapsed = started.elapsed();

    assert_eq!((report.pulled, opened), (ITEMS, ITEMS));
    assert!(report.tampered.is_empty(), "{report:?}");
    cache.close().await;
    elapsed
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(BenchServer::start_with(|settings| {
        // One login per iteration, all from one user and address.
        settings.auth.login_attempts_per_minute_per_user = 100_000;
        settings.auth.login_attempts_per_minute_per_peer = 100_000;
    }));
    let account = runtime.block_on(fill(&server));

    let mut group = c.benchmark_group("first sync");
    // Each iteration is seconds long; the minimum sample count will do.
    group.sample_size(10);
    group.bench_function(
        "10,000 login items: pull into a fresh cache + decrypt all",
        |b| {
            b.to_async(&runtime).iter_custom(|iterations| {
                let account = &account;
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iterations {
                        total += first_sync(account).await;
                    }
                    total
                }
            });
        },
    );
    group.finish();

    let devices = runtime.block_on(synced_devices(&account));
    let mut group = c.benchmark_group("delta sync");
    let mut changes = 0;
    group.bench_function(
        "one change on another device: pull into a 10,000-item cache + decrypt it",
        |b| {
            b.to_async(&runtime).iter_custom(|iterations| {
                let (account, devices) = (&account, &devices);
                let first = changes;
                changes += iterations as usize;
                async move {
                    let mut total = Duration::ZERO;
                    for i in 0..iterations as usize {
                        total += delta_sync(account, devices, first + i).await;
                    }
                    total
                }
            });
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

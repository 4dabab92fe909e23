//! Randomized model test of sync: three devices of one user make random
//! creates, edits and deletes, go offline and come back, restart, and edit
//! the same few records without seeing each other's changes. At the end
//! every device holds the same vault, and no version anybody wrote was lost
//! silently: each one is still there, or a later version was made from it
//! (an edit or delete of it), or it was shown on one side of a conflict.
//!
//! In the lying-server mode (the second test) the server's operator also
//! rewrites the vault's rows at random between steps: serving an older
//! ciphertext of a record as new, a deletion no device made, a corrupted
//! byte. Devices need not converge then, but none may ever hold an older
//! version of a record than it held before, or a deletion without a key
//! holder's tombstone, and the lies must be reported.
//!
//! Each run is one seed and starts from an empty vault (the previous run's
//! records are deleted and every device has synced), so a seed replays the
//! same steps. The three devices stay logged in across runs: logging in and
//! unlocking cost an Argon2id derivation each (64 MiB, about half a second
//! here), which would otherwise be most of the time; restarts inside a run
//! still unlock for real. `GOPHKEEPER_MODEL_RUNS` (default 200) and
//! `GOPHKEEPER_MODEL_SEED` (the first seed, default 1) pick the runs; a
//! failure names its seed, and `GOPHKEEPER_MODEL_SEED=<seed>
//! GOPHKEEPER_MODEL_RUNS=1` replays it alone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use gophkeeper_client::internals::{OpenedRecord, RecordAad, RecordHeader, StoredRecord, VaultKey};
use gophkeeper_client::item::ItemKind;
use gophkeeper_client::vault::{
    ConnectOptions, EntryState, Resolution, ServerUrl, Trust, TrustRequest, Vault,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tempfile::TempDir;
use uuid::Uuid;

use crate::helpers::{TestServer, note, password, text_of, vault_key_at};
use crate::operator::Operator;
use crate::proxy::Proxy;

const DEVICES: usize = 3;
const STEPS: usize = 30;
/// Few records, so that devices keep editing the same ones.
const MAX_RECORDS: usize = 3;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a number"))
        })
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_offline_edits_on_three_devices_converge_and_lose_nothing() {
    let runs = env_number("GOPHKEEPER_MODEL_RUNS", 200);
    let first = env_number("GOPHKEEPER_MODEL_SEED", 1);
    let server = TestServer::start().await;
    let started = Instant::now();
    let mut devices = Some(devices(&server).await);
    let mut totals = Totals::default();
    for seed in first..first + runs {
        let mut run = Run::new(devices.take().unwrap(), seed);
        run.play().await;
        totals.add(&run.totals);
        devices = Some(run.clear().await);
    }
    eprintln!(
        "model: {runs} runs from seed {first} in {:.1} s: {totals:?}",
        started.elapsed().as_secs_f64()
    );
    // The model only proves something if the hard cases happened.
    assert!(totals.resolved >= runs / 2, "{totals:?}");
    assert!(totals.offline_saves >= runs, "{totals:?}");
    assert!(totals.restarts >= runs / 4, "{totals:?}");
    assert!(totals.deletes >= runs / 2, "{totals:?}");
}

/// The same devices and steps with a server that lies now and then: no
/// device ever goes back to an older version of a record or takes a
/// deletion no key holder made, and the lies are reported.
/// `GOPHKEEPER_MODEL_LYING_RUNS` (default 30) runs, from the same seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_server_never_rolls_a_device_back_and_is_reported() {
    let runs = env_number("GOPHKEEPER_MODEL_LYING_RUNS", 30);
    let first = env_number("GOPHKEEPER_MODEL_SEED", 1);
    let server = TestServer::start().await;
    let mut devices = Some(devices(&server).await);
    let mut totals = Totals::default();
    let first_device = &devices.as_ref().unwrap()[0];
    let key = vault_key_at(first_device.dir.path()).await;
    let mut liar = Liar::new(&server, first_device.vault().user_id(), key).await;
    for seed in first..first + runs {
        let mut run = Run::new(devices.take().unwrap(), seed);
        for _ in 0..STEPS {
            let d = run.rng.gen_range(0..DEVICES);
            if run.rng.gen_range(0..100) < 15 {
                liar.lie(&mut run.rng).await;
            } else {
                run.step(d).await;
            }
            run.check_never_rolled_back(&mut liar).await;
        }
        run.settle_loosely().await;
        run.check_never_rolled_back(&mut liar).await;
        totals.add(&run.totals);
        devices = Some(run.devices);
    }
    let mut alerts = 0;
    for device in devices.as_ref().unwrap() {
        if let Some(vault) = &device.vault {
            alerts += vault.tamper_alerts().await.unwrap().len();
        }
    }
    eprintln!(
        "model (lying): {runs} runs from seed {first}: {} lies, {alerts} alerts, {totals:?}",
        liar.lies
    );
    assert!(liar.lies >= runs, "too few lies to prove anything");
    assert!(alerts > 0, "{} lies, none reported", liar.lies);
}

/// The server's operator, lying at random.
struct Liar {
    operator: Operator,
    user: Uuid,
    /// The vault key, to tell a record a key holder sealed from a lie.
    key: VaultKey,
    /// Every ciphertext each record has had on the server, to serve again.
    seen: HashMap<Uuid, Vec<Vec<u8>>>,
    /// The highest record version each device held of each record.
    held: HashMap<(usize, Uuid), u64>,
    lies: u64,
}

impl Liar {
    async fn new(server: &TestServer, user: Uuid, key: VaultKey) -> Self {
        Self {
            operator: Operator::open(server).await,
            user,
            key,
            seen: HashMap::new(),
            held: HashMap::new(),
            lies: 0,
        }
    }

    /// The record opened as what it says it is (live or a tombstone).
    fn open(&self, record: &StoredRecord) -> Option<OpenedRecord> {
        let aad = match ItemKind::try_from(record.kind) {
            Ok(kind) => RecordAad::new(self.user, record.id, kind),
            Err(_) => RecordAad::vault_summary(self.user, record.id),
        };
        let opened = self.key.open_record(&aad, &record.ciphertext).ok()?;
        (opened.is_tombstone() == record.deleted).then_some(opened)
    }

    /// Notes what the server holds now.
    async fn watch(&mut self) {
        for (id, row) in self.operator.snapshot(self.user).await {
            let versions = self.seen.entry(id).or_default();
            if !versions.contains(&row.ciphertext) {
                versions.push(row.ciphertext);
            }
        }
    }

    async fn lie(&mut self, rng: &mut StdRng) {
        self.watch().await;
        let rows = self.operator.snapshot(self.user).await;
        if rows.is_empty() {
            return;
        }
        let (id, row) = &rows[rng.gen_range(0..rows.len())];
        match rng.gen_range(0..4) {
            0 => {
                let older = &self.seen[id];
                let pick = older[rng.gen_range(0..older.len())].clone();
                if pick == row.ciphertext {
                    return;
                }
                self.operator.serve(self.user, *id, &pick, false).await;
            }
            1 => self.operator.serve(self.user, *id, &[], true).await,
            2 => {
                self.operator
                    .serve(self.user, *id, &row.ciphertext, true)
                    .await;
            }
            _ if row.ciphertext.is_empty() => return,
            _ => {
                let mut bytes = row.ciphertext.clone();
                let i = rng.gen_range(0..bytes.len());
                bytes[i] ^= 1 << rng.gen_range(0..8);
                self.operator.serve(self.user, *id, &bytes, false).await;
            }
        }
        self.lies += 1;
    }
}

/// What the runs did, summed.
#[derive(Debug, Default)]
struct Totals {
    steps: u64,
    versions: u64,
    conflicts: u64,
    resolved: u64,
    offline_saves: u64,
    restarts: u64,
    deletes: u64,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.steps += other.steps;
        self.versions += other.versions;
        self.conflicts += other.conflicts;
        self.resolved += other.resolved;
        self.offline_saves += other.offline_saves;
        self.restarts += other.restarts;
        self.deletes += other.deletes;
    }
}

struct Device {
    dir: TempDir,
    proxy: Proxy,
    /// `None` while "restarting" (keys wiped, profile on disk).
    vault: Option<Vault>,
}

impl Device {
    fn vault(&self) -> &Vault {
        self.vault.as_ref().unwrap()
    }
}

/// Every version ever written (an item's text is its version tag).
#[derive(Default)]
struct History {
    written: Vec<String>,
    /// Versions a later edit or a delete was based on.
    superseded: HashSet<String>,
    /// Versions shown as "mine" or "theirs" of a conflict.
    shown: HashSet<String>,
}

struct Run {
    seed: u64,
    rng: StdRng,
    devices: Vec<Device>,
    history: History,
    totals: Totals,
}

/// One user's three devices, each behind its own cuttable proxy.
async fn devices(server: &TestServer) -> Vec<Device> {
    let mut devices = Vec::new();
    for n in 0..DEVICES {
        let dir = tempfile::tempdir().unwrap();
        let proxy = Proxy::start(server.addr).await;
        let url = ServerUrl::parse(&format!("https://{}", proxy.addr)).unwrap();
        let mut options = ConnectOptions::new(url);
        options.trust = TrustRequest::Configured(Trust::CaFile(server.ca()));
        let mut never = |_: &str| false;
        let vault = if n == 0 {
            Vault::register(&options, dir.path(), "model", &password(), &mut never).await
        } else {
            Vault::login(&options, dir.path(), "model", &password(), &mut never).await
        }
        .unwrap();
        devices.push(Device {
            dir,
            proxy,
            vault: Some(vault),
        });
    }
    devices
}

impl Run {
    fn new(devices: Vec<Device>, seed: u64) -> Self {
        Self {
            seed,
            rng: StdRng::seed_from_u64(seed),
            devices,
            history: History::default(),
            totals: Totals::default(),
        }
    }

    /// Deletes every record and syncs everyone: the next run starts empty.
    async fn clear(self) -> Vec<Device> {
        for entry in self.devices[0].vault().list().await.unwrap() {
            self.devices[0].vault().delete(entry.id).await.unwrap();
        }
        for device in &self.devices {
            let report = device.vault().sync().await.unwrap();
            assert!(report.conflicts.is_empty() && report.pending == 0);
            assert!(device.vault().list().await.unwrap().is_empty());
        }
        self.devices
    }

    async fn play(&mut self) {
        for _ in 0..STEPS {
            let d = self.rng.gen_range(0..DEVICES);
            self.step(d).await;
            self.totals.steps += 1;
        }
        self.settle().await;
        self.check().await;
        self.totals.versions = self.history.written.len() as u64;
    }

    fn version(&mut self, d: usize) -> String {
        let version = format!("seed{}-d{d}-v{}", self.seed, self.history.written.len());
        self.history.written.push(version.clone());
        version
    }

    async fn step(&mut self, d: usize) {
        if self.devices[d].vault.is_none() {
            let vault = Vault::unlock(self.devices[d].dir.path(), &password())
                .await
                .unwrap();
            self.devices[d].vault = Some(vault);
            return;
        }
        let roll = self.rng.gen_range(0..100);
        match roll {
            0..35 => self.edit(d).await,
            35..43 => self.create(d).await,
            43..50 => self.delete(d).await,
            50..58 => self.resolve_all(d).await,
            58..78 => {
                let report = self.devices[d].vault().sync().await.unwrap();
                self.totals.conflicts += report.conflicts.len() as u64;
            }
            78..97 => {
                let proxy = &mut self.devices[d].proxy;
                if proxy.is_online() {
                    proxy.cut();
                } else {
                    proxy.restore().await;
                }
            }
            _ => {
                self.devices[d].vault = None;
                self.totals.restarts += 1;
            }
        }
    }

    /// Entries of device `d` that may be changed (not waiting on a conflict).
    async fn editable(&self, d: usize) -> Vec<(Uuid, String, String)> {
        let list = self.devices[d].vault().list().await.unwrap();
        list.into_iter()
            .filter(|e| e.state != EntryState::Conflict)
            .map(|e| (e.id, e.item.name.clone(), text_of(&e.item)))
            .collect()
    }

    fn count(&mut self, report: &gophkeeper_client::vault::SyncReport) {
        self.totals.conflicts += report.conflicts.len() as u64;
        if report.offline.is_some() {
            self.totals.offline_saves += 1;
        }
    }

    async fn create(&mut self, d: usize) {
        if self.devices[d].vault().list().await.unwrap().len() >= MAX_RECORDS {
            return self.edit(d).await;
        }
        let version = self.version(d);
        let name = format!("r{}", self.history.written.len());
        let saved = self.devices[d]
            .vault()
            .add(&note(&name, &version))
            .await
            .unwrap();
        self.count(&saved.report);
    }

    async fn edit(&mut self, d: usize) {
        let entries = self.editable(d).await;
        if entries.is_empty() {
            return Box::pin(self.create(d)).await;
        }
        // Half the edits go to one record, so that devices clash on it.
        let pick = if self.rng.gen_bool(0.5) {
            0
        } else {
            self.rng.gen_range(0..entries.len())
        };
        let (id, name, base) = entries[pick].clone();
        let version = self.version(d);
        self.history.superseded.insert(base);
        let saved = self.devices[d]
            .vault()
            .edit(id, &note(&name, &version))
            .await
            .unwrap_or_else(|e| panic!("seed {}: edit: {e}", self.seed));
        self.count(&saved.report);
    }

    async fn delete(&mut self, d: usize) {
        let entries = self.editable(d).await;
        if entries.is_empty() {
            return;
        }
        let (id, _, base) = entries[self.rng.gen_range(0..entries.len())].clone();
        self.history.superseded.insert(base);
        let saved = self.devices[d]
            .vault()
            .delete(id)
            .await
            .unwrap_or_else(|e| panic!("seed {}: delete: {e}", self.seed));
        self.totals.deletes += 1;
        self.count(&saved.report);
    }

    /// Shows every conflict of device `d` (both sides are recorded as seen)
    /// and settles each with a random choice.
    async fn resolve_all(&mut self, d: usize) {
        let conflicts = self.devices[d].vault().conflicts().await.unwrap();
        for conflict in conflicts {
            for side in [&conflict.mine, &conflict.theirs].into_iter().flatten() {
                self.history.shown.insert(text_of(side));
            }
            let choice = match self.rng.gen_range(0..3) {
                0 => Resolution::KeepMine,
                1 => Resolution::KeepTheirs,
                _ => Resolution::KeepBoth,
            };
            self.totals.resolved += 1;
            let resolved = self.devices[d]
                .vault()
                .resolve(conflict.record_id, choice)
                .await
                .unwrap_or_else(|e| panic!("seed {}: resolve {choice:?}: {e}", self.seed));
            self.count(&resolved.report);
        }
    }

    /// Everyone online and unlocked; sync and settle conflicts until nothing
    /// moves.
    async fn settle(&mut self) {
        for d in 0..DEVICES {
            self.devices[d].proxy.restore().await;
            if self.devices[d].vault.is_none() {
                self.step(d).await;
            }
        }
        for _round in 0..10 {
            let mut quiet = true;
            for d in 0..DEVICES {
                self.resolve_all(d).await;
                let report = self.devices[d].vault().sync().await.unwrap();
                assert!(report.offline.is_none(), "seed {}: {report:?}", self.seed);
                self.count(&report);
                quiet &= report.applied == 0 && report.pulled == 0 && report.pending == 0;
                quiet &= report.conflicts.is_empty();
            }
            if quiet {
                return;
            }
        }
        panic!("seed {}: still changing after 10 rounds of sync", self.seed);
    }

    /// No device holds an older version of a record than the newest it
    /// held that opened, nor a deletion no key holder sealed of a record
    /// it held. (A record first served corrupted protects nothing and is
    /// not counted: the next good version replaces it.)
    async fn check_never_rolled_back(&self, liar: &mut Liar) {
        liar.watch().await;
        for (d, device) in self.devices.iter().enumerate() {
            let Some(vault) = &device.vault else {
                continue;
            };
            for record in vault.engine().cache().all_records().await.unwrap() {
                let before = liar.held.get(&(d, record.id)).copied();
                let Some(opened) = liar.open(&record) else {
                    assert!(
                        before.is_none(),
                        "seed {}: device {d} replaced a good copy of {} by one that does \
                         not open (or a deletion no key holder made): {record:?}, header {:?}",
                        self.seed,
                        record.id,
                        RecordHeader::peek(&record.ciphertext)
                    );
                    continue;
                };
                let version = opened.version();
                assert!(
                    before.is_none_or(|b| version >= b),
                    "seed {}: device {d} went back from version {before:?} to {version} of {}",
                    self.seed,
                    record.id
                );
                liar.held.insert((d, record.id), version);
            }
        }
    }

    /// Everyone online and unlocked, conflicts settled, two rounds of
    /// sync: with a lying server the devices need not agree.
    async fn settle_loosely(&mut self) {
        for d in 0..DEVICES {
            self.devices[d].proxy.restore().await;
            if self.devices[d].vault.is_none() {
                self.step(d).await;
            }
        }
        for _round in 0..2 {
            for d in 0..DEVICES {
                self.resolve_all(d).await;
                let report = self.devices[d].vault().sync().await.unwrap();
                assert!(report.offline.is_none(), "seed {}: {report:?}", self.seed);
            }
        }
    }

    async fn check(&self) {
        let mut states = Vec::new();
        for device in &self.devices {
            let vault = device.vault();
            let state: BTreeMap<Uuid, (String, u64)> = vault
                .list()
                .await
                .unwrap()
                .into_iter()
                .map(|e| {
                    assert_eq!(e.state, EntryState::Synced, "seed {}", self.seed);
                    (e.id, (text_of(&e.item), e.revision))
                })
                .collect();
            assert!(vault.conflicts().await.unwrap().is_empty());
            assert_eq!(vault.status().await.unwrap().pending, 0);
            // An honest server: the integrity checks raise no alarm.
            let alerts = vault.tamper_alerts().await.unwrap();
            assert!(alerts.is_empty(), "seed {}: {alerts:?}", self.seed);
            states.push(state);
        }
        for other in &states[1..] {
            assert_eq!(&states[0], other, "seed {}: devices differ", self.seed);
        }
        let present: HashMap<&str, Uuid> = states[0]
            .iter()
            .map(|(id, (text, _))| (text.as_str(), *id))
            .collect();
        for version in &self.history.written {
            let accounted = present.contains_key(version.as_str())
                || self.history.superseded.contains(version)
                || self.history.shown.contains(version);
            assert!(
                accounted,
                "seed {}: version {version} was lost without a conflict",
                self.seed
            );
        }
    }
}

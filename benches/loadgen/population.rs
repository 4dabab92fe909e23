//! The simulated users and devices: registration, one login (session) per
//! device, its `Watch` stream, and a few seed records.
//!
//! Users register with a fixed fake 32-byte auth key and fixed KDF
//! parameters: the server stores only a slow hash of the key and never runs
//! the client's KDF, so real derivation would only burn client CPU.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use gophkeeper_benches::opaque;
use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use gophkeeper_proto::v1::vault_client::VaultClient;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tonic::Request;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

use crate::args::Args;
use crate::ops;
use crate::stats::Stats;
use crate::watch::{self, Tracker};

const PASSWORD: [u8; 32] = [7; 32];
/// Any bytes do: the server only stores the wrapped key.
const WRAPPED_VAULT_KEY_LEN: usize = 73;

/// One signed-in device.
#[derive(Debug)]
pub struct Device {
    pub session_id: String,
    authorization: MetadataValue<Ascii>,
    pub vault: VaultClient<Channel>,
    /// Records this device made and may change: (id, revision). Only this
    /// device touches them, and an operation takes a record out while it
    /// works on it, so the load itself makes no conflicts.
    pub records: std::sync::Mutex<Vec<(String, u64)>>,
    /// Revision up to which this device has fetched changes.
    pub cursor: AtomicU64,
    pub tracker: Arc<Tracker>,
}

impl Device {
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", self.authorization.clone());
        request
    }
}

/// Everyone signed in, with the `Watch` readers running.
#[derive(Debug)]
pub struct Population {
    pub devices: Vec<Arc<Device>>,
    pub trackers: Vec<Arc<Tracker>>,
    pub watch_readers: Vec<tokio::task::JoinHandle<()>>,
    pub watches_live: Arc<AtomicUsize>,
    pub setup: Duration,
}

/// Registers every user and signs in every device, at most
/// `--setup-concurrency` users at once, printing progress once a second.
pub async fn build(
    args: &Args,
    channels: &[Channel],
    stats: &Arc<Stats>,
) -> anyhow::Result<Population> {
    let started = Instant::now();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let limit = Arc::new(Semaphore::new(args.setup_concurrency.max(1)));
    let watches_live = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut users = JoinSet::new();
    for user in 0..args.users {
        let limit = limit.clone();
        let channels = channels.to_vec();
        let username = format!("load-{}-{user}", &run[..12]);
        let (devices, seeds, bytes) = (args.devices_per_user, args.seed_records, args.record_bytes);
        let (stats, live, done) = (stats.clone(), watches_live.clone(), done.clone());
        users.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let user = sign_in_user(user, &username, devices, &channels, &stats, &live).await?;
            for device in &user.0 {
                ops::seed(device, seeds, bytes).await?;
            }
            done.fetch_add(1, Ordering::Relaxed);
            anyhow::Ok(user)
        });
    }
    let progress = tokio::spawn(report_setup(args.users, done.clone()));
    let mut population = Population {
        devices: Vec::with_capacity(args.devices()),
        trackers: Vec::with_capacity(args.users),
        watch_readers: Vec::with_capacity(args.devices()),
        watches_live,
        setup: Duration::ZERO,
    };
    let mut failure = None;
    while let Some(joined) = users.join_next().await {
        match joined.context("a sign-in task panicked").and_then(|r| r) {
            Ok((devices, tracker, readers)) => {
                population.devices.extend(devices);
                population.trackers.push(tracker);
                population.watch_readers.extend(readers);
            }
            Err(err) => {
                failure.get_or_insert(err);
                users.abort_all();
            }
        }
    }
    progress.abort();
    if let Some(err) = failure {
        for reader in &population.watch_readers {
            reader.abort();
        }
        return Err(err.context("setting up users (nothing was measured)"));
    }
    population.setup = started.elapsed();
    Ok(population)
}

type SignedIn = (
    Vec<Arc<Device>>,
    Arc<Tracker>,
    Vec<tokio::task::JoinHandle<()>>,
);

async fn sign_in_user(
    user: usize,
    username: &str,
    devices: usize,
    channels: &[Channel],
    stats: &Arc<Stats>,
    live: &Arc<AtomicUsize>,
) -> anyhow::Result<SignedIn> {
    let channel_of = |device: usize| channels[(user * devices + device) % channels.len()].clone();
    let mut account = AccountClient::new(channel_of(0));
    opaque::register(
        &mut account,
        username,
        &PASSWORD,
        opaque::kdf(),
        vec![9; WRAPPED_VAULT_KEY_LEN],
    )
    .await
    .with_context(|| format!("registering {username}"))?;
    let tracker = Arc::new(Tracker::new(devices));
    let mut signed_in = Vec::with_capacity(devices);
    let mut readers = Vec::with_capacity(devices);
    for index in 0..devices {
        let channel = channel_of(index);
        let login = opaque::login(
            &mut AccountClient::new(channel.clone()),
            username,
            &PASSWORD,
            &format!("loadgen device {index}"),
        )
        .await
        .with_context(|| format!("logging in {username} device {index}"))?;
        let token = login.tokens.context("login answer without tokens")?;
        let device = Arc::new(Device {
            session_id: login.session_id,
            authorization: format!("Bearer {}", token.access_token)
                .parse()
                .context("access token is not ASCII")?,
            vault: VaultClient::new(channel).max_decoding_message_size(16 << 20),
            records: std::sync::Mutex::default(),
            cursor: AtomicU64::new(0),
            tracker: tracker.clone(),
        });
        let stream = watch::subscribe(
            &mut device.vault.clone(),
            device.request(v1::WatchRequest {}),
        )
        .await
        .with_context(|| format!("opening Watch for {username} device {index}"))?;
        live.fetch_add(1, Ordering::Relaxed);
        readers.push(tokio::spawn(watch::read(
            stream,
            device.session_id.clone(),
            tracker.clone(),
            stats.clone(),
            live.clone(),
        )));
        signed_in.push(device);
    }
    Ok((signed_in, tracker, readers))
}

async fn report_setup(users: usize, done: Arc<AtomicUsize>) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        eprintln!(
            "[setup {:>4.0}s] users signed in {}/{users}",
            started.elapsed().as_secs_f64(),
            done.load(Ordering::Relaxed)
        );
    }
}

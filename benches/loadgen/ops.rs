//! The five operations a device performs, each timed as one gRPC call.
//!
//! Commands are sent with `wait_for_outcome`, so their latency is the whole
//! "submit → applied → acknowledged" round trip. Anything but "applied" is
//! an error of the operation, named by its gRPC code or by the outcome.

use std::time::Instant;

use anyhow::Context as _;
use gophkeeper_proto::v1;
use rand::Rng as _;
use rand::seq::SliceRandom as _;
use tonic::Status;

use crate::args::Op;
use crate::population::Device;
use crate::stats::{Series, Stats};

/// Records a `GetRecords` asks for at most.
const GET_BATCH: usize = 5;

/// Runs `op` on `device` and records the result. Update and delete need a
/// record of the device's own; without one they create instead, and are
/// counted as the create they were.
pub async fn run(op: Op, device: &Device, record_bytes: usize, stats: &Stats) {
    let op = match op {
        Op::Update | Op::Delete if device_records(device) == 0 => Op::Create,
        other => other,
    };
    let started = Instant::now();
    let result = match op {
        Op::Changes => changes(device).await,
        Op::Get => get(device).await,
        Op::Create => create(device, record_bytes, started, stats).await,
        Op::Update => update(device, record_bytes, started, stats).await,
        Op::Delete => delete(device, started, stats).await,
    };
    match result {
        Ok(()) => stats.ok(Series::Op(op), started.elapsed()),
        Err(kind) => stats.error(Series::Op(op), kind),
    }
}

/// Creates `count` records for a device during set-up (not measured).
pub async fn seed(device: &Device, count: usize, record_bytes: usize) -> anyhow::Result<()> {
    for _ in 0..count {
        let record_id = uuid::Uuid::new_v4().to_string();
        let op = v1::command::Op::Create(v1::CreateRecord {
            record_id: record_id.clone(),
            kind: v1::RecordKind::Login as i32,
            ciphertext: ciphertext(record_bytes),
        });
        let revision = submit(device, op)
            .await
            .map_err(|e| anyhow::anyhow!(e))
            .context("creating a seed record")?;
        lock(device).push((record_id, revision));
    }
    Ok(())
}

fn lock(device: &Device) -> std::sync::MutexGuard<'_, Vec<(String, u64)>> {
    device
        .records
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn device_records(device: &Device) -> usize {
    lock(device).len()
}

/// Takes a random record of the device out of its set while it is changed.
fn take_record(device: &Device) -> Option<(String, u64)> {
    let mut records = lock(device);
    if records.is_empty() {
        return None;
    }
    let index = rand::thread_rng().gen_range(0..records.len());
    Some(records.swap_remove(index))
}

/// Random bytes: real ciphertext does not compress either. The first byte
/// says record format 1, whose envelope the server does not look into (a
/// random 2 would be a format 2 header, which it checks).
fn ciphertext(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    rand::thread_rng().fill(bytes.as_mut_slice());
    if let Some(format) = bytes.first_mut() {
        *format = 1;
    }
    bytes
}

fn code(status: &Status) -> String {
    format!("grpc: {:?}", status.code())
}

/// Delta sync: everything after the device's cursor (one page).
async fn changes(device: &Device) -> Result<(), String> {
    let since = device.cursor.load(std::sync::atomic::Ordering::Relaxed);
    let page = device
        .vault
        .clone()
        .changes(device.request(v1::ChangesRequest {
            since_revision: since,
            page_size: 0,
            min_revision: 0,
        }))
        .await
        .map_err(|s| code(&s))?
        .into_inner();
    device.cursor.fetch_max(
        page.next_since_revision,
        std::sync::atomic::Ordering::Relaxed,
    );
    Ok(())
}

/// A few of the device's records by id (an unknown id when it has none).
async fn get(device: &Device) -> Result<(), String> {
    let record_ids: Vec<String> = {
        let records = lock(device);
        let mut rng = rand::thread_rng();
        let wanted = rng.gen_range(1..=GET_BATCH);
        let picked: Vec<String> = records
            .choose_multiple(&mut rng, wanted)
            .map(|(id, _)| id.clone())
            .collect();
        if picked.is_empty() {
            vec![uuid::Uuid::new_v4().to_string()]
        } else {
            picked
        }
    };
    device
        .vault
        .clone()
        .get_records(device.request(v1::GetRecordsRequest {
            record_ids,
            min_revision: 0,
        }))
        .await
        .map_err(|s| code(&s))?;
    Ok(())
}

async fn create(
    device: &Device,
    record_bytes: usize,
    started: Instant,
    stats: &Stats,
) -> Result<(), String> {
    let record_id = uuid::Uuid::new_v4().to_string();
    let op = v1::command::Op::Create(v1::CreateRecord {
        record_id: record_id.clone(),
        kind: v1::RecordKind::Login as i32,
        ciphertext: ciphertext(record_bytes),
    });
    let revision = submit(device, op).await?;
    device.tracker.sent(&record_id, revision, started, stats);
    lock(device).push((record_id, revision));
    Ok(())
}

async fn update(
    device: &Device,
    record_bytes: usize,
    started: Instant,
    stats: &Stats,
) -> Result<(), String> {
    let Some((record_id, base_revision)) = take_record(device) else {
        return Err("no record to update".into());
    };
    let op = v1::command::Op::Update(v1::UpdateRecord {
        record_id: record_id.clone(),
        base_revision,
        ciphertext: ciphertext(record_bytes),
    });
    // On failure the record's revision is unknown: it leaves the set.
    let revision = submit(device, op).await?;
    device.tracker.sent(&record_id, revision, started, stats);
    lock(device).push((record_id, revision));
    Ok(())
}

async fn delete(device: &Device, started: Instant, stats: &Stats) -> Result<(), String> {
    let Some((record_id, base_revision)) = take_record(device) else {
        return Err("no record to delete".into());
    };
    let op = v1::command::Op::Delete(v1::DeleteRecord {
        record_id: record_id.clone(),
        base_revision,
        tombstone: Vec::new(),
    });
    let revision = submit(device, op).await?;
    device.tracker.sent(&record_id, revision, started, stats);
    Ok(())
}

/// Submits a command, waits for its outcome, and returns the revision it
/// was applied at.
async fn submit(device: &Device, op: v1::command::Op) -> Result<u64, String> {
    let response = device
        .vault
        .clone()
        .submit(device.request(v1::SubmitRequest {
            command: Some(v1::Command {
                command_id: uuid::Uuid::new_v4().to_string(),
                op: Some(op),
            }),
            wait_for_outcome: true,
        }))
        .await
        .map_err(|s| code(&s))?
        .into_inner();
    match response.outcome.and_then(|o| o.result) {
        Some(v1::command_outcome::Result::Applied(applied)) => Ok(applied.revision),
        Some(v1::command_outcome::Result::Conflict(_)) => Err("outcome: conflict".into()),
        Some(v1::command_outcome::Result::Rejected(rejected)) => {
            Err(format!("outcome: rejected ({:?})", rejected.reason()))
        }
        None => Err("outcome: none within the server's wait".into()),
    }
}

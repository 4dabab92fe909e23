//! The measured phase: an open-loop schedule at `--rate`, a random device
//! and a random operation from the mix for each slot, and a progress line
//! every second.
//!
//! Open loop means an operation starts when it is due, whether or not
//! earlier ones have finished, so a slow server shows up as latency (and,
//! past `--max-in-flight`, as skips) instead of quietly lowering the rate
//! the way a closed loop of N waiting clients would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::Rng as _;
use rand::SeedableRng as _;
use rand::rngs::StdRng;

use crate::args::Args;
use crate::ops;
use crate::population::Population;
use crate::rss::RssSource;
use crate::stats::Stats;

/// How long to wait for operations still running when time is up.
const DRAIN: Duration = Duration::from_secs(30);
/// How long `Watch` events may trail the last command.
const WATCH_GRACE: Duration = Duration::from_secs(2);

/// What the phase measured besides the per-operation samples.
#[derive(Debug, Default)]
pub struct Phase {
    pub seconds: f64,
    pub issued: u64,
    pub rss_max_mib: Option<f64>,
    pub unfinished: usize,
}

pub async fn run(
    args: &Args,
    population: &Population,
    stats: &Arc<Stats>,
    rss: &RssSource,
) -> Phase {
    for tracker in &population.trackers {
        tracker.activate();
    }
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut rss_max = rss.sample_mib();
    let mut rng = StdRng::from_entropy();
    let duration = Duration::from_secs_f64(args.duration.max(0.0));
    let started = Instant::now();
    let mut next_progress = started + Duration::from_secs(1);
    let mut last_completed = 0;
    let mut issued = 0u64;
    loop {
        let now = Instant::now();
        let elapsed = now.duration_since(started);
        if elapsed >= duration {
            break;
        }
        let due = (elapsed.as_secs_f64() * args.rate) as u64;
        while issued < due {
            issued += 1;
            if in_flight.load(Ordering::Relaxed) >= args.max_in_flight {
                stats.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let device = population.devices[rng.gen_range(0..population.devices.len())].clone();
            let op = args.mix.pick(rng.gen_range(0..args.mix.total()));
            let (stats, in_flight, bytes) = (stats.clone(), in_flight.clone(), args.record_bytes);
            in_flight.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                ops::run(op, &device, bytes, &stats).await;
                in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
        if now >= next_progress {
            next_progress += Duration::from_secs(1);
            let sample = rss.sample_mib();
            rss_max = max(rss_max, sample);
            let completed = stats.completed.load(Ordering::Relaxed);
            eprintln!(
                "[{:>5.1}s] done {completed} ({}/s)  errors {}  skipped {}  in flight {}  \
                 watches {}/{}  rss {}",
                elapsed.as_secs_f64(),
                completed - last_completed,
                stats.failed.load(Ordering::Relaxed),
                stats.skipped.load(Ordering::Relaxed),
                in_flight.load(Ordering::Relaxed),
                population.watches_live.load(Ordering::Relaxed),
                population.devices.len(),
                sample.map_or_else(|| "n/a".into(), |mib| format!("{mib:.0} MiB")),
            );
            last_completed = completed;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let drain_until = Instant::now() + DRAIN;
    while in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let watch_until = Instant::now() + WATCH_GRACE;
    while population.trackers.iter().any(|t| t.missing() > 0) && Instant::now() < watch_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Phase {
        seconds,
        issued,
        rss_max_mib: max(rss_max, rss.sample_mib()),
        unfinished: in_flight.load(Ordering::Relaxed),
    }
}

fn max(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

//! Latency samples and error counts, shared by every task of a run.
//!
//! Samples are kept whole (microseconds, 4 bytes each) and sorted once at the
//! end, so percentiles are exact: a million operations cost 4 MB. No
//! histogram crate is needed for runs of this size.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::args::Op;

/// What is measured besides the five operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Series {
    Op(Op),
    /// A command on one device until its `Watch` event reaches another
    /// device of the same user (one sample per receiving device).
    WatchDelivery,
}

#[derive(Debug, Default)]
struct Samples {
    micros: Vec<u32>,
    errors: BTreeMap<String, u64>,
}

/// Thread-safe sink for every result of a run.
#[derive(Debug, Default)]
pub struct Stats {
    series: Mutex<BTreeMap<Series, Samples>>,
    /// Errors that belong to no operation (a `Watch` stream that ended).
    other_errors: Mutex<BTreeMap<String, u64>>,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    /// Operations that were due while `--max-in-flight` were still running.
    pub skipped: AtomicU64,
}

impl Stats {
    pub fn ok(&self, series: Series, latency: Duration) {
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        self.lock().entry(series).or_default().micros.push(micros);
        if matches!(series, Series::Op(_)) {
            self.completed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn error(&self, series: Series, kind: String) {
        *self
            .lock()
            .entry(series)
            .or_default()
            .errors
            .entry(kind)
            .or_default() += 1;
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn other_error(&self, kind: String) {
        let mut errors = self
            .other_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *errors.entry(kind).or_default() += 1;
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Series, Samples>> {
        // A panicking recorder must not hide every other result.
        self.series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Summary of one series, or of several merged (the command round trip
    /// is create, update and delete together).
    pub fn summary(&self, series: &[Series], seconds: f64) -> SeriesSummary {
        let map = self.lock();
        let mut micros = Vec::new();
        let mut errors = BTreeMap::new();
        for samples in series.iter().filter_map(|s| map.get(s)) {
            micros.extend_from_slice(&samples.micros);
            for (kind, count) in &samples.errors {
                *errors.entry(kind.clone()).or_default() += count;
            }
        }
        micros.sort_unstable();
        SeriesSummary {
            ok: micros.len() as u64,
            errors,
            per_second: if seconds > 0.0 {
                micros.len() as f64 / seconds
            } else {
                0.0
            },
            latency_ms: Latency::of_sorted(&micros),
        }
    }

    pub fn other_errors(&self) -> BTreeMap<String, u64> {
        self.other_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesSummary {
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub per_second: f64,
    pub latency_ms: Option<Latency>,
}

/// Percentiles by the nearest-rank method, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    fn of_sorted(micros: &[u32]) -> Option<Self> {
        let last = *micros.last()?;
        let rank = |p: f64| {
            let index = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len()) - 1;
            f64::from(micros[index]) / 1000.0
        };
        let sum: u64 = micros.iter().map(|&m| u64::from(m)).sum();
        Some(Self {
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            max: f64::from(last) / 1000.0,
            mean: sum as f64 / micros.len() as f64 / 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let micros: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        let latency = Latency::of_sorted(&micros).unwrap();
        assert_eq!(
            (latency.p50, latency.p95, latency.p99, latency.max),
            (50.0, 95.0, 99.0, 100.0)
        );
        assert!(Latency::of_sorted(&[]).is_none());
        assert_eq!(Latency::of_sorted(&[7000]).unwrap().p99, 7.0);
    }
}

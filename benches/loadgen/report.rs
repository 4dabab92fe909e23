//! The results: a table on stdout and, with `--json`, the same as JSON.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use anyhow::Context as _;
use serde::Serialize;

use crate::args::{Args, Op};
use crate::load::Phase;
use crate::population::Population;
use crate::stats::{Series, SeriesSummary, Stats};

#[derive(Debug, Serialize)]
pub struct Report {
    pub started_unix_s: u64,
    pub config: Config,
    pub setup_s: f64,
    pub measured_s: f64,
    pub issued: u64,
    pub skipped: u64,
    /// Operations still running when the drain timeout ended the run.
    pub unfinished: usize,
    pub operations: BTreeMap<&'static str, SeriesSummary>,
    /// Create, update and delete together: Submit with wait, i.e.
    /// submit → applied → acknowledged.
    pub command_round_trip: SeriesSummary,
    pub watch_delivery: WatchDelivery,
    pub watches: Watches,
    /// Errors outside the operations (a Watch stream that ended, a resync).
    pub other_errors: BTreeMap<String, u64>,
    pub total_errors: u64,
    pub server_rss: Rss,
}

#[derive(Debug, Serialize)]
pub struct Config {
    pub target: String,
    pub users: usize,
    pub devices_per_user: usize,
    pub devices: usize,
    pub connections: usize,
    pub rate: f64,
    pub duration_s: f64,
    pub mix: String,
    pub record_bytes: usize,
    pub seed_records: usize,
    pub server_threads: Option<usize>,
    pub client_threads: usize,
    pub fast_auth_hash: bool,
}

#[derive(Debug, Serialize)]
pub struct WatchDelivery {
    #[serde(flatten)]
    pub summary: SeriesSummary,
    /// Events applied commands should have produced that no device got.
    pub missing: u64,
}

#[derive(Debug, Serialize)]
pub struct Watches {
    pub opened: usize,
    pub live_at_end: usize,
}

#[derive(Debug, Serialize)]
pub struct Rss {
    pub source: String,
    pub after_setup_mib: Option<f64>,
    pub max_mib: Option<f64>,
}

#[derive(Debug)]
pub struct Inputs<'a> {
    pub args: &'a Args,
    pub target: String,
    pub started_unix_s: u64,
    pub population: &'a Population,
    pub phase: &'a Phase,
    pub stats: &'a Stats,
    pub rss_source: String,
    pub rss_after_setup: Option<f64>,
}

impl Report {
    pub fn new(inputs: Inputs<'_>) -> Self {
        let Inputs {
            args,
            stats,
            phase,
            population,
            ..
        } = inputs;
        let seconds = phase.seconds;
        let operations: BTreeMap<_, _> = Op::ALL
            .into_iter()
            .map(|op| (op.name(), stats.summary(&[Series::Op(op)], seconds)))
            .collect();
        let commands = [Op::Create, Op::Update, Op::Delete].map(Series::Op);
        let other_errors = stats.other_errors();
        let op_errors: u64 = operations.values().flat_map(|s| s.errors.values()).sum();
        let missing = population.trackers.iter().map(|t| t.missing()).sum();
        Self {
            started_unix_s: inputs.started_unix_s,
            config: Config {
                target: inputs.target,
                users: args.users,
                devices_per_user: args.devices_per_user,
                devices: args.devices(),
                connections: args.connections(),
                rate: args.rate,
                duration_s: args.duration,
                mix: args.mix.to_string(),
                record_bytes: args.record_bytes,
                seed_records: args.seed_records,
                server_threads: args.in_process.then_some(args.server_threads),
                client_threads: args.client_threads,
                fast_auth_hash: args.fast_auth_hash,
            },
            setup_s: population.setup.as_secs_f64(),
            measured_s: seconds,
            operations,
            issued: phase.issued,
            skipped: stats.skipped.load(Ordering::Relaxed),
            unfinished: phase.unfinished,
            command_round_trip: stats.summary(&commands, seconds),
            watch_delivery: WatchDelivery {
                summary: stats.summary(&[Series::WatchDelivery], seconds),
                missing,
            },
            watches: Watches {
                opened: population.devices.len(),
                live_at_end: population.watches_live.load(Ordering::Relaxed),
            },
            total_errors: op_errors + other_errors.values().sum::<u64>(),
            other_errors,
            server_rss: Rss {
                source: inputs.rss_source,
                after_setup_mib: inputs.rss_after_setup,
                max_mib: phase.rss_max_mib,
            },
        }
    }

    pub fn write_json(&self, path: &std::path::Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self).context("encoding the report")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    pub fn print_table(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let c = &self.config;
        writeln!(
            out,
            "target {} | {} users x {} devices = {} sessions with Watch over {} connections",
            c.target, c.users, c.devices_per_user, c.devices, c.connections
        )?;
        writeln!(
            out,
            "rate {}/s for {:.1}s, mix {}, {} B records | set-up {:.1}s | issued {} skipped {} unfinished {}",
            c.rate,
            self.measured_s,
            c.mix,
            c.record_bytes,
            self.setup_s,
            self.issued,
            self.skipped,
            self.unfinished
        )?;
        writeln!(
            out,
            "\n{:<34} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "series", "ok", "errors", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms"
        )?;
        for (name, summary) in &self.operations {
            row(out, name, summary)?;
        }
        row(
            out,
            "command submit->applied->ack",
            &self.command_round_trip,
        )?;
        row(
            out,
            "watch: command -> other device",
            &self.watch_delivery.summary,
        )?;
        writeln!(
            out,
            "\nwatch streams: {} opened, {} live at the end; {} events missing",
            self.watches.opened, self.watches.live_at_end, self.watch_delivery.missing
        )?;
        let mib = |v: Option<f64>| v.map_or_else(|| "n/a".into(), |m| format!("{m:.1} MiB"));
        writeln!(
            out,
            "server RSS ({}): after set-up {}, max {}",
            self.server_rss.source,
            mib(self.server_rss.after_setup_mib),
            mib(self.server_rss.max_mib)
        )?;
        writeln!(out, "errors: {}", self.total_errors)?;
        let all = self
            .operations
            .iter()
            .flat_map(|(op, s)| {
                s.errors
                    .iter()
                    .map(move |(k, n)| (format!("{op}: {k}"), *n))
            })
            .chain(self.other_errors.iter().map(|(k, n)| (k.clone(), *n)));
        for (kind, count) in all {
            writeln!(out, "  {count:>8}  {kind}")?;
        }
        out.flush()
    }
}

fn row(out: &mut impl std::io::Write, name: &str, s: &SeriesSummary) -> std::io::Result<()> {
    let errors: u64 = s.errors.values().sum();
    let ms = |f: fn(&crate::stats::Latency) -> f64| {
        s.latency_ms
            .as_ref()
            .map_or_else(|| "-".into(), |l| format!("{:.2}", f(l)))
    };
    writeln!(
        out,
        "{name:<34} {:>8} {errors:>7} {:>9.1} {:>9} {:>9} {:>9} {:>9}",
        s.ok,
        s.per_second,
        ms(|l| l.p50),
        ms(|l| l.p95),
        ms(|l| l.p99),
        ms(|l| l.max),
    )
}

//! `gophkeeper-loadgen`: load for a GophKeeper gateway from many simulated
//! users and devices, with per-operation latency, command round trip,
//! `Watch` delivery time and server memory. See BENCHMARKS.md.
//!
//! - `args`: the command line and the operation mix
//! - `target`: the in-process server or an external one; shared connections
//! - `population`: registration, sessions, `Watch` streams, seed records
//! - `ops`: the five timed operations
//! - `watch`: stream readers and command-to-event matching
//! - `load`: the open-loop schedule and the progress line
//! - `stats`, `report`, `rss`: samples, output, memory

mod args;
mod load;
mod ops;
mod population;
mod report;
mod rss;
mod stats;
mod target;
mod watch;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use clap::Parser as _;

use crate::args::Args;
use crate::report::{Inputs, Report};
use crate::rss::RssSource;
use crate::stats::Stats;
use crate::target::InProcess;

fn main() -> std::process::ExitCode {
    match real_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gophkeeper-loadgen: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let server = if args.in_process {
        Some(InProcess::start(&args)?)
    } else {
        None
    };
    let (url, ca, rss) = match &server {
        Some(server) => (server.url(), server.ca()?, RssSource::OwnProcess),
        None => (
            args.server
                .clone()
                .context("--server or --in-process is required")?,
            args.ca.clone().context("--ca is required with --server")?,
            args.server_pid
                .map_or(RssSource::Unknown, RssSource::External),
        ),
    };
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name("loadgen")
        .enable_all()
        .build()
        .context("building the load generator runtime")?;
    let report = client.block_on(async {
        let connections =
            target::connect(&url, &ca, &args.tls_name, args.connections(), rss).await?;
        let stats = Arc::new(Stats::default());
        eprintln!(
            "signing in {} users x {} devices over {} connections to {url}",
            args.users,
            args.devices_per_user,
            connections.channels.len()
        );
        let population = population::build(&args, &connections.channels, &stats).await?;
        let rss_after_setup = connections.rss.sample_mib();
        eprintln!(
            "set-up took {:.1}s; {} Watch streams live; load for {}s at {}/s",
            population.setup.as_secs_f64(),
            population
                .watches_live
                .load(std::sync::atomic::Ordering::Relaxed),
            args.duration,
            args.rate
        );
        let phase = load::run(&args, &population, &stats, &connections.rss).await;
        let report = Report::new(Inputs {
            args: &args,
            target: if args.in_process {
                format!("in-process single node ({url})")
            } else {
                url.clone()
            },
            started_unix_s,
            population: &population,
            phase: &phase,
            stats: &stats,
            rss_source: connections.rss.describe(),
            rss_after_setup,
        });
        for reader in &population.watch_readers {
            reader.abort();
        }
        anyhow::Ok(report)
    })?;
    drop(client);
    report
        .print_table(&mut std::io::stdout().lock())
        .context("writing the table")?;
    if let Some(path) = &args.json {
        report.write_json(path)?;
    }
    if let Some(server) = server {
        server.stop().context("stopping the in-process server")?;
    }
    Ok(())
}

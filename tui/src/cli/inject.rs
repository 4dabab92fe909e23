//! `gophkeeper inject -i TEMPLATE [-o FILE] [--force]`: a configuration
//! file with `{{ gk://ITEM/FIELD }}` in place of each secret, filled in.
//! Everything is resolved first: a missing item or field writes nothing.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::references::resolve;
use super::{Done, Globals};
use crate::output::{write_private, write_stdout};
use crate::reference::{Reference, fill, in_template};

#[derive(Debug, Args)]
pub struct Inject {
    /// The template (`-` for standard input)
    #[arg(short = 'i', long = "in-file", value_name = "TEMPLATE")]
    input: PathBuf,
    /// Write here (mode 0600 on Unix) instead of standard output
    #[arg(short = 'o', long = "out-file", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace FILE if it exists
    #[arg(long, requires = "output")]
    force: bool,
}

pub async fn run(globals: &Globals, args: Inject) -> anyhow::Result<Done> {
    let template = if args.input.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the template from standard input")?;
        text
    } else {
        std::fs::read_to_string(&args.input)
            .with_context(|| format!("cannot read the template {}", args.input.display()))?
    };
    // Checked before unlocking, so a refusal costs no password prompt; the
    // write itself refuses atomically too.
    if let Some(out) = &args.output
        && !args.force
        && out.exists()
    {
        anyhow::bail!("{} exists; use --force to replace it", out.display());
    }
    let found = in_template(&template)?;
    let wanted: BTreeSet<Reference> = found.iter().map(|(_, r)| r.clone()).collect();
    let values = resolve(globals, &wanted).await?;
    let spans: Vec<_> = found
        .iter()
        .map(|(range, reference)| (range.clone(), values[reference].as_str()))
        .collect();
    let filled = fill(&template, &spans);
    match &args.output {
        Some(path) => {
            write_private(path, filled.as_bytes(), args.force)?;
            eprintln!(
                "wrote {} with {} secret(s) to {}",
                args.input.display(),
                found.len(),
                path.display()
            );
        }
        None => write_stdout(filled.as_bytes())?,
    }
    Ok(Done::Success)
}

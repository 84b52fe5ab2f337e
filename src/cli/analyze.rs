//! `funnel analyze`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::Exit;
use funnel::pipeline::{Options, analyze};

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// The incident archive folder (incident.toml, metrics/, optional logs/ and events/).
    incident_dir: PathBuf,
    /// Where to write postmortem.md, verdict.json and charts/.
    #[arg(long, short)]
    out: PathBuf,
    /// Grid step (15s, 1m, ...); default: the archive's median sampling interval.
    #[arg(long, value_parser = super::parse_duration)]
    step: Option<i64>,
    /// Refuse an archive estimated to need more memory than this (512M, 4G, ...); default:
    /// half the machine's RAM.
    #[arg(long, value_parser = funnel::archive::budget::parse_size)]
    max_memory: Option<u64>,
    /// A `funnel mine` output: adds "Seen before", the earlier incidents with the same root
    /// cause or configuration finding, linked to their reports when mined with --reports.
    #[arg(long, value_name = "MINED")]
    history: Option<PathBuf>,
}

impl AnalyzeArgs {
    /// Whether the user set `--max-memory`.
    pub(crate) fn bounds_memory(&self) -> bool {
        self.max_memory.is_some()
    }
}

pub(crate) fn run(a: &AnalyzeArgs) -> anyhow::Result<Exit> {
    let history = a
        .history
        .as_deref()
        .map(funnel::report::history::History::load)
        .transpose()
        .context("reading --history (a `funnel mine` output folder)")?;
    let an = analyze(
        &a.incident_dir,
        &Options {
            step_ms: a.step,
            max_memory: a
                .max_memory
                .or_else(|| funnel::archive::budget::default_limit(1)),
        },
    )?;
    funnel::report::write_with(&an, &a.out, history.as_ref())
        .with_context(|| format!("writing the report to {}", a.out.display()))?;
    let v = &an.verdict;
    match &v.root_cause {
        Some(rc) => say!(
            "root cause: {} {} (confidence {:.2})",
            rc.kind,
            rc.culprit,
            rc.confidence
        )?,
        None => say!(
            "root cause: not determined ({} hypotheses survive)",
            v.ranking.len()
        )?,
    }
    if let Some(t) = &v.trigger {
        say!("trigger:    {} {}", t.kind, t.culprit)?;
    }
    say!("wrote {}", a.out.join("postmortem.md").display())?;
    Ok(Exit::Ok)
}

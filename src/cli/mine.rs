//! `funnel mine`: every archive under a root → incidents.parquet, hypotheses.parquet, trends.md.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::Exit;
use funnel::mine::{self, Shard};

#[derive(Debug, Args)]
pub(crate) struct MineArgs {
    /// Folder searched, at any depth, for incident archives (folders holding an incident.toml).
    root: PathBuf,
    /// Output folder: incidents.parquet, hypotheses.parquet, trends.md, charts/.
    #[arg(long, short)]
    out: PathBuf,
    /// Also write each incident's postmortem into OUT/reports/<id>/.
    #[arg(long)]
    reports: bool,
    /// Mine only share K of N (K is 1-based: 1/4 … 4/4). Incidents are assigned by a stable
    /// hash of their id, so N workers given 1/N … N/N cover every incident exactly once;
    /// combine their outputs with `funnel merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Analyses in flight at once; memory grows with this, not with the number of incidents.
    /// Default: twice the number of CPUs (part of each analysis waits on reads).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Grid step for every analysis (15s, 1m, ...); default: each archive's sampling interval.
    #[arg(long, value_parser = super::parse_duration)]
    step: Option<i64>,
}

pub(crate) fn run(a: &MineArgs) -> anyhow::Result<Exit> {
    let found = mine::select(&a.root, a.shard)
        .with_context(|| format!("looking for incident archives under {}", a.root.display()))?;
    let shard = a.shard.map(|s| format!(" (shard {s})")).unwrap_or_default();
    if found.is_empty() {
        eprintln!(
            "no incident archives under {}{shard}; writing empty tables",
            a.root.display()
        );
    }
    let opts = mine::Options {
        analysis: funnel::pipeline::Options { step_ms: a.step },
        shard: a.shard,
        workers: a.jobs.unwrap_or_else(mine::run::default_workers),
        reports: a.reports.then(|| a.out.join("reports")),
    };
    let pb = super::progress(found.len() as u64, "mining");
    let rows = mine::mine(&found, &opts, || pb.inc(1));
    pb.finish_and_clear();
    mine::write(&rows, &a.out)
        .with_context(|| format!("writing the mined tables to {}", a.out.display()))?;
    report(
        &rows,
        &format!("mined {} incidents{shard}", rows.incidents.len()),
        &a.out,
    );
    Ok(if rows.failures() > 0 {
        Exit::Failures
    } else {
        Exit::Ok
    })
}

/// The closing summary on stderr, shared with `merge`.
pub(crate) fn report(rows: &mine::Rows, what: &str, out: &std::path::Path) {
    let failed: Vec<&mine::IncidentRow> = rows.incidents.iter().filter(|r| r.failed()).collect();
    for r in failed.iter().take(10) {
        eprintln!(
            "failed: {} ({}): {}",
            r.id,
            r.path,
            r.error.as_deref().unwrap_or("")
        );
    }
    if failed.len() > 10 {
        eprintln!(
            "… and {} more failures (see the error column of incidents.parquet)",
            failed.len() - 10
        );
    }
    eprintln!(
        "{what}, {} failed; wrote {}",
        failed.len(),
        out.join("trends.md").display()
    );
}

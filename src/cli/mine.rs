//! `funnel mine`: every archive under a root → incidents.parquet, hypotheses.parquet, trends.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

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
    /// Refuse (as an error row) an archive estimated to need more memory than this per
    /// analysis (512M, 4G, ...); default: half the machine's RAM shared by the --jobs.
    #[arg(long, value_parser = funnel::archive::budget::parse_size)]
    max_memory: Option<u64>,
}

pub(crate) fn run(a: &MineArgs) -> anyhow::Result<Exit> {
    let found = mine::select(&a.root, a.shard)
        .with_context(|| format!("looking for incident archives under {}", a.root.display()))?;
    let shard = a.shard.map(|s| format!(" (shard {s})")).unwrap_or_default();
    if found.is_empty() {
        say!(
            "no incident archives under {}{shard}; writing empty tables",
            a.root.display()
        )?;
    }
    let workers = a.jobs.unwrap_or_else(mine::run::default_workers);
    let opts = mine::Options {
        analysis: funnel::pipeline::Options {
            step_ms: a.step,
            max_memory: a
                .max_memory
                .or_else(|| funnel::archive::budget::default_limit(workers)),
        },
        shard: a.shard,
        workers,
        reports: a.reports.then(|| a.out.join("reports")),
    };
    let out_err = || format!("writing the mined tables to {}", a.out.display());
    // Refused before any work: the whole folder is replaced at the end.
    funnel::output::check_owned(&a.out, &mine::ENTRIES).with_context(out_err)?;
    let journal = mine::Journal::open(&a.out, &settings(a)).with_context(out_err)?;
    let fresh: Vec<&mine::Found> = found.iter().filter(|f| !journal.has(f)).collect();
    let resumed = found.len() - fresh.len();
    if resumed > 0 {
        say!(
            "resuming: {resumed} of {} incidents already mined (journal {})",
            found.len(),
            journal.dir().display()
        )?;
    }
    let stop = interrupt_flag().context("installing the SIGINT/SIGTERM handler")?;
    let pb = super::progress(found.len() as u64, "mining");
    pb.inc(resumed as u64);
    let started = std::time::Instant::now();
    let mined = mine::mine_journaled(&found, &opts, &journal, &stop, || pb.inc(1))
        .context("recording mined incidents in the journal")?;
    pb.finish_and_clear();
    let rows = match mined {
        mine::Journaled::Done(rows) => {
            throughput(&fresh, started.elapsed())?;
            rows
        }
        mine::Journaled::Interrupted { recorded, total } => {
            say!(
                "interrupted: {recorded} of {total} incidents are recorded in {}; run the same \
                 command again to mine the rest",
                journal.dir().display()
            )?;
            return Ok(Exit::Interrupted);
        }
    };
    let reports = journal.reports();
    mine::publish(&rows, &a.out, |dir| {
        if a.reports && reports.is_dir() {
            let to = dir.join("reports");
            std::fs::rename(&reports, &to).map_err(|e| mine::Error::Io { path: to, err: e })?;
        }
        Ok(())
    })
    .with_context(out_err)?;
    journal.finish().with_context(out_err)?;
    report(
        &rows,
        &format!("mined {} incidents{shard}", rows.incidents.len()),
        &a.out,
    )?;
    Ok(if rows.failures() > 0 {
        Exit::Failures
    } else {
        Exit::Ok
    })
}

/// Incidents and archive rows per second over the incidents this run analysed (rows as the
/// Parquet footers claim them, all tables), so a mining job says how fast it went.
fn throughput(analysed: &[&mine::Found], took: std::time::Duration) -> std::io::Result<()> {
    let secs = took.as_secs_f64();
    if analysed.is_empty() || secs <= 0.0 {
        return Ok(());
    }
    let rows: u64 = analysed
        .iter()
        .filter_map(|f| funnel::archive::budget::footprint(&f.dir).ok())
        .map(|fp| fp.rows)
        .sum();
    let n = analysed.len() as f64;
    say!(
        "analysed {} incidents in {secs:.1} s: {:.1} incidents/s, {rows} archive rows, {:.2} M rows/s",
        analysed.len(),
        n / secs,
        rows as f64 / secs / 1e6
    )
}

/// What the output depends on: a journal written under other settings is not resumed.
fn settings(a: &MineArgs) -> String {
    let root = std::fs::canonicalize(&a.root).unwrap_or_else(|_| a.root.clone());
    format!(
        "funnel {}\nroot {}\nshard {:?}\nstep {:?}\nreports {}\nmax-memory {:?}\n",
        mine::rows::VERSION,
        root.display(),
        a.shard.map(|s| s.to_string()),
        a.step,
        a.reports,
        a.max_memory
    )
}

/// Set on the first SIGINT or SIGTERM: no new analysis starts, those in flight are recorded.
/// A second signal ends the process at once (exit 130), the journal still consistent.
fn interrupt_flag() -> std::io::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as it was before this signal set it.
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))?;
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    Ok(stop)
}

/// The closing summary on stderr, shared with `merge`.
pub(crate) fn report(rows: &mine::Rows, what: &str, out: &std::path::Path) -> std::io::Result<()> {
    let failed: Vec<&mine::IncidentRow> = rows.incidents.iter().filter(|r| r.failed()).collect();
    for r in failed.iter().take(10) {
        say!(
            "failed: {} ({}): {}",
            r.id,
            r.path,
            r.error.as_deref().unwrap_or("")
        )?;
    }
    if failed.len() > 10 {
        say!(
            "… and {} more failures (see the error column of incidents.parquet)",
            failed.len() - 10
        )?;
    }
    say!(
        "{what}, {} failed; wrote {}",
        failed.len(),
        out.join("trends.md").display()
    )
}

//! `funnel check`: every archive with an `[expected]` table, verdict against expectation.
//! Exit 0 when all match, 1 on any mismatch, 2 when an archive cannot be analysed.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;

use super::Exit;
use funnel::mine::{self, check::Outcome};

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Folder searched, at any depth, for incident archives; those without [expected] are
    /// skipped.
    root: PathBuf,
    /// Also write JUnit XML (one test case per checked incident) for CI systems to display.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Analyses in flight at once. Default: twice the number of CPUs.
    #[arg(long, short)]
    jobs: Option<usize>,
}

pub(crate) fn run(a: &CheckArgs) -> anyhow::Result<Exit> {
    let found = mine::select(&a.root, None)
        .with_context(|| format!("looking for incident archives under {}", a.root.display()))?;
    if found.is_empty() {
        bail!(
            "no incident archives under {} (folders holding an incident.toml)",
            a.root.display()
        );
    }
    let opts = mine::Options {
        workers: a.jobs.unwrap_or_else(mine::run::default_workers),
        ..mine::Options::default()
    };
    let pb = super::progress(found.len() as u64, "checking");
    let rows = mine::mine(&found, &opts, || pb.inc(1));
    pb.finish_and_clear();
    let cases: Vec<mine::check::Case> = rows
        .incidents
        .iter()
        .filter_map(mine::check::judge)
        .collect();
    // Before any printing: a closed stdout (`funnel check … | head`) must not cost CI its XML.
    if let Some(path) = &a.junit {
        funnel::output::write_file(path, mine::check::junit(&cases))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let skipped = rows.incidents.len() - cases.len();
    let passed = cases.iter().filter(|c| c.outcome == Outcome::Pass).count();
    let bad: Vec<&mine::check::Case> = cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .collect();
    mismatch_table(&bad)?;
    let failed = bad
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail { .. }))
        .count();
    let errors = bad.len() - failed;
    let mut summary = format!("{passed} passed, {failed} failed");
    if errors > 0 {
        summary.push_str(&format!(", {errors} could not be analysed"));
    }
    if skipped > 0 {
        summary.push_str(&format!(" ({skipped} without [expected] skipped)"));
    }
    out!("{summary}")?;
    if errors > 0 {
        bail!("{errors} archives could not be analysed (input errors; see the table above)");
    }
    if cases.is_empty() {
        bail!(
            "no archive under {} has an [expected] table, so nothing was checked",
            a.root.display()
        );
    }
    Ok(if failed > 0 { Exit::Failures } else { Exit::Ok })
}

/// The mismatches and errors as an aligned table (nothing when there are none).
fn mismatch_table(bad: &[&mine::check::Case]) -> std::io::Result<()> {
    if bad.is_empty() {
        return Ok(());
    }
    let w = bad
        .iter()
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let we = bad
        .iter()
        .map(|c| {
            if let Outcome::Fail { expected, .. } = &c.outcome {
                expected.chars().count()
            } else {
                5
            }
        })
        .max()
        .unwrap_or(8)
        .max(8);
    out!("{:<w$}  {:<we$}  got", "incident", "expected")?;
    for c in bad {
        match &c.outcome {
            Outcome::Fail { expected, got } => out!("{:<w$}  {expected:<we$}  {got}", c.id)?,
            Outcome::Error(e) => out!("{:<w$}  {:<we$}  error: {e}", c.id, "-")?,
            Outcome::Pass => {}
        }
    }
    out!()
}

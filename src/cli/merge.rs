//! `funnel merge`: shard outputs of `funnel mine --shard` → the files one unsharded run writes.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::Exit;
use funnel::mine;

#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// Shard output folders (each written by `funnel mine --shard K/N --out SHARD_DIR`).
    #[arg(required = true, value_name = "SHARD_DIR")]
    shards: Vec<PathBuf>,
    /// Output folder: the same incidents.parquet, hypotheses.parquet, trends.md and charts/
    /// as an unsharded run, plus the shards' reports/ when they wrote any.
    #[arg(long, short)]
    out: PathBuf,
}

pub(crate) fn run(a: &MergeArgs) -> anyhow::Result<Exit> {
    let rows = mine::merge(&a.shards).context("reading the shards")?;
    let mut reports = 0;
    mine::publish(&rows, &a.out, |dir| {
        reports = mine::merge_reports(&a.shards, dir)?;
        Ok(())
    })
    .with_context(|| format!("writing the merged tables to {}", a.out.display()))?;
    let extra = if reports > 0 {
        format!(" and {reports} reports")
    } else {
        String::new()
    };
    super::mine::report(
        &rows,
        &format!(
            "merged {} incidents{extra} from {} shards",
            rows.incidents.len(),
            a.shards.len()
        ),
        &a.out,
    )?;
    Ok(if rows.failures() > 0 {
        Exit::Failures
    } else {
        Exit::Ok
    })
}

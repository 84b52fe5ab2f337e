//! `funnel simulate`.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;

use super::Exit;
use funnel::sim;

#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// Scenario name (see above); omit with --all.
    #[arg(required_unless_present = "all")]
    scenario: Option<String>,
    /// Output folder: the archive itself, or with --all the root of the corpus.
    #[arg(long, short)]
    out: PathBuf,
    /// Random seed: same seed, same archive.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Every scenario, for each seed of --seeds, into OUT/<scenario>-<seed>/.
    #[arg(long, conflicts_with = "scenario")]
    all: bool,
    /// A seed range, inclusive (A..B): with --all (default 1..3) or with a scenario, one
    /// archive per seed into OUT/<scenario>-<seed>/, each with that folder name as its id.
    #[arg(long, value_parser = parse_seeds, conflicts_with = "seed")]
    seeds: Option<(u64, u64)>,
}

fn parse_seeds(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("`{s}` is not a range such as 1..10"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a seed number"))?;
    let b: u64 = b
        .trim_start_matches('=')
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a seed number"))?;
    if b < a {
        return Err(format!("`{s}`: the range is empty"));
    }
    Ok((a, b))
}

fn one(name: &str, seed: u64, out: &std::path::Path, id: Option<String>) -> anyhow::Result<()> {
    let mut data = sim::simulate(name, seed).map_err(anyhow::Error::msg)?;
    if id.is_some() {
        data.spec.id = id;
    }
    funnel::archive::write(&data, out).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

pub(crate) fn run(a: &SimulateArgs) -> anyhow::Result<Exit> {
    if a.all || a.seeds.is_some() {
        let names = match (&a.scenario, a.all) {
            (Some(n), false) => vec![n.as_str()],
            _ => sim::scenario_names(),
        };
        let (first, last) = a.seeds.unwrap_or((1, 3));
        let jobs: Vec<(&str, u64)> = (first..=last)
            .flat_map(|s| names.iter().map(move |n| (*n, s)))
            .collect();
        let pb = super::progress(jobs.len() as u64, "simulating");
        // A bounded number of archives in flight: under a rayon par_iter, a thread waiting
        // inside one simulation steals whole new ones, and 1,000 seeds ran out of memory.
        let results = funnel::mine::run::bounded(
            &jobs,
            funnel::mine::run::default_workers(),
            |(n, s)| {
                one(
                    n,
                    *s,
                    &a.out.join(format!("{n}-{s}")),
                    Some(format!("{n}-{s}")),
                )
            },
            || pb.inc(1),
        );
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        pb.finish_and_clear();
        say!("wrote {} archives under {}", jobs.len(), a.out.display())?;
        return Ok(Exit::Ok);
    }
    let Some(name) = &a.scenario else {
        bail!("a scenario name or --all is needed")
    };
    one(name, a.seed, &a.out, None)?;
    say!("wrote {}", a.out.display())?;
    Ok(Exit::Ok)
}

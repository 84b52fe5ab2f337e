//! The command line: clap types and dispatch. Analysis code never sees clap types; each
//! command turns its arguments into library calls.

/// `writeln!` to stderr, returning the error: a closed stderr ends the command (quietly, as
/// a closed pipe) instead of panicking as `eprintln!` would.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stderr().lock(), $($t)*)
    }};
}

/// `writeln!` to stdout, returning the error (`funnel rules | head -1` ends quietly).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)
    }};
}

mod analyze;
mod attach;
mod check;
mod export;
mod import;
mod logs;
mod merge;
mod mine;
mod simulate;

use clap::{Parser, Subcommand};

/// What the process should exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked.
    Ok,
    /// A check found regressions, or some incidents failed.
    Failures,
    /// Stopped by SIGINT or SIGTERM after saving what was done (`mine`).
    Interrupted,
}

/// funnel: walk the root-cause funnel over an exported incident archive and write the postmortem.
///
/// An archive is a folder with incident.toml and metrics/ (plus optional logs/ and events/) as
/// Parquet; see docs/archive-format.md. funnel scopes the alert, lists a hypothesis for every
/// layer that could cause it, eliminates them with cross-service evidence, and writes
/// postmortem.md, verdict.json and charts/*.svg.
#[derive(Debug, Parser)]
#[command(
    name = "funnel",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse one incident archive and write the postmortem.
    ///
    /// Writes OUT/postmortem.md, OUT/verdict.json and OUT/charts/*.svg, each chart with a .png
    /// twin. The same archive always gives byte-identical outputs, whatever the thread count.
    ///
    /// Example: funnel analyze data/incidents/live-rt-jitter --out reports/live-rt-jitter
    Analyze(analyze::AnalyzeArgs),
    /// Generate a synthetic incident archive with a known root cause.
    ///
    /// Scenarios: live-rt-jitter (the bundled seed incident) and one per root-cause kind:
    /// traffic-spike, cpu-saturation, memory-pressure, code-change, mysql, redis,
    /// storage-failover, ingress, sidecar, pod, node, network, third-party. Each draws a random
    /// cluster from the seed; the expected verdict goes into incident.toml's [expected].
    ///
    /// Examples: funnel simulate redis --seed 7 --out /tmp/redis-7;
    /// funnel simulate --all --seeds 1..10 --out corpus/
    Simulate(simulate::SimulateArgs),
    /// Analyse every incident archive under a folder and mine what recurs.
    ///
    /// Finds every archive (a folder with incident.toml) at any depth, analyses them in
    /// parallel with bounded memory, and writes OUT/incidents.parquet (one row per incident),
    /// OUT/hypotheses.parquet (one row per hypothesis) and OUT/trends.md with charts: root
    /// causes over time, recurring culprits, rules that never fire, common elimination paths
    /// and similar incidents. An archive that fails gets a row with its error and the run goes
    /// on; the exit code is 1 when any failed. Outputs are byte-identical whatever --jobs.
    ///
    /// Examples: funnel mine archives/ --out mined/;
    /// funnel mine archives/ --shard 2/4 --out shard-2/ (then funnel merge)
    Mine(mine::MineArgs),
    /// Combine the outputs of `funnel mine --shard K/N` runs into one.
    ///
    /// Writes exactly the files an unsharded `funnel mine` writes (trends recomputed from the
    /// merged rows). Exit code 1 when any merged incident had failed.
    ///
    /// Example: funnel merge shard-1/ shard-2/ shard-3/ --out mined/
    Merge(merge::MergeArgs),
    /// Regression check: compare each archive's verdict with its [expected] table.
    ///
    /// For every archive under ROOT with [expected] (kind and culprit, or kind = "none" for no
    /// root cause), prints a table of mismatches and `N passed, M failed`. Exit 0 when all
    /// match, 1 on any mismatch, 2 when an archive cannot be analysed. --junit writes JUnit XML
    /// for CI.
    ///
    /// Example: funnel simulate --all --seeds 1..3 --out corpus/ && funnel check corpus/ --junit check.xml
    Check(check::CheckArgs),
    /// Mine a plain-text log file into templates (Drain-style, built-in masks).
    ///
    /// Writes one CSV row per input line: line_id,template_id,template.
    ///
    /// Example: funnel logs HDFS.log --format '<Date> <Time> <Pid> <Level> <Component>: <Content>' --out hdfs.csv
    Logs(logs::LogsArgs),
    /// Import a public RCA collection as incident archives (one per labelled fault).
    ///
    /// Formats: wide-csv (one CSV, `time` in unix seconds plus `<service>_<metric>` columns;
    /// give --fault-time or --fault-row), petshop (a PetShop dataset/ or dataset/<scenario>/
    /// folder; scenarios without a noissue baseline are skipped), nezha (a Nezha day folder
    /// holding metric/, the <day>-fault_list.json and, extracted from the tarballs, log/ and
    /// trace/). Labels go into [expected] as kind = "any", so `funnel check` compares culprits
    /// only. Mappings and limits: docs/importers.md.
    ///
    /// Examples: funnel import petshop data/petshop/dataset --out imported/petshop;
    /// funnel import wide-csv run.csv --fault-time 1692610000 --root-cause carts --out imported/
    Import(import::ImportArgs),
    /// Export an incident archive from a metrics store (Prometheus HTTP API); see docs/export.md.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Attach logs, Kubernetes events, traces or Kubernetes objects to an archive.
    ///
    /// Reads the files the tools write (Loki query_range JSON, logcli --output=jsonl, kubectl
    /// get events -o json, kubernetes-event-exporter lines, OTLP/Jaeger/Tempo JSON, kubectl get
    /// pods,deployments -o json), detecting each file's format (--format forces one). Rows are
    /// keyed, so attaching twice adds nothing; a failure leaves the archive as it was. Traces
    /// also add depends_on edges and trace-derived series (source = "traces").
    ///
    /// Examples: funnel attach logs incident/ loki.json; funnel attach traces incident/ otlp.jsonl
    Attach(attach::AttachArgs),
    /// List the funnel's rules, or explain one (funnel rules peer-sharing-storage-healthy).
    Rules {
        /// A rule id.
        id: Option<String>,
        /// Print docs/rules.md (every rule's documentation) instead.
        #[arg(long, conflicts_with = "id")]
        markdown: bool,
    },
}

/// Parses arguments and runs the command.
///
/// # Errors
/// Any failure, with context for the user.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    match args.command {
        Command::Analyze(a) => {
            // A memory limit the user chose is kept to as read: the tuned heap keeps freed
            // memory instead of returning it.
            if !a.bounds_memory() {
                tune_malloc();
            }
            analyze::run(&a)
        }
        Command::Simulate(a) => simulate::run(&a),
        Command::Mine(a) => {
            tune_malloc();
            mine::run(&a)
        }
        Command::Merge(a) => merge::run(&a),
        Command::Check(a) => {
            tune_malloc();
            check::run(&a)
        }
        Command::Logs(a) => logs::run(&a),
        Command::Import(a) => import::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Attach(a) => attach::run(&a),
        Command::Rules { markdown: true, .. } => {
            use std::io::Write as _;
            std::io::stdout()
                .lock()
                .write_all(funnel::rules::docs_markdown().as_bytes())?;
            Ok(Exit::Ok)
        }
        Command::Rules { id, .. } => rules(id.as_deref()),
    }
}

/// glibc's malloc settings for bulk work (`analyze`, `mine`, `check`): allocations up to
/// 64 MiB stay in the heap and freed memory is kept up to 1 GiB, instead of being mapped and
/// unmapped for every column, part and grid. Measured on 100 seed incidents with 2 workers:
/// system time 2.06 s → 0.39 s and 24 → 37 incidents/s (mimalloc and jemalloc: ~30/s); on
/// the 16 Parquet layouts of `bench/layouts.py` (20 M rows each), analyze 0.79–0.99× the time
/// (mean 0.89×) with up to 21 % more peak RSS (mimalloc: mean 0.98×).
const MALLOC_TUNABLES: &str =
    "glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=1073741824";

/// glibc reads its tunables only at start-up, from the environment, so a bulk command re-runs
/// its own binary once with them set (the project forbids `unsafe`, hence no `mallopt`). Any
/// `GLIBC_TUNABLES` already set is respected; if the re-run cannot start, work goes on
/// untuned.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("GLIBC_TUNABLES").is_some() {
            return;
        }
        if let Ok(exe) = std::env::current_exe() {
            // `exec` only returns when it failed.
            let _failed = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("GLIBC_TUNABLES", MALLOC_TUNABLES)
                .exec();
        }
    }
}

fn rules(id: Option<&str>) -> anyhow::Result<Exit> {
    use funnel::rules::{RULES, by_id};
    match id {
        None => {
            for r in RULES {
                let kinds: Vec<&str> = r.info().kinds.iter().map(|k| k.as_str()).collect();
                out!("{:<34} {}", r.info().id, kinds.join(", "))?;
            }
        }
        Some(id) => {
            let Some(r) = by_id(id) else {
                anyhow::bail!("no rule `{id}` (run `funnel rules` for the list)");
            };
            out!("# {}\n", r.info().id)?;
            for line in r.info().doc.lines() {
                out!("{}", line.strip_prefix(' ').unwrap_or(line))?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// Parses a duration (`15s`, `2m`, `500ms`, `1h30m`, as humantime reads them) or plain
/// seconds (`30`, `0.5`, as Prometheus' API takes a step) into milliseconds.
pub(crate) fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let ms = match s.parse::<f64>() {
        Ok(secs) => (secs * 1000.0).round(),
        Err(_) => humantime::parse_duration(s)
            .map_err(|e| format!("`{s}` is not a duration such as 15s, 2m or 500ms ({e})"))?
            .as_millis() as f64,
    };
    if !(1.0..=i64::MAX as f64 / 2.0).contains(&ms) {
        return Err(format!("`{s}` is not a positive duration"));
    }
    Ok(ms as i64)
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
pub(crate) fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    let style =
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    pb.set_style(style.progress_chars("=> "));
    pb.set_message(what.to_string());
    pb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("15s"), Ok(15_000));
        assert_eq!(parse_duration("2m"), Ok(120_000));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("30"), Ok(30_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("0.5"), Ok(500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-5").is_err());
        assert!(parse_duration("NaN").is_err());
    }
}

//! Integration tests: run the `funnel` binary on real archives, as a user would.
//! One test binary (each links all of polars); modules per command.

mod analyze;
mod attach;
mod attach_roundtrip;
mod export;
mod export_bench;
mod export_kinds;
mod export_servers;
mod fuzz_regressions;
mod history;
mod import;
mod malformed;
mod malformed_corpus;
mod memory;
mod mine;
mod readme;
mod robust;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn funnel() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_funnel"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

pub(crate) fn run_ok(args: &[&str]) -> Output {
    let out = funnel().args(args).output().expect("run funnel");
    assert!(
        out.status.success(),
        "funnel {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub(crate) fn seed() -> &'static str {
    "data/incidents/live-rt-jitter"
}

pub(crate) fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub(crate) fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every file under `dir`, relative path → bytes, sorted.
pub(crate) fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).expect("prefix").to_path_buf(),
                    std::fs::read(&p).expect("read"),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The seed range of the slow round-trip tests: `FUNNEL_SEEDS` (e.g. `1..10`), else `1..2`.
pub(crate) fn seed_range() -> (u64, u64) {
    let s = std::env::var("FUNNEL_SEEDS").unwrap_or_else(|_| "1..2".into());
    let (a, b) = s.split_once("..").expect("FUNNEL_SEEDS like 1..2");
    (a.parse().expect("seed"), b.parse().expect("seed"))
}

/// Every scenario kind at every seed of [`seed_range`], seed by seed: the cases of the slow
/// round-trip tests.
pub(crate) fn kinds_and_seeds() -> Vec<(funnel::model::Kind, u64)> {
    let (a, b) = seed_range();
    (a..=b)
        .flat_map(|seed| funnel::model::Kind::ALL.map(|k| (k, seed)))
        .collect()
}

/// An archive's root cause as `kind culprit` (`-` for none, `error: …` when it cannot be read).
pub(crate) fn root_cause_of(dir: &Path) -> String {
    match funnel::pipeline::analyze(dir, &funnel::pipeline::Options::default()) {
        Ok(a) => a
            .verdict
            .root_cause
            .map_or("-".into(), |r| format!("{} {}", r.kind.as_str(), r.culprit)),
        Err(e) => format!("error: {e}"),
    }
}

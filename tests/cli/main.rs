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

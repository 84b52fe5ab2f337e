//! The boundaries the README promises, checked on every `cargo test` rather than stated in
//! comments: polars only where Parquet is read or written, plotters only where charts are
//! drawn. A new use elsewhere fails here with the file and line, so a reviewer decides
//! whether the boundary moves instead of finding out later that it did.

use std::path::{Path, PathBuf};

/// Where each engine may be named, as path prefixes under `src/`.
const ALLOWED: &[(&str, &[&str])] = &[
    ("polars", &["archive/", "import/", "mine/table.rs"]),
    ("plotters", &["report/"]),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines of code (not comments) that name `krate` as a path: `use krate…` or `krate::`.
fn uses(text: &str, krate: &str) -> Vec<usize> {
    let path = format!("{krate}::");
    let import = format!("use {krate}");
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.trim_start();
            !code.starts_with("//") && (code.contains(&path) || code.starts_with(&import))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn violations() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap_or(file);
        let rel = rel.to_string_lossy().replace('\\', "/");
        // This file names the engines in its own test strings.
        if rel == "architecture.rs" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (krate, allowed) in ALLOWED {
            if allowed.iter().any(|a| rel.starts_with(a)) {
                continue;
            }
            for line in uses(&text, krate) {
                found.push(format!("src/{rel}:{line} uses {krate}"));
            }
        }
    }
    found
}

/// The analysis stages take polars-free types from `model`, never from the archive reader.
const NO_ARCHIVE: &[&str] = &["align/", "detect/", "evidence/", "rules/", "verdict/"];

#[test]
fn analysis_stages_do_not_import_the_archive_reader() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for stage in NO_ARCHIVE {
        sources(&root.join(stage), &mut files);
    }
    let found: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let lines = uses(&text, "crate::archive");
            (!lines.is_empty()).then(|| format!("{}:{lines:?}", f.display()))
        })
        .collect();
    assert!(
        found.is_empty(),
        "archive imported by:\n{}",
        found.join("\n")
    );
}

#[test]
fn engines_stay_behind_their_boundaries() {
    let found = violations();
    assert!(found.is_empty(), "boundary crossed:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_a_use_and_ignores_comments() {
    assert_eq!(
        uses("use polars::prelude::*;\n// polars::x\n", "polars"),
        [1]
    );
    assert_eq!(uses("let d = polars::df!();", "polars"), [1]);
    assert!(uses("//! what polars reported", "polars").is_empty());
}

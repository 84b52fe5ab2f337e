//! Bulk mining: analyse every incident archive under a root and keep what recurs.
//!
//! [`discover()`] finds the archives, [`Shard`] picks this worker's share, [`mine`] analyses them
//! on a bounded pool (an analysis is dropped as soon as its [`rows`] are extracted), [`write()`]
//! stores `incidents.parquet`, `hypotheses.parquet`, `trends.md` and `charts/`. [`merge`] reads
//! shard outputs back into the same [`Rows`], so a merged run writes the very bytes a single
//! run would. [`check`] judges rows against `[expected]`.
//!
//! A failed incident is never dropped and never stops the run: it becomes a row with its error.
//! The library never prints; progress goes through a callback.

pub mod check;
mod combine;
pub mod discover;
pub mod journal;
mod reliability;
pub mod rows;
pub mod run;
pub mod shard;
pub mod similar;
pub mod table;
pub mod trends;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub use combine::{merge, merge_reports};
pub use discover::{Found, discover};
pub use journal::Journal;
pub use rows::{HypothesisRow, IncidentRow, Mined, Rows};
pub use shard::Shard;

use crate::pipeline::{self, Analysis};

/// What can go wrong in mining as a whole (a single incident's failure is a row, not this).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}: {err}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error (in the message, not chained, so `{:#}` prints it once).
        err: std::io::Error,
    },
    /// A mined table cannot be written or read back.
    #[error("{}: {message}", path.display())]
    Table {
        /// The Parquet file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Bad input: a root that is not a folder, overlapping shards.
    #[error("{}: {message}", path.display())]
    Input {
        /// The folder.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A report or chart could not be written.
    #[error(transparent)]
    Report(#[from] crate::Error),
}

/// How to mine.
#[derive(Debug, Clone)]
pub struct Options {
    /// Passed to every analysis.
    pub analysis: pipeline::Options,
    /// Mine only this share.
    pub shard: Option<Shard>,
    /// Analyses in flight at once (memory is about this many analyses).
    pub workers: usize,
    /// Also write each incident's postmortem under `<reports>/<id>/`.
    pub reports: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            analysis: pipeline::Options::default(),
            shard: None,
            workers: run::default_workers(),
            reports: None,
        }
    }
}

/// The archives under `root` this shard owns, sorted by (id, path).
///
/// # Errors
/// The root cannot be listed.
pub fn select(root: &Path, shard: Option<Shard>) -> Result<Vec<Found>, Error> {
    let mut found = discover(root)?;
    if let Some(s) = shard {
        found.retain(|f| s.owns(&f.id));
    }
    Ok(found)
}

/// A folder name for an incident's report: the id with anything but `[A-Za-z0-9._-]` replaced,
/// so an id can never escape the reports folder.
#[must_use]
pub fn report_dir_name(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        format!("_{s}")
    } else {
        s
    }
}

/// The report folder of each (id, archive path) under `--reports`, in order: the id's
/// [`report_dir_name`], suffixed with a hash of the path when two archives share the id (they
/// would share a folder).
#[must_use]
pub fn report_names<'a>(items: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Vec<String> {
    let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, _) in items.clone() {
        *per_id.entry(id).or_default() += 1;
    }
    items
        .map(|(id, rel)| {
            let base = report_dir_name(id);
            if per_id[id] > 1 {
                format!(
                    "{base}-{:08x}",
                    shard::fnv1a64(rel.as_bytes()) & 0xffff_ffff
                )
            } else {
                base
            }
        })
        .collect()
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Analyses one archive into rows, writing its report when asked. Never fails: an error (or a
/// panic in the analyzer) becomes the row's error.
#[must_use]
pub fn mine_one(f: &Found, opts: &Options, report_name: &str) -> Mined {
    let failure = |e: String| {
        // Paths relative to the mined root, so outputs do not depend on where the corpus is
        // mounted (shards on different machines, a merge elsewhere).
        let e = e.replace(&*f.dir.to_string_lossy(), &f.rel);
        let spec = crate::archive::read_spec(&f.dir).ok();
        Mined {
            incident: IncidentRow::failure(&f.id, &f.rel, spec.as_ref(), e),
            hypotheses: Vec::new(),
        }
    };
    let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pipeline::analyze(&f.dir, &opts.analysis)
    }));
    let an: Analysis = match analysed {
        Ok(Ok(an)) => an,
        Ok(Err(e)) => return failure(e.to_string()),
        Err(p) => return failure(format!("analyzer panicked: {}", panic_text(p.as_ref()))),
    };
    let mut m = rows::extract(&an, &f.rel);
    if let Some(dir) = &opts.reports {
        if let Err(e) = crate::report::write(&an, &dir.join(report_name)) {
            m.incident.status = rows::ERROR.into();
            m.incident.error = Some(format!("writing the report: {e}"));
        }
    }
    // `an` drops here: only the rows outlive the analysis.
    m
}

/// Each archive's report folder name: its id made safe, suffixed with a path hash when two
/// archives share the id (they would share a folder otherwise).
#[must_use]
pub fn mine(found: &[Found], opts: &Options, done: impl Fn() + Sync) -> Rows {
    let names = report_names(found.iter().map(|f| (f.id.as_str(), f.rel.as_str())));
    let jobs: Vec<(&Found, &str)> = found.iter().zip(names.iter().map(String::as_str)).collect();
    let mined = run::bounded(
        &jobs,
        opts.workers,
        |(f, name)| mine_one(f, opts, name),
        done,
    );
    Rows::from_mined(mined)
}

/// How a journaled run ended.
#[derive(Debug)]
pub enum Journaled {
    /// Every archive is recorded: the rows of all of them.
    Done(Rows),
    /// Stopped on request after the incidents in flight; the journal holds `recorded` of
    /// `total`.
    Interrupted {
        /// Archives recorded in the journal.
        recorded: usize,
        /// Archives to mine.
        total: usize,
    },
}

/// [`mine`] through a [`Journal`]: archives already recorded are skipped, each finished one is
/// recorded, and once `stop` is set no new analysis starts (those in flight finish and are
/// recorded). Reports, when asked, go into the journal until published.
///
/// # Errors
/// A part cannot be written or read back.
pub fn mine_journaled(
    found: &[Found],
    opts: &Options,
    journal: &Journal,
    stop: &std::sync::atomic::AtomicBool,
    done: impl Fn() + Sync,
) -> Result<Journaled, Error> {
    let names = report_names(found.iter().map(|f| (f.id.as_str(), f.rel.as_str())));
    let mut opts = opts.clone();
    if opts.reports.is_some() {
        opts.reports = Some(journal.reports());
    }
    let jobs: Vec<(&Found, &str)> = found
        .iter()
        .zip(names.iter().map(String::as_str))
        .filter(|(f, _)| !journal.has(f))
        .collect();
    let results = run::bounded(
        &jobs,
        opts.workers,
        |(f, name)| {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return None;
            }
            Some(journal.record(f, mine_one(f, &opts, name)))
        },
        done,
    );
    let mut skipped = 0;
    for r in results {
        match r {
            None => skipped += 1,
            Some(r) => r?,
        }
    }
    if skipped > 0 {
        return Ok(Journaled::Interrupted {
            recorded: found.len() - skipped,
            total: found.len(),
        });
    }
    Ok(Journaled::Done(journal.rows(found)?))
}

/// What a mine output folder holds; an existing one holding anything else is not replaced.
pub const ENTRIES: [&str; 5] = [
    table::INCIDENTS,
    table::HYPOTHESES,
    "trends.md",
    "charts",
    "reports",
];

/// Writes `incidents.parquet`, `hypotheses.parquet`, `trends.md` and `charts/*.svg` as the
/// folder `out`, atomically (see [`publish`]).
///
/// # Errors
/// A file cannot be written or a chart drawn.
pub fn write(rows: &Rows, out: &Path) -> Result<(), Error> {
    publish(rows, out, |_| Ok(()))
}

/// Writes the tables, trends and charts into a folder staged beside `out`, lets `extra` add to
/// it (the reports), then renames it onto `out`, replacing a previous output whole: a failure
/// or a kill leaves the previous output as it was (see [`crate::output`]).
///
/// # Errors
/// `out` holds files a mine output does not, a file cannot be written or a chart drawn, or
/// `extra` fails.
pub fn publish(
    rows: &Rows,
    out: &Path,
    extra: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    let io = |e| Error::Io {
        path: out.to_path_buf(),
        err: e,
    };
    crate::output::check_owned(out, &ENTRIES).map_err(io)?;
    let staged = crate::output::Staged::dir(out).map_err(io)?;
    write_into(rows, staged.path())?;
    extra(staged.path())?;
    staged.commit().map_err(io)
}

fn write_into(rows: &Rows, out: &Path) -> Result<(), Error> {
    let charts = out.join("charts");
    fs::create_dir_all(&charts).map_err(|e| Error::Io {
        path: charts.clone(),
        err: e,
    })?;
    table::write(rows, out)?;
    let ids: Vec<&str> = crate::rules::RULES.iter().map(|r| r.info().id).collect();
    let t = trends::compute(rows, &ids);
    for c in &t.charts {
        crate::report::bars::render(c, &charts.join(&c.file))?;
    }
    let md = out.join("trends.md");
    fs::write(&md, t.markdown).map_err(|e| Error::Io { path: md, err: e })?;
    Ok(())
}

#[cfg(test)]
mod tests;

//! Importers: turn public RCA collections into archive-v1 incidents (`funnel import`).
//!
//! Owns the shared plumbing of every importer: reading CSVs with polars into plain columns,
//! building incident specs with explicit windows, and writing one archive per incident. Each
//! format lives in its own file and returns `ArchiveData` values; nothing here analyses data.
//! Labels go into `[expected]` with `kind = "any"` (the collections name a culprit, not a
//! kind); the analysis never reads them.

pub mod nezha;
mod nezha_read;
pub(crate) use nezha_read::level_of;
pub mod petshop;
pub mod wide_csv;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::Error;
use crate::model::{
    Alert, ArchiveData, EntitySpec, Expected, IncidentSpec, Instant, MetricRow, WindowSpec, Windows,
};

/// One imported incident: the archive folder name and its contents.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Folder name under the output root (also the incident id).
    pub name: String,
    /// The archive.
    pub data: ArchiveData,
}

/// Writes every incident into `root/<name>/`, in parallel; returns how many were written.
/// When several fail, the error of the first in `incidents` order is returned.
///
/// # Errors
/// A folder or file cannot be written.
pub fn write_all(incidents: &[Incident], root: &Path) -> Result<usize, Error> {
    each_in_parallel(incidents, root, |inc| {
        crate::archive::write(&inc.data, &root.join(&inc.name))
    })
}

/// Builds each job's incident and writes it into `root/<name>/` as soon as it is built, in
/// parallel, so only a few incidents are in memory at once; returns how many were written.
/// When several fail, the error of the first in `jobs` order is returned.
///
/// # Errors
/// A job cannot be built, or a folder or file cannot be written.
pub fn build_and_write<J: Sync>(
    jobs: &[J],
    root: &Path,
    build: impl Fn(&J) -> Result<Incident, Error> + Sync,
) -> Result<usize, Error> {
    each_in_parallel(jobs, root, |job| {
        let inc = build(job)?;
        crate::archive::write(&inc.data, &root.join(&inc.name))
    })
}

/// Creates `root` and runs `write` on every item in parallel (archives are independent, and
/// compressing them is most of an import's time); the first error in item order wins, so the
/// message does not depend on the thread count.
fn each_in_parallel<T: Sync>(
    items: &[T],
    root: &Path,
    write: impl Fn(&T) -> Result<(), Error> + Sync + Send,
) -> Result<usize, Error> {
    use rayon::prelude::*;
    std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
    let done: Vec<Result<(), Error>> = items.par_iter().map(write).collect();
    done.into_iter().collect::<Result<(), Error>>()?;
    Ok(items.len())
}

/// An incident made of metrics alone (no logs, no events), once its windows are checked.
pub(crate) fn metrics_only(
    name: String,
    spec: IncidentSpec,
    metrics: Vec<MetricRow>,
    src: &Path,
) -> Result<Incident, Error> {
    check_windows(&spec, src)?;
    Ok(Incident {
        name,
        data: ArchiveData {
            spec,
            metrics,
            logs: Vec::new(),
            events: Vec::new(),
        },
    })
}

/// Reads a CSV with every column as text (so a stray `NaN` or empty cell never fails schema
/// inference); `skip` lines are dropped before the header (or before the data without one).
pub(crate) fn read_csv_text(path: &Path, skip: usize, header: bool) -> Result<DataFrame, Error> {
    if !path.is_file() {
        return Err(Error::input(path, "file not found"));
    }
    let bad = |e: PolarsError| Error::input(path, format!("not a readable CSV file ({e})"));
    CsvReadOptions::default()
        .with_has_header(header)
        .with_skip_rows(skip)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .map_parse_options(|o| o.with_truncate_ragged_lines(true))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .map_err(bad)?
        .finish()
        .map_err(bad)
}

/// A text column as strings (null → None).
pub(crate) fn text_column(
    df: &DataFrame,
    name: &str,
    path: &Path,
) -> Result<Vec<Option<String>>, Error> {
    let c = df
        .column(name)
        .map_err(|_| column_error(path, name, "missing"))?;
    let s = c
        .str()
        .map_err(|e| column_error(path, name, &e.to_string()))?;
    Ok(s.iter().map(|v| v.map(str::to_string)).collect())
}

/// A column parsed as numbers: empty and `NaN` cells are NaN; any other text is an error that
/// names the file, the column and the row (1-based, data rows).
pub(crate) fn number_column(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<f64>, Error> {
    text_column(df, name, path)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v.as_deref().map(str::trim) {
            None | Some("" | "NaN" | "nan" | "null" | "NA") => Ok(f64::NAN),
            Some(t) => t.parse::<f64>().map_err(|_| {
                column_error(path, name, &format!("row {}: `{t}` is not a number", i + 1))
            }),
        })
        .collect()
}

pub(crate) fn column_error(path: &Path, column: &str, message: &str) -> Error {
    Error::Column {
        path: path.to_path_buf(),
        column: column.to_string(),
        message: message.to_string(),
    }
}

/// The column names of a frame.
pub(crate) fn names(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Files in `dir` whose names end with `suffix`, sorted.
pub(crate) fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// An incident spec with explicit windows, a topology and an optional culprit label.
pub(crate) fn spec(
    id: &str,
    title: String,
    description: String,
    alert: (&str, &str, i64),
    w: Windows,
    deps: &BTreeMap<String, Vec<String>>,
    culprit: Option<&str>,
) -> IncidentSpec {
    let at = |ms: i64| Some(Instant(ms));
    IncidentSpec {
        id: Some(id.to_string()),
        title: Some(title),
        description: Some(description),
        alert: Alert {
            entity: alert.0.to_string(),
            metric: alert.1.to_string(),
            fired_at: Instant(alert.2),
        },
        window: Some(WindowSpec {
            start: at(w.start),
            end: at(w.end),
            baseline_start: at(w.baseline_start),
            baseline_end: at(w.baseline_end),
        }),
        metric_aliases: BTreeMap::new(),
        expected: culprit.map(|c| Expected {
            kind: "any".into(),
            culprit: c.to_string(),
        }),
        entities: deps
            .iter()
            .filter(|(_, d)| !d.is_empty())
            .map(|(id, d)| EntitySpec {
                id: id.clone(),
                depends_on: d.clone(),
                ..EntitySpec::default()
            })
            .collect(),
        postmortem: None,
    }
}

/// Checks the windows the spec will resolve, so a bad source fails at import, not analysis.
pub(crate) fn check_windows(spec: &IncidentSpec, path: &Path) -> Result<(), Error> {
    spec.windows()
        .map(|_| ())
        .map_err(|m| Error::input(path, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_name_file_column_and_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        std::fs::write(&p, "time,a\n1,2.5\n2,\n3,oops\n").unwrap();
        let df = read_csv_text(&p, 0, true).unwrap();
        let e = number_column(&df, "a", &p).unwrap_err().to_string();
        assert!(
            e.contains("m.csv") && e.contains("`a`") && e.contains("row 3") && e.contains("oops"),
            "{e}"
        );
        assert!(number_column(&df, "time", &p).unwrap() == vec![1.0, 2.0, 3.0]);
        let e = number_column(&df, "b", &p).unwrap_err().to_string();
        assert!(e.contains("`b`") && e.contains("missing"), "{e}");
        assert!(
            read_csv_text(&dir.path().join("none.csv"), 0, true)
                .unwrap_err()
                .to_string()
                .contains("not found")
        );
    }
}

//! `petshop`: the PetShop dataset layout (`dataset/<scenario>/`). graph.csv becomes the
//! topology, `noissue/metrics.csv` the baseline, each `{train,test}/issue_<i>/` one incident
//! alerting on its `target.json` node and metric, labelled with `root_cause.node`.
//!
//! The baseline was recorded on other days than the issues, so its rows are re-timed: shifted
//! by one constant (order and spacing kept) so they end one sampling interval before the issue
//! starts. The analysis compares an incident window with the baseline right before it; a
//! baseline months away would otherwise fall outside every window.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::DataFrame;

use super::{Incident, column_error, metrics_only, read_csv_text, spec};
use crate::error::Error;
use crate::model::{MetricRow, Windows};

/// PetShop samples every 5 minutes.
const STEP_MS: i64 = 300_000;

/// One metrics.csv: per column (component, metric name after mapping, unit factor), the
/// timestamps (ms) and the values column by column.
#[derive(Debug)]
struct Table {
    columns: Vec<ColumnName>,
    ts: Vec<i64>,
    values: Vec<Vec<f64>>,
}

/// A column's component, metric name after mapping, and unit factor.
type ColumnName = (String, String, f64);

/// Maps (metric, statistic) onto the vocabulary: latency is in seconds, requests are sums
/// over the 5-minute sample. Other pairs keep a raw `<metric>_<statistic>` name.
#[must_use]
pub fn map_metric(metric: &str, stat: &str) -> (String, f64) {
    match (metric, stat) {
        ("latency", "Average") => ("latency_avg_ms".into(), 1000.0),
        ("latency", "p99") => ("latency_p99_ms".into(), 1000.0),
        ("requests", "Sum") => ("requests_per_s".into(), 1000.0 / STEP_MS as f64),
        ("availability", "Average") => ("availability".into(), 1.0),
        (m, s) => (format!("{m}_{}", s.to_ascii_lowercase()), 1.0),
    }
}

fn cell(df: &DataFrame, col: usize, row: usize) -> Option<String> {
    df.select_at_idx(col)?
        .str()
        .ok()?
        .get(row)
        .map(str::to_string)
}

fn read_table(path: &Path) -> Result<Table, Error> {
    let df = read_csv_text(path, 0, false)?;
    check_header(&df, path)?;
    let rows = timestamps(&df, path)?;
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for c in 1..df.width() {
        if let Some((column, v)) = read_column(&df, c, &rows, path)? {
            columns.push(column);
            values.push(v);
        }
    }
    Ok(Table {
        columns,
        ts: rows.into_iter().map(|r| r.1).collect(),
        values,
    })
}

/// The first column's three header rows must be the component, `metric` and `statistic`.
fn check_header(df: &DataFrame, path: &Path) -> Result<(), Error> {
    if df.height() < 4 || df.width() < 2 {
        return Err(Error::input(
            path,
            "expected a 3-row header (component, metric, statistic) and data rows",
        ));
    }
    let labels: Vec<String> = (0..3).map(|r| cell(df, 0, r).unwrap_or_default()).collect();
    if labels[1] != "metric" || labels[2] != "statistic" {
        return Err(Error::input(
            path,
            format!(
                "expected header rows `metric` and `statistic` under the component row, found `{}` and `{}`",
                labels[1], labels[2]
            ),
        ));
    }
    Ok(())
}

/// (row, time in ms) of each data row whose index is a unix time in seconds; rows without
/// one are skipped.
fn timestamps(df: &DataFrame, path: &Path) -> Result<Vec<(usize, i64)>, Error> {
    let idx = df
        .select_at_idx(0)
        .and_then(|c| c.str().ok())
        .ok_or_else(|| column_error(path, "index", "missing"))?;
    let secs: Vec<(usize, f64)> = idx
        .iter()
        .enumerate()
        .skip(3)
        .filter_map(|(r, v)| v.and_then(|v| v.trim().parse::<f64>().ok()).map(|s| (r, s)))
        .collect();
    // Beyond ±10^11 s (year ~5000) a value is no unix time, and the window arithmetic in
    // milliseconds would overflow.
    if let Some((r, s)) = secs.iter().find(|(_, s)| !s.is_finite() || s.abs() > 1e11) {
        return Err(column_error(
            path,
            "index",
            &format!("row {}: {s} is not a time in unix seconds", r + 1),
        ));
    }
    let rows: Vec<(usize, i64)> = secs
        .into_iter()
        .map(|(r, s)| (r, (s * 1000.0).round() as i64))
        .collect();
    if rows.is_empty() {
        return Err(column_error(path, "index", "no row has a unix timestamp"));
    }
    Ok(rows)
}

/// Column `c`: its (component, metric, factor) and its values at `rows`, scaled by the
/// factor (NaN where empty). `None` for a column without a component.
fn read_column(
    df: &DataFrame,
    c: usize,
    rows: &[(usize, i64)],
    path: &Path,
) -> Result<Option<(ColumnName, Vec<f64>)>, Error> {
    let comp = cell(df, c, 0).unwrap_or_default();
    let (metric, factor) = map_metric(
        &cell(df, c, 1).unwrap_or_default(),
        &cell(df, c, 2).unwrap_or_default(),
    );
    if comp.is_empty() {
        return Ok(None);
    }
    let col = df
        .select_at_idx(c)
        .and_then(|x| x.str().ok())
        .ok_or_else(|| column_error(path, &comp, "unreadable"))?;
    let mut v = Vec::with_capacity(rows.len());
    for (r, _) in rows {
        v.push(match col.get(*r).map(str::trim) {
            None | Some("" | "NaN" | "nan") => f64::NAN,
            Some(t) => {
                t.parse::<f64>().map_err(|_| {
                    column_error(
                        path,
                        &format!("{comp} {metric}"),
                        &format!("row {}: `{t}` is not a number", r + 1),
                    )
                })? * factor
            }
        });
    }
    Ok(Some(((comp, metric, factor), v)))
}

fn read_graph(path: &Path) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let df = read_csv_text(path, 0, true)?;
    let cols = super::names(&df);
    let Some(first) = cols.first() else {
        return Err(Error::input(path, "empty adjacency matrix"));
    };
    let rows = super::text_column(&df, first, path)?;
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for callee in cols.iter().skip(1) {
        let cells = super::number_column(&df, callee, path)?;
        for (caller, v) in rows.iter().zip(cells) {
            if let Some(caller) = caller.as_deref().filter(|_| v.is_finite() && v != 0.0) {
                deps.entry(caller.to_string())
                    .or_default()
                    .push(callee.clone());
            }
        }
    }
    Ok(deps)
}

fn push_rows(out: &mut Vec<MetricRow>, t: &Table, shift: i64) {
    for ((comp, metric, _), vals) in t.columns.iter().zip(&t.values) {
        for (ts, v) in t.ts.iter().zip(vals) {
            if v.is_finite() {
                out.push(MetricRow::new(ts + shift, comp, metric, *v));
            }
        }
    }
}

/// The scenario folders under `src`: `src` itself when it holds graph.csv, else its children.
fn scenarios(src: &Path) -> Result<Vec<PathBuf>, Error> {
    if src.join("graph.csv").is_file() {
        return Ok(vec![src.to_path_buf()]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(src)
        .map_err(|e| Error::io(src, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("graph.csv").is_file())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(Error::input(
            src,
            "no PetShop scenario here (expected graph.csv, or folders holding one)",
        ));
    }
    Ok(out)
}

/// One issue to import, built on demand ([`Issue::build`]): a collection's incidents each
/// repeat their scenario's whole baseline, so holding them all at once took ~1 GB for 52.
#[derive(Debug, Clone)]
pub struct Issue {
    scenario: String,
    split: &'static str,
    dir: PathBuf,
    base: Arc<Table>,
    deps: Arc<BTreeMap<String, Vec<String>>>,
}

impl Issue {
    /// Reads the issue's metrics and target and builds its incident.
    ///
    /// # Errors
    /// A malformed metrics.csv or target.json, named by file and column.
    pub fn build(&self) -> Result<Incident, Error> {
        one(
            &self.scenario,
            self.split,
            &self.dir,
            &self.base,
            &self.deps,
        )
    }
}

/// Every issue of every scenario with a `noissue` baseline (each scenario's graph and
/// baseline read once), and the scenarios skipped (with the reason).
///
/// # Errors
/// A malformed graph.csv or baseline metrics.csv, named by file and column.
pub fn plan(src: &Path) -> Result<(Vec<Issue>, Vec<String>), Error> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for dir in scenarios(src)? {
        let scenario = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("scenario")
            .to_string();
        let base_path = dir.join("noissue").join("metrics.csv");
        if !base_path.is_file() {
            skipped.push(format!("{scenario}: no noissue/metrics.csv baseline"));
            continue;
        }
        let deps = Arc::new(read_graph(&dir.join("graph.csv"))?);
        let base = Arc::new(read_table(&base_path)?);
        for split in ["train", "test"] {
            let Ok(rd) = std::fs::read_dir(dir.join(split)) else {
                continue;
            };
            let mut issues: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("metrics.csv").is_file())
                .collect();
            issues.sort();
            out.extend(issues.into_iter().map(|issue| Issue {
                scenario: scenario.clone(),
                split,
                dir: issue,
                base: Arc::clone(&base),
                deps: Arc::clone(&deps),
            }));
        }
    }
    Ok((out, skipped))
}

/// Imports every issue of every scenario with a `noissue` baseline. Returns the incidents
/// and the scenarios skipped (with the reason). `funnel import` builds and writes them one
/// at a time instead ([`plan`], [`super::build_and_write`]).
///
/// # Errors
/// A malformed metrics.csv, graph.csv or target.json, named by file and column.
pub fn import(src: &Path) -> Result<(Vec<Incident>, Vec<String>), Error> {
    let (issues, skipped) = plan(src)?;
    let incidents = issues.iter().map(Issue::build).collect::<Result<_, _>>()?;
    Ok((incidents, skipped))
}

fn one(
    scenario: &str,
    split: &str,
    dir: &Path,
    base: &Table,
    deps: &BTreeMap<String, Vec<String>>,
) -> Result<Incident, Error> {
    let tpath = dir.join("target.json");
    let text = std::fs::read_to_string(&tpath).map_err(|e| Error::io(&tpath, e))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::input(&tpath, format!("not JSON ({e})")))?;
    let field = |p: &str| {
        json.pointer(p)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    let node =
        field("/target/node").ok_or_else(|| column_error(&tpath, "target.node", "missing"))?;
    let (metric, _) = map_metric(
        &field("/target/metric").unwrap_or_else(|| "latency".into()),
        &field("/target/agg").unwrap_or_else(|| "Average".into()),
    );
    let culprit = field("/root_cause/node");
    let issue = read_table(&dir.join("metrics.csv"))?;
    let (start, last) = (
        issue.ts.iter().copied().min().unwrap_or(0),
        issue.ts.iter().copied().max().unwrap_or(0),
    );
    let base_last = base.ts.iter().copied().max().unwrap_or(0);
    let shift = start - STEP_MS - base_last;
    let base_first = base.ts.iter().copied().min().unwrap_or(0) + shift;
    let end = last + STEP_MS;
    let fired = json
        .pointer("/target/timestamp")
        .and_then(serde_json::Value::as_f64)
        .map_or(start, |s| (s * 1000.0).round() as i64)
        .clamp(start, end - 1);
    let mut metrics = Vec::new();
    push_rows(&mut metrics, base, shift);
    push_rows(&mut metrics, &issue, 0);
    let name = format!(
        "{scenario}-{split}-{}",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("issue")
    );
    let w = Windows {
        baseline_start: base_first,
        baseline_end: start,
        start,
        end,
        fired_at: fired,
    };
    let s = spec(
        &name,
        format!(
            "PetShop {scenario} {split} {}",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("")
        ),
        format!(
            "Imported from {}; the noissue baseline is re-timed to end right before the issue (original order and spacing kept)",
            dir.display()
        ),
        (&node, &metric, fired),
        w,
        deps,
        culprit.as_deref(),
    );
    metrics_only(name, s, metrics, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(ts: &[i64], v: f64) -> String {
        let mut s = String::from(
            "microservice,A,B,B\nmetric,latency,latency,requests\nstatistic,Average,p90,Sum\nunix_timestamp,,,\n",
        );
        for t in ts {
            s.push_str(&format!("{t}.0,{v},{},600\n", v * 2.0));
        }
        s
    }

    fn layout(dir: &Path) {
        let sc = dir.join("low");
        std::fs::create_dir_all(sc.join("noissue")).unwrap();
        std::fs::create_dir_all(sc.join("test/issue_0")).unwrap();
        std::fs::write(sc.join("graph.csv"), ",A,B\nA,0,1\nB,0,0\n").unwrap();
        std::fs::write(
            sc.join("noissue/metrics.csv"),
            metrics(&(0..20).map(|i| 1000 + 300 * i).collect::<Vec<_>>(), 0.1),
        )
        .unwrap();
        std::fs::write(
            sc.join("test/issue_0/metrics.csv"),
            metrics(&[900_000, 900_300, 900_600, 900_900, 901_200], 0.5),
        )
        .unwrap();
        std::fs::write(sc.join("test/issue_0/target.json"), r#"{"target":{"node":"A","metric":"latency","agg":"Average","timestamp":900400},"root_cause":{"node":"B","metric":null}}"#).unwrap();
        std::fs::create_dir_all(dir.join("temporal/test/issue_0")).unwrap();
        std::fs::write(dir.join("temporal/graph.csv"), ",A\nA,0\n").unwrap();
    }

    #[test]
    fn imports_issues_with_a_retimed_baseline() {
        let dir = tempfile::tempdir().unwrap();
        layout(dir.path());
        let (incs, skipped) = import(dir.path()).unwrap();
        assert_eq!(incs.len(), 1);
        assert!(skipped[0].starts_with("temporal"), "{skipped:?}");
        let d = &incs[0].data;
        assert_eq!(incs[0].name, "low-test-issue_0");
        assert_eq!(
            (d.spec.alert.entity.as_str(), d.spec.alert.metric.as_str()),
            ("A", "latency_avg_ms")
        );
        assert_eq!(
            d.spec.expected.as_ref().map(|e| e.culprit.as_str()),
            Some("B")
        );
        assert_eq!(
            d.spec.entity("A").map(|e| e.depends_on.clone()),
            Some(vec!["B".to_string()])
        );
        let w = d.spec.windows().unwrap();
        assert_eq!(
            (w.start, w.baseline_end, w.end),
            (900_000_000, 900_000_000, 901_500_000)
        );
        let last_base = d
            .metrics
            .iter()
            .filter(|r| r.ts_ms < w.start)
            .map(|r| r.ts_ms)
            .max()
            .unwrap();
        assert_eq!(
            last_base,
            w.start - STEP_MS,
            "the baseline ends one step before the issue"
        );
        let rps = d
            .metrics
            .iter()
            .find(|r| r.metric == "requests_per_s")
            .unwrap();
        assert!((rps.value - 2.0).abs() < 1e-9, "600 per 5 min is 2/s");
        assert!(d.metrics.iter().any(|r| r.metric == "latency_p90"));
    }

    #[test]
    fn malformed_sources_name_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        layout(dir.path());
        let m = dir.path().join("low/test/issue_0/metrics.csv");
        std::fs::write(
            &m,
            metrics(&[900_000, 900_300], 0.5).replace("0.5,", "slow,"),
        )
        .unwrap();
        let e = import(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("issue_0/metrics.csv")
                && e.contains("A latency_avg_ms")
                && e.contains("slow"),
            "{e}"
        );
        std::fs::write(&m, "a,b\n1,2\n").unwrap();
        assert!(
            import(dir.path())
                .unwrap_err()
                .to_string()
                .contains("3-row header")
        );
        std::fs::write(dir.path().join("low/test/issue_0/target.json"), "{").unwrap();
        std::fs::write(&m, metrics(&[900_000, 900_300], 0.5)).unwrap();
        assert!(
            import(dir.path())
                .unwrap_err()
                .to_string()
                .contains("target.json")
        );
        assert!(
            import(&dir.path().join("low/test"))
                .unwrap_err()
                .to_string()
                .contains("no PetShop scenario")
        );
    }
}

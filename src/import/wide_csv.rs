//! `wide-csv`: the RCAEval / RCD research convention. One CSV, a `time` column in unix seconds
//! and one column per `<service>_<metric>`; the fault time comes from the caller. Owns the
//! column-suffix → vocabulary mapping (documented in docs/importers.md).

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::DataFrame;

use super::{Incident, column_error, metrics_only, names, number_column, read_csv_text, spec};
use crate::error::Error;
use crate::model::{MetricRow, Windows, step_ms};

/// Where the fault starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultAt {
    /// Unix seconds.
    Time(f64),
    /// A 0-based data row.
    Row(usize),
}

/// Options of a wide-CSV import.
#[derive(Debug, Clone)]
pub struct WideCsvOptions {
    /// Where the fault starts.
    pub fault: FaultAt,
    /// The alerting `<entity>` or `<entity>/<metric>`; default the latency with the highest baseline (the entry point).
    pub alert: Option<String>,
    /// The known culprit, written into `[expected]` (kind `any`).
    pub root_cause: Option<String>,
    /// Incident id; default the file stem.
    pub id: Option<String>,
}

/// Suffixes mapped onto the vocabulary, longest first so `_lat_99` wins over a bare split.
/// Latency values are taken as milliseconds and CPU as cores: the convention does not record
/// units, and the analysis compares each series with its own baseline, so a wrong scale only
/// changes the numbers shown, not which series moved.
const SUFFIXES: &[(&str, &str)] = &[
    ("_latency_p99", "latency_p99_ms"),
    // RCAEval's names (RE1/RE2: `frontend_latency-90`, `cartservice_workload`).
    ("_latency-99", "latency_p99_ms"),
    ("_latency-95", "latency_p99_ms"),
    ("_latency-90", "latency_p99_ms"),
    ("_latency-50", "latency_p50"),
    ("_workload", "requests_per_s"),
    ("_lat_99", "latency_p99_ms"),
    ("_latency", "latency_avg_ms"),
    ("_lat_avg", "latency_avg_ms"),
    ("_lat_90", "latency_p99_ms"),
    ("_lat_95", "latency_p99_ms"),
    ("_lat_50", "latency_p50"),
    ("_requests", "requests_per_s"),
    ("_load", "requests_per_s"),
    ("_lod", "requests_per_s"),
    ("_rps", "requests_per_s"),
    ("_errors", "errors_per_s"),
    ("_error", "errors_per_s"),
    ("_err", "errors_per_s"),
    ("_cpu", "cpu_cores"),
    ("_mem", "mem_rss_bytes"),
    ("_memory", "mem_rss_bytes"),
];

/// Latency metrics an alert may default to, most telling first.
const LATENCY_PREFERENCE: &[&str] = &["latency_p99_ms", "latency_avg_ms", "latency_p50"];

/// Splits a column name into (entity, metric). Known suffixes map onto the vocabulary; any
/// other name splits at its last `_` and keeps the raw suffix as the metric; a name without
/// `_` is a metric of an entity named after the whole column.
#[must_use]
pub fn map_column(name: &str) -> (String, String) {
    let mut best: Option<(&str, &str)> = None;
    for (suf, metric) in SUFFIXES {
        if name.len() > suf.len()
            && name.ends_with(suf)
            && best.is_none_or(|(b, _)| suf.len() > b.len())
        {
            best = Some((suf, metric));
        }
    }
    if let Some((suf, metric)) = best {
        return (
            name[..name.len() - suf.len()].to_string(),
            (*metric).to_string(),
        );
    }
    match name.rsplit_once('_') {
        Some((e, m)) if !e.is_empty() && !m.is_empty() => (e.to_string(), m.to_string()),
        _ => (name.to_string(), "value".to_string()),
    }
}

/// Imports one wide CSV as one incident.
///
/// # Errors
/// A missing `time` column, a non-numeric cell, a fault outside the data, an unknown alert.
pub fn import(path: &Path, opts: &WideCsvOptions) -> Result<Incident, Error> {
    let df = read_csv_text(path, 0, true)?;
    let cols = names(&df);
    let time_col = time_column(&cols, path)?;
    let ts = times_ms(&number_column(&df, time_col, path)?, time_col, path)?;
    let fault_ms = fault_ms(opts.fault, &ts, path)?;
    let (first, last) = (
        ts.iter().copied().min().unwrap_or(0),
        ts.iter().copied().max().unwrap_or(0),
    );
    if fault_ms <= first || fault_ms > last {
        return Err(Error::input(
            path,
            format!(
                "the fault time {} s is not inside the data ({} s .. {} s, with at least one row before it)",
                fault_ms / 1000,
                first / 1000,
                last / 1000
            ),
        ));
    }
    let step = median_step(&ts);
    let read = read_metrics(&df, &cols, time_col, &ts, fault_ms, path)?;
    let Some(first_col) = cols.iter().find(|c| c.as_str() != time_col) else {
        return Err(Error::input(path, "no metric columns besides `time`"));
    };
    let (alert_entity, alert_metric) = match opts.alert.as_deref() {
        Some(a) => named_alert(a, &read.seen, path)?,
        None => read.entry.map_or_else(|| map_column(first_col), |e| e.key),
    };
    let id = opts.id.clone().unwrap_or_else(|| {
        path.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("wide-csv")
            .to_string()
    });
    let w = Windows {
        baseline_start: first,
        baseline_end: fault_ms,
        start: fault_ms,
        end: last + step,
        fired_at: fault_ms,
    };
    let s = spec(
        &id,
        format!(
            "Imported from {}",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("a wide CSV")
        ),
        format!(
            "wide-csv import of {}: baseline is every row before the fault, the incident every row from it",
            path.display()
        ),
        (&alert_entity, &alert_metric, fault_ms),
        w,
        &BTreeMap::new(),
        opts.root_cause.as_deref(),
    );
    metrics_only(id, s, read.metrics, path)
}

/// The first of the conventional time column names the file has.
fn time_column(cols: &[String], path: &Path) -> Result<&'static str, Error> {
    ["time", "timestamp", "ts"]
        .into_iter()
        .find(|c| cols.iter().any(|x| x == c))
        .ok_or_else(|| {
            column_error(
                path,
                "time",
                "missing (expected a `time` column in unix seconds)",
            )
        })
}

/// Unix seconds to ms, refusing empty cells and values that are no unix time.
fn times_ms(secs: &[f64], time_col: &str, path: &Path) -> Result<Vec<i64>, Error> {
    if secs.is_empty() {
        return Err(Error::input(path, "no data rows"));
    }
    if let Some(i) = secs.iter().position(|t| !t.is_finite()) {
        return Err(column_error(
            path,
            time_col,
            &format!("row {}: empty time", i + 1),
        ));
    }
    // Beyond ±10^11 s (year ~5000) a value is no time in unix seconds, and the window
    // arithmetic in milliseconds would overflow.
    if let Some(i) = secs.iter().position(|t| t.abs() > 1e11) {
        return Err(column_error(
            path,
            time_col,
            &format!("row {}: {} is not a time in unix seconds", i + 1, secs[i]),
        ));
    }
    Ok(secs.iter().map(|s| (s * 1000.0).round() as i64).collect())
}

/// The fault's time in ms; a `--fault-row` must name a data row.
fn fault_ms(fault: FaultAt, ts: &[i64], path: &Path) -> Result<i64, Error> {
    Ok(match fault {
        FaultAt::Time(t) => (t * 1000.0).round() as i64,
        FaultAt::Row(r) => *ts.get(r).ok_or_else(|| {
            Error::input(
                path,
                format!(
                    "--fault-row {r} is past the last data row ({})",
                    ts.len() - 1
                ),
            )
        })?,
    })
}

/// The median gap between rows: the sampling step (1 s when no two rows differ).
fn median_step(ts: &[i64]) -> i64 {
    step_ms(ts.iter().copied()).unwrap_or(1000)
}

/// The best default-alert candidate so far: a latency column ranked by [`LATENCY_PREFERENCE`].
struct EntryLatency {
    rank: usize,
    baseline_median: f64,
    key: (String, String),
}

/// Every metric column as rows, with the (entity, metric) → column map and the entry latency.
struct MetricColumns {
    metrics: Vec<MetricRow>,
    seen: BTreeMap<(String, String), String>,
    entry: Option<EntryLatency>,
}

fn read_metrics(
    df: &DataFrame,
    cols: &[String],
    time_col: &str,
    ts: &[i64],
    fault_ms: i64,
    path: &Path,
) -> Result<MetricColumns, Error> {
    let mut read = MetricColumns {
        metrics: Vec::new(),
        seen: BTreeMap::new(),
        entry: None,
    };
    for c in cols.iter().filter(|c| c.as_str() != time_col) {
        let (entity, metric) = column_key(c, cols, &read.seen);
        read.seen
            .insert((entity.clone(), metric.clone()), c.clone());
        let values = number_column(df, c, path)?;
        if let Some(rank) = LATENCY_PREFERENCE.iter().position(|m| *m == metric) {
            let baseline_median = baseline_median(ts, &values, fault_ms);
            // The default alert: the entry point's latency. The entry of a synchronous call
            // tree waits on every call below it, so its latency is the highest; the files carry
            // no call graph. Lower preference rank first, then the highest baseline; the first
            // column wins ties.
            let better = read.entry.as_ref().is_none_or(|e| {
                rank < e.rank || (rank == e.rank && baseline_median > e.baseline_median)
            });
            if better {
                read.entry = Some(EntryLatency {
                    rank,
                    baseline_median,
                    key: (entity.clone(), metric.clone()),
                });
            }
        }
        for (t, v) in ts.iter().zip(values) {
            read.metrics.push(MetricRow::new(*t, &entity, &metric, v));
        }
    }
    Ok(read)
}

/// Column `c`'s (entity, metric), kept distinct from the columns already `seen`.
fn column_key(
    c: &str,
    cols: &[String],
    seen: &BTreeMap<(String, String), String>,
) -> (String, String) {
    let (entity, mut metric) = map_column(c);
    // p90/p95 stand in for p99 only when the service has no p99 column of its own.
    if ["_lat_90", "_lat_95", "_latency-90", "_latency-95"]
        .iter()
        .any(|x| c.ends_with(x))
        && cols.iter().any(|x| {
            ["_lat_99", "_latency_p99", "_latency-99"]
                .iter()
                .any(|p| *x == format!("{entity}{p}"))
        })
    {
        metric = c[entity.len() + 1..].to_string();
    }
    // Two columns onto one vocabulary name (p90 and p99): the later keeps its raw suffix.
    if let Some(prev) = seen.get(&(entity.clone(), metric.clone())) {
        if prev != c {
            metric = c[entity.len()..].trim_start_matches('_').to_string();
        }
    }
    (entity, metric)
}

/// The median of the finite values before the fault (−∞ when there are none).
fn baseline_median(ts: &[i64], values: &[f64], fault_ms: i64) -> f64 {
    let mut base: Vec<f64> = ts
        .iter()
        .zip(values)
        .filter(|(t, v)| **t < fault_ms && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    base.sort_by(f64::total_cmp);
    base.get(base.len() / 2)
        .copied()
        .unwrap_or(f64::NEG_INFINITY)
}

/// `--alert ENTITY[/METRIC]`; without a metric, the entity's first latency, else its first
/// column.
fn named_alert(
    a: &str,
    seen: &BTreeMap<(String, String), String>,
    path: &Path,
) -> Result<(String, String), Error> {
    let (e, m) = a.split_once('/').map_or_else(
        || (a.to_string(), None),
        |(e, m)| (e.to_string(), Some(m.to_string())),
    );
    let m = match m {
        Some(m) => m,
        None => seen
            .keys()
            .find(|(x, m)| *x == e && m.starts_with("latency_"))
            .or_else(|| seen.keys().find(|(x, _)| *x == e))
            .map(|(_, m)| m.clone())
            .ok_or_else(|| {
                Error::input(path, format!("--alert `{e}`: no column of that entity"))
            })?,
    };
    Ok((e, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(fault: FaultAt) -> WideCsvOptions {
        WideCsvOptions {
            fault,
            alert: None,
            root_cause: Some("cart".into()),
            id: None,
        }
    }

    #[test]
    fn suffixes_map_onto_the_vocabulary() {
        assert_eq!(
            map_column("cart_lat_90"),
            ("cart".into(), "latency_p99_ms".into())
        );
        assert_eq!(
            map_column("front-end_cpu"),
            ("front-end".into(), "cpu_cores".into())
        );
        assert_eq!(
            map_column("orders_mem"),
            ("orders".into(), "mem_rss_bytes".into())
        );
        assert_eq!(
            map_column("orders_lod"),
            ("orders".into(), "requests_per_s".into())
        );
        assert_eq!(
            map_column("user_db_disk_io"),
            ("user_db_disk".into(), "io".into())
        );
        assert_eq!(map_column("alone"), ("alone".into(), "value".into()));
        // RCAEval's names.
        assert_eq!(
            map_column("ts-route-service_latency-90"),
            ("ts-route-service".into(), "latency_p99_ms".into())
        );
        assert_eq!(
            map_column("cartservice_workload"),
            ("cartservice".into(), "requests_per_s".into())
        );
        assert_eq!(
            map_column("carts-db_diskio"),
            ("carts-db".into(), "diskio".into())
        );
    }

    #[test]
    fn the_default_alert_is_the_entry_points_latency() {
        // RCAEval order: columns sorted by service, so the entry is not the first latency.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("re1.csv");
        std::fs::write(
            &p,
            "time,adservice_cpu,adservice_latency-50,adservice_latency-90,cartservice_latency-90,frontend_latency-50,frontend_latency-90,frontend_workload\n\
             100,0.1,2,4,9,20,41,50\n101,0.1,2,4,8,21,40,52\n102,0.1,2,4,90,60,130,49\n103,0.1,2,4,95,62,135,51\n",
        )
        .unwrap();
        let inc = import(&p, &opts(FaultAt::Row(2))).unwrap();
        let a = &inc.data.spec.alert;
        assert_eq!(
            (a.entity.as_str(), a.metric.as_str()),
            ("frontend", "latency_p99_ms")
        );
        assert!(
            inc.data
                .metrics
                .iter()
                .any(|r| r.entity == "frontend" && r.metric == "requests_per_s")
        );
    }

    #[test]
    fn imports_a_tiny_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.csv");
        std::fs::write(&p, "time,cart_lat_90,cart_lat_99,cart_cpu\n100,1,2,0.1\n101,1,2,0.1\n102,9,9,0.9\n103,9,9,0.9\n").unwrap();
        let inc = import(&p, &opts(FaultAt::Time(102.0))).unwrap();
        assert_eq!(inc.name, "run");
        assert_eq!(
            (
                inc.data.spec.alert.entity.as_str(),
                inc.data.spec.alert.metric.as_str()
            ),
            ("cart", "latency_p99_ms")
        );
        let w = inc.data.spec.windows().unwrap();
        assert_eq!(
            (w.baseline_start, w.start, w.end),
            (100_000, 102_000, 104_000)
        );
        assert!(
            inc.data.metrics.iter().any(|r| r.metric == "lat_90"),
            "the p90 column keeps its raw name beside p99"
        );
        assert_eq!(
            inc.data.spec.expected.as_ref().map(|e| e.kind.as_str()),
            Some("any")
        );
        assert_eq!(
            import(&p, &opts(FaultAt::Row(2)))
                .unwrap()
                .data
                .spec
                .alert
                .fired_at
                .0,
            102_000
        );
    }

    #[test]
    fn malformed_files_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.csv");
        std::fs::write(&p, "when,a_cpu\n1,2\n").unwrap();
        assert!(
            import(&p, &opts(FaultAt::Row(0)))
                .unwrap_err()
                .to_string()
                .contains("`time`")
        );
        std::fs::write(&p, "time,a_cpu\n1,2\n2,x\n").unwrap();
        let e = import(&p, &opts(FaultAt::Row(1))).unwrap_err().to_string();
        assert!(e.contains("a_cpu") && e.contains("row 2"), "{e}");
        std::fs::write(&p, "time,a_cpu\n1,2\n2,3\n").unwrap();
        assert!(
            import(&p, &opts(FaultAt::Time(50.0)))
                .unwrap_err()
                .to_string()
                .contains("not inside")
        );
        assert!(
            import(&p, &opts(FaultAt::Row(9)))
                .unwrap_err()
                .to_string()
                .contains("--fault-row")
        );
    }
}

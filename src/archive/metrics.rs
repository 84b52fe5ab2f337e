//! Reads `metrics/*.parquet` into raw series: each file read whole (projected columns), rows
//! grouped per series in runs of equal keys, the window applied and missing samples dropped,
//! then aliases and units applied per series and the files merged.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use super::columns::{self, Frame};
use crate::error::Error;
use crate::fxhash::FxMap;
use crate::model::{APP, ResolvedAlias, SeriesKey, vocab};

/// One series as read: samples sorted by time, duplicates not yet averaged.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    /// Identity.
    pub key: SeriesKey,
    /// Epoch ms, ascending.
    pub ts: Vec<i64>,
    /// Values, same length as `ts`, never NaN.
    pub values: Vec<f64>,
}

/// What `load` returns: every series in key order, and the pod→node placement.
#[derive(Debug, Default)]
pub struct MetricSet {
    /// Series sorted by key.
    pub series: Vec<RawSeries>,
    /// Pod → node (bare node name).
    pub pod_nodes: BTreeMap<String, String>,
    /// Samples read inside the window.
    pub rows: usize,
    /// Files read.
    pub files: usize,
}

const KEYS: [&str; 7] = [
    "entity",
    "metric",
    "pod",
    "container",
    "target",
    "source",
    "unit",
];

type Groups = BTreeMap<SeriesKey, (Vec<i64>, Vec<f64>)>;

/// Loads every metrics file of `dir` for samples in `[from_ms, to_ms)`.
///
/// # Errors
/// A missing folder, no Parquet file, a corrupt file, a missing or mistyped column, an unknown unit.
pub fn load(
    dir: &Path,
    from_ms: i64,
    to_ms: i64,
    aliases: &BTreeMap<String, ResolvedAlias>,
) -> Result<MetricSet, Error> {
    if !dir.is_dir() {
        return Err(Error::input(
            dir,
            "missing metrics folder (an archive needs metrics/*.parquet)",
        ));
    }
    let files = columns::parquet_files(dir)?;
    if files.is_empty() {
        return Err(Error::input(
            dir,
            "no *.parquet file (an archive needs at least one metrics file)",
        ));
    }
    let mut groups: Groups = BTreeMap::new();
    let mut set = MetricSet {
        files: files.len(),
        ..MetricSet::default()
    };
    let optional = ["pod", "node", "container", "target", "source", "unit"];
    let window = from_ms..to_ms;
    for path in &files {
        let checked = columns::check(path, &["entity", "metric"], &["value"])?;
        let frame = columns::read(checked, &["entity", "metric", "value"], &optional)?;
        set.rows += merge_file(
            &frame,
            &window,
            path,
            aliases,
            &mut groups,
            &mut set.pod_nodes,
        )?;
    }
    set.series = groups
        .into_iter()
        .map(|(key, (ts, values))| {
            // Exports write a series in time order; only the others need sorting.
            if ts.is_sorted() {
                return RawSeries { key, ts, values };
            }
            let mut idx: Vec<usize> = (0..ts.len()).collect();
            idx.sort_by_key(|&i| ts[i]);
            RawSeries {
                key,
                ts: idx.iter().map(|&i| ts[i]).collect(),
                values: idx.iter().map(|&i| values[i]).collect(),
            }
        })
        .collect();
    Ok(set)
}

/// Exporters name containers their own way: the mesh proxy as `istio-proxy`, `envoy` or
/// `linkerd-proxy`, the app after its workload. Both map onto the spec's `sidecar` and `app`;
/// any other container keeps its name so it is never averaged into the app's series.
#[must_use]
pub fn normalize_container(raw: Option<&str>, entity: &str) -> String {
    let Some(c) = raw.map(str::trim).filter(|c| !c.is_empty()) else {
        return APP.to_string();
    };
    let c = c.to_ascii_lowercase();
    let proxy = [
        "sidecar",
        "istio-proxy",
        "envoy",
        "envoy-proxy",
        "linkerd-proxy",
        "mesh-proxy",
        "proxy",
    ];
    if proxy.contains(&c.as_str()) {
        crate::model::SIDECAR.to_string()
    } else if c == APP || c == "main" || c == entity.to_ascii_lowercase() {
        APP.to_string()
    } else {
        c
    }
}

/// Where a new run of rows begins: row 0 and every row whose key columns (and node) differ from
/// the previous row's.
///
/// Compared on Arrow's string views, 16 bytes per row: equal views are equal strings (short
/// strings live in the view, long ones point into the array's buffers), and a dictionary-encoded
/// column, what exporters write for keys, gives equal strings equal views. Only differing views
/// of long strings with the same length and prefix need their bytes compared. Rows in different
/// chunks are not compared (their views point into different buffers): a chunk starts a run,
/// which at worst splits a run in two, and runs with the same key meet again in `merge_file`.
fn run_starts(cols: &[&StringChunked], height: usize) -> Vec<usize> {
    if height == 0 {
        return Vec::new();
    }
    let mut changed = vec![false; height];
    changed[0] = true;
    for ca in cols {
        let mut first = 0;
        for (chunk, arr) in ca.chunks().iter().zip(ca.downcast_iter()) {
            let views: &[_] = arr.views();
            let n = views.len().min(height - first);
            if n == 0 {
                continue;
            }
            changed[first] = true;
            let out = &mut changed[first..first + n];
            let same_str = |i: usize| {
                let (a, b) = (views[i - 1], views[i]);
                a.as_u128() == b.as_u128()
                    || !a.is_inline()
                        && a.length == b.length
                        && a.prefix == b.prefix
                        && arr.value(i - 1) == arr.value(i)
            };
            match chunk.validity().filter(|v| v.unset_bits() > 0) {
                None => {
                    for (i, o) in out.iter_mut().enumerate().skip(1) {
                        *o |= !same_str(i);
                    }
                }
                Some(v) => {
                    for (i, o) in out.iter_mut().enumerate().skip(1) {
                        *o |= match (v.get_bit(i - 1), v.get_bit(i)) {
                            (false, false) => false,
                            (true, true) => !same_str(i),
                            _ => true,
                        };
                    }
                }
            }
            first += views.len();
        }
    }
    changed
        .iter()
        .enumerate()
        .filter_map(|(i, &c)| c.then_some(i))
        .collect()
}

/// Moves one file's rows with `ts` in `window` and a value into `groups`; returns the sample
/// count.
///
/// Rows are grouped here rather than by a polars `group_by` over the seven key columns with
/// list aggregation: that query cost ~70 % of a seed-sized analysis. Exports usually write a
/// series' samples together, so rows are taken in runs of equal keys and only each run's
/// first row is decoded and hashed; a file sorted by time alone degrades to one run per row,
/// still correct.
fn merge_file(
    frame: &Frame,
    window: &std::ops::Range<i64>,
    path: &Path,
    aliases: &BTreeMap<String, ResolvedAlias>,
    groups: &mut Groups,
    pod_nodes: &mut BTreeMap<String, String>,
) -> Result<usize, Error> {
    type RawKey<'a> = [Option<&'a str>; 7];
    let err = columns::parquet_err(path);
    let key_cols: Vec<Option<StringChunked>> = KEYS
        .iter()
        .map(|k| frame.text(k))
        .collect::<PolarsResult<_>>()
        .map_err(&err)?;
    let nodes = frame.text("node").map_err(&err)?;
    let value_col = frame.float("value").map_err(&err)?;
    // Null values become NaN, dropped below like NaN samples; without nulls, no copy.
    let values: std::borrow::Cow<'_, [f64]> = match value_col.cont_slice() {
        Ok(v) => v.into(),
        Err(_) => value_col
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect::<Vec<f64>>()
            .into(),
    };
    let present: Vec<&StringChunked> = key_cols.iter().chain([&nodes]).flatten().collect();
    let starts = run_starts(&present, frame.height);
    // Slot per distinct raw key: its row ranges and the largest node name seen for it.
    type Slot<'a> = (RawKey<'a>, Vec<std::ops::Range<usize>>, Option<&'a str>);
    let mut slot_of: FxMap<RawKey<'_>, usize> = FxMap::default();
    let mut slots: Vec<Slot<'_>> = Vec::new();
    for (r, &s) in starts.iter().enumerate() {
        let e = starts.get(r + 1).copied().unwrap_or(frame.height);
        let key: RawKey<'_> =
            std::array::from_fn(|c| key_cols[c].as_ref().and_then(|ca| ca.get(s)));
        let slot = *slot_of.entry(key).or_insert_with(|| {
            slots.push((key, Vec::new(), None));
            slots.len() - 1
        });
        let entry = &mut slots[slot];
        entry.1.push(s..e);
        if let Some(n) = nodes.as_ref().and_then(|ca| ca.get(s)) {
            entry.2 = Some(entry.2.map_or(n, |m: &str| m.max(n)));
        }
    }
    let mut rows = 0;
    let keep = |i: usize| {
        let t = frame.ts[i].filter(|t| window.contains(t))?;
        (!values[i].is_nan()).then_some(t)
    };
    for (raw, runs, node) in slots {
        let (Some(entity), Some(raw_metric)) = (raw[0], raw[1]) else {
            continue;
        };
        if !runs
            .iter()
            .flat_map(Clone::clone)
            .any(|i| keep(i).is_some())
        {
            continue;
        }
        let (metric, mut factor) = match aliases.get(raw_metric) {
            Some(a) => (a.metric.clone(), a.factor),
            None => (raw_metric.to_string(), 1.0),
        };
        if let Some(unit) = raw[6] {
            match vocab::unit_factor(&metric, unit) {
                Ok(f) => factor *= f,
                Err(message) => {
                    return Err(Error::Column {
                        path: path.to_path_buf(),
                        column: "unit".into(),
                        message,
                    });
                }
            }
        }
        let key = SeriesKey {
            container: normalize_container(raw[3], entity),
            entity: entity.to_string(),
            metric,
            pod: raw[2].map(str::to_string),
            target: raw[4].map(str::to_string),
            source: raw[5].map(str::to_string),
        };
        if let (Some(pod), Some(node)) = (&key.pod, node) {
            pod_nodes
                .entry(pod.clone())
                .or_insert_with(|| node.strip_prefix("node:").unwrap_or(node).to_string());
        }
        let (ts, vs) = groups.entry(key).or_default();
        let n: usize = runs.iter().map(ExactSizeIterator::len).sum();
        ts.reserve(n);
        vs.reserve(n);
        let before = ts.len();
        for i in runs.into_iter().flatten() {
            if let Some(t) = keep(i) {
                ts.push(t);
                vs.push(values[i] * factor);
            }
        }
        rows += ts.len() - before;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::{normalize_container, run_starts};
    use polars::prelude::*;

    #[test]
    fn runs_break_on_any_key_change_whatever_the_string_layout() {
        let long = "a-metric-name-longer-than-twelve-bytes";
        let other = "a-metric-name-longer-than-twelve-bytez"; // same length and prefix
        // Equal long strings stored twice (no dictionary): equal, though their views differ.
        let metric = StringChunked::new(
            "metric".into(),
            [long, long, other, other, "short", "short", "short", "short"],
        );
        let pod = StringChunked::new(
            "pod".into(),
            [None, None, None, None, None, Some(""), Some(""), None],
        );
        assert_eq!(run_starts(&[&metric, &pod], 8), vec![0, 2, 4, 5, 7]);
        assert_eq!(run_starts(&[&metric], 8), vec![0, 2, 4]);
        // A second chunk starts a run (at worst a split run), never hides a change.
        let mut two = StringChunked::new("m".into(), ["x", "x"]);
        two.append(&StringChunked::new("m".into(), ["x", "y"]))
            .unwrap();
        assert_eq!(run_starts(&[&two], 4), vec![0, 2, 3]);
        assert!(run_starts(&[&two], 0).is_empty());
    }

    #[test]
    fn proxies_are_sidecars_and_the_workload_is_the_app() {
        assert_eq!(normalize_container(None, "api"), "app");
        assert_eq!(normalize_container(Some("istio-proxy"), "api"), "sidecar");
        assert_eq!(normalize_container(Some("Envoy"), "api"), "sidecar");
        assert_eq!(normalize_container(Some("api"), "api"), "app");
        assert_eq!(
            normalize_container(Some("log-shipper"), "api"),
            "log-shipper"
        );
    }
}

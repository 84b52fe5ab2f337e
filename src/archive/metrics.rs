//! Reads `metrics/*.parquet` into raw series: each file read whole (projected columns), rows
//! grouped per series in runs of equal keys, the window applied and missing samples dropped,
//! then aliases and units applied per series and the files merged.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use polars::prelude::*;

use super::columns::{self, Frame};
use crate::error::Error;
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
    for path in &files {
        let checked = columns::check(path, &["entity", "metric"], &["value"])?;
        let optional = ["pod", "node", "container", "target", "source", "unit"];
        let frame = columns::read(&checked, &["entity", "metric", "value"], &optional)?;
        let window = from_ms..to_ms;
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

/// The multiply-rotate hash of rustc and Firefox ("FxHash"): a row's key is seven short
/// strings hashed once per row, where std's DoS-resistant SipHash cost more than decoding the
/// file. Keys come from the archive being read, so there is no attacker to resist.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Where a new run of rows begins: row 0 and every row whose key columns (and node) differ from
/// the previous row's. Compared column-wise by polars on the string views, which costs a few
/// ms per 100 k rows where reading every row's seven strings in Rust cost ~20 ms.
fn run_starts(cols: &[&StringChunked], height: usize) -> Vec<usize> {
    if height == 0 {
        return Vec::new();
    }
    let mut changed: Option<BooleanChunked> = None;
    for ca in cols {
        let ne = ca
            .slice(1, height - 1)
            .not_equal_missing(&ca.slice(0, height - 1));
        changed = Some(match changed {
            Some(acc) => &acc | &ne,
            None => ne,
        });
    }
    let mut starts = vec![0];
    if let Some(c) = changed {
        starts.extend(
            c.iter()
                .enumerate()
                .filter_map(|(i, v)| (v == Some(true)).then_some(i + 1)),
        );
    }
    starts
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
    let values: Vec<f64> = frame
        .float("value")
        .map_err(&err)?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect();
    let present: Vec<&StringChunked> = key_cols.iter().chain([&nodes]).flatten().collect();
    let starts = run_starts(&present, frame.height);
    // Slot per distinct raw key: its row ranges and the largest node name seen for it.
    type Slot<'a> = (RawKey<'a>, Vec<std::ops::Range<usize>>, Option<&'a str>);
    let mut slot_of: HashMap<RawKey<'_>, usize, BuildHasherDefault<FxHasher>> = HashMap::default();
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
    for (raw, runs, node) in slots {
        let kept: Vec<(i64, f64)> = runs
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let t = frame.ts[i].filter(|t| window.contains(t))?;
                (!values[i].is_nan()).then_some((t, values[i]))
            })
            .collect();
        let (Some(entity), Some(raw_metric), false) = (raw[0], raw[1], kept.is_empty()) else {
            continue;
        };
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
        let entry = groups.entry(key).or_default();
        rows += kept.len();
        for (t, v) in kept {
            entry.0.push(t);
            entry.1.push(v * factor);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::normalize_container;

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

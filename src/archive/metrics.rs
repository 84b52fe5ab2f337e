//! Reads `metrics/*.parquet` into raw series: one polars query per file (the time window pushed
//! down, missing samples dropped, rows grouped per series), then aliases and units applied per
//! series and the files merged.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use super::columns::{self, Checked};
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
        let df = query(&checked, path, from_ms, to_ms)?
            .collect()
            .map_err(|e| Error::Parquet {
                path: path.clone(),
                message: columns::first_line(&e.to_string()),
            })?;
        set.rows +=
            merge_file(&df, path, aliases, &mut groups, &mut set.pod_nodes).map_err(|e| {
                Error::Parquet {
                    path: path.clone(),
                    message: columns::first_line(&e.to_string()),
                }
            })??;
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

fn query(c: &Checked, path: &Path, from_ms: i64, to_ms: i64) -> Result<LazyFrame, Error> {
    let mut sel = vec![
        c.ts.to_ms().alias("ts"),
        columns::text("entity"),
        columns::text("metric"),
        col("value").cast(DataType::Float64),
    ];
    for name in ["pod", "node", "container", "target", "source", "unit"] {
        sel.push(columns::optional_text(c, path, name)?);
    }
    let keys: Vec<Expr> = KEYS.iter().map(|k| col(*k)).collect();
    Ok(c.lf
        .clone()
        .filter(c.ts.between(from_ms, to_ms))
        .select(sel)
        .filter(col("value").is_not_null().and(col("value").is_not_nan()))
        .group_by(keys)
        .agg([col("ts"), col("value"), col("node").drop_nulls().max()]))
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

/// Moves one file's groups into `groups`; returns the sample count. The outer error is polars',
/// the inner one a bad unit.
fn merge_file(
    df: &DataFrame,
    path: &Path,
    aliases: &BTreeMap<String, ResolvedAlias>,
    groups: &mut Groups,
    pod_nodes: &mut BTreeMap<String, String>,
) -> PolarsResult<Result<usize, Error>> {
    let cols: Vec<Vec<Option<String>>> = KEYS
        .iter()
        .map(|k| columns::strings(df, k))
        .collect::<PolarsResult<_>>()?;
    let nodes = columns::strings(df, "node")?;
    let ts_lists = df.column("ts")?.list()?;
    let val_lists = df.column("value")?.list()?;
    let mut rows = 0;
    for i in 0..df.height() {
        let get = |c: usize| cols[c][i].clone();
        let (Some(entity), Some(raw_metric)) = (get(0), get(1)) else {
            continue;
        };
        let (metric, mut factor) = match aliases.get(&raw_metric) {
            Some(a) => (a.metric.clone(), a.factor),
            None => (raw_metric, 1.0),
        };
        if let Some(unit) = get(6) {
            match vocab::unit_factor(&metric, &unit) {
                Ok(f) => factor *= f,
                Err(message) => {
                    return Ok(Err(Error::Column {
                        path: path.to_path_buf(),
                        column: "unit".into(),
                        message,
                    }));
                }
            }
        }
        let container = normalize_container(get(3).as_deref(), &entity);
        let key = SeriesKey {
            container,
            entity,
            metric,
            pod: get(2),
            target: get(4),
            source: get(5),
        };
        if let (Some(pod), Some(node)) = (&key.pod, &nodes[i]) {
            pod_nodes
                .entry(pod.clone())
                .or_insert_with(|| node.strip_prefix("node:").unwrap_or(node).to_string());
        }
        let (Some(ts), Some(vs)) = (ts_lists.get_as_series(i), val_lists.get_as_series(i)) else {
            continue;
        };
        let entry = groups.entry(key).or_default();
        entry
            .0
            .extend(ts.i64()?.iter().map(|t| t.unwrap_or(i64::MIN)));
        entry
            .1
            .extend(vs.f64()?.iter().map(|v| v.unwrap_or(f64::NAN) * factor));
        rows += ts.len();
    }
    Ok(Ok(rows))
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

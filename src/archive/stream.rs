//! Writes metric series to Parquet in bounded batches: the same file `write_metrics` writes
//! for the same rows (sorted by series key, then time; optional columns only when set), without
//! holding a row per sample. Exporters that keep series compactly (`export`) write through it:
//! a 300-service cluster's 20 M+ samples would take gigabytes as `MetricRow`s.

use std::fs;
use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use crate::error::Error;

/// Rows per batch (a Parquet row group): bounds the memory of the columns being written.
const BATCH_ROWS: usize = 1 << 20;

/// One metric series: its key columns and its points `(epoch ms, value)` in time order.
#[derive(Debug, Clone, Copy)]
pub struct SeriesRef<'a> {
    /// Entity id.
    pub entity: &'a str,
    /// Metric name.
    pub metric: &'a str,
    /// Pod.
    pub pod: Option<&'a str>,
    /// Node hosting the pod.
    pub node: Option<&'a str>,
    /// Container.
    pub container: Option<&'a str>,
    /// Dependency called.
    pub target: Option<&'a str>,
    /// Collector.
    pub source: Option<&'a str>,
    /// Points in time order; NaN is a missing sample.
    pub points: &'a [(i64, f64)],
}

type Field = for<'a> fn(&SeriesRef<'a>) -> Option<&'a str>;
type Required = for<'a> fn(&SeriesRef<'a>) -> &'a str;

const OPTIONAL: [(&str, Field); 5] = [
    ("pod", |s| s.pod),
    ("node", |s| s.node),
    ("container", |s| s.container),
    ("target", |s| s.target),
    ("source", |s| s.source),
];

fn polars_err(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `series` to one Parquet file, sorted by (entity, metric, pod, container, target,
/// source) and time, in row groups of at most [`BATCH_ROWS`] rows.
///
/// # Errors
/// The file cannot be written.
pub fn write_metric_series(path: &Path, series: &mut [SeriesRef<'_>]) -> Result<(), Error> {
    series.sort_by(|a, b| {
        (a.entity, a.metric, a.pod, a.container, a.target, a.source).cmp(&(
            b.entity,
            b.metric,
            b.pod,
            b.container,
            b.target,
            b.source,
        ))
    });
    let present: Vec<(&str, Field)> = OPTIONAL
        .into_iter()
        .filter(|(_, f)| {
            series
                .iter()
                .any(|s| f(s).is_some() && !s.points.is_empty())
        })
        .collect();
    let file = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut writer = None;
    let mut from = 0;
    while from < series.len() {
        let mut to = from;
        let mut rows = 0;
        while to < series.len() && (rows == 0 || rows + series[to].points.len() <= BATCH_ROWS) {
            rows += series[to].points.len();
            to += 1;
        }
        let df = batch(&series[from..to], rows, &present, path)?;
        from = to;
        if rows == 0 {
            continue;
        }
        if writer.is_none() {
            let w = ParquetWriter::new(&mut out)
                .with_compression(ParquetCompression::Zstd(None))
                .with_statistics(StatisticsOptions::full())
                .batched(df.schema())
                .map_err(polars_err(path))?;
            writer = Some(w);
        }
        if let Some(w) = writer.as_mut() {
            w.write_batch(&df).map_err(polars_err(path))?;
        }
    }
    if let Some(w) = writer {
        w.finish().map_err(polars_err(path))?;
    }
    out.flush().map_err(|e| Error::io(path, e))
}

/// The rows of `series` as one frame of `rows` rows.
fn batch(
    series: &[SeriesRef<'_>],
    rows: usize,
    present: &[(&str, Field)],
    path: &Path,
) -> Result<DataFrame, Error> {
    let each = |f: &Field| {
        let mut v: Vec<Option<&str>> = Vec::with_capacity(rows);
        for s in series {
            v.extend(std::iter::repeat_n(f(s), s.points.len()));
        }
        v
    };
    let ts: Vec<i64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let value: Vec<Option<f64>> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| (!p.1.is_nan()).then_some(p.1)))
        .collect();
    let required = |f: Required| {
        let mut v: Vec<&str> = Vec::with_capacity(rows);
        for s in series {
            v.extend(std::iter::repeat_n(f(s), s.points.len()));
        }
        v
    };
    let mut columns = vec![
        Int64Chunked::from_vec("ts".into(), ts)
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_series()
            .into_column(),
        Column::new("entity".into(), required(|s| s.entity)),
        Column::new("metric".into(), required(|s| s.metric)),
        Column::new("value".into(), value),
    ];
    for (name, f) in present {
        columns.push(Column::new((*name).into(), each(f)));
    }
    DataFrame::new(rows, columns).map_err(polars_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MetricRow;

    #[test]
    fn batched_series_read_back_as_the_rows_write_metrics_writes() {
        let dir = tempfile::tempdir().unwrap();
        let p1 = [(1000, 1.0), (2000, 2.0)];
        let p2 = [(1000, 5.0)];
        let mut s = vec![
            SeriesRef {
                entity: "b",
                metric: "m",
                pod: Some("b-1"),
                node: Some("n1"),
                container: None,
                target: None,
                source: Some("istio"),
                points: &p1,
            },
            SeriesRef {
                entity: "a",
                metric: "m",
                pod: None,
                node: None,
                container: None,
                target: None,
                source: Some("istio"),
                points: &p2,
            },
        ];
        let a = dir.path().join("a.parquet");
        write_metric_series(&a, &mut s).unwrap();
        let rows: Vec<MetricRow> = s
            .iter()
            .flat_map(|s| {
                s.points.iter().map(|&(t, v)| MetricRow {
                    pod: s.pod.map(Into::into),
                    node: s.node.map(Into::into),
                    source: s.source.map(Into::into),
                    ..MetricRow::new(t, s.entity, s.metric, v)
                })
            })
            .collect();
        let b = dir.path().join("b.parquet");
        super::super::write_metrics(&b, &rows).unwrap();
        let read = |p: &Path| {
            ParquetReader::new(fs::File::open(p).unwrap())
                .finish()
                .unwrap()
        };
        assert!(
            read(&a).equals_missing(&read(&b)),
            "{}\n{}",
            read(&a),
            read(&b)
        );
    }
}

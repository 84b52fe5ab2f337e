//! Writes an in-memory archive (`model::ArchiveData`) as archive format v1: incident.toml,
//! `metrics/*.parquet`, `logs/logs.parquet`, `events/events.parquet`. Used by `simulate`,
//! `import` and tests. Rows are sorted first so the same data always gives the same bytes.

use std::borrow::Borrow;
use std::fs;
use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use crate::error::Error;
use crate::hashing::FastMap;
use crate::model::{ArchiveData, EntityKind, MetricRow};

/// Data page size of log files that carry templates. On Nezha, 64 KiB pages made files 2.1×
/// the size of 1 MiB ones for no faster analysis; 256 KiB gave 1.4× and the fastest reads.
const LOG_PAGE_BYTES: usize = 256 * 1024;

fn opt(name: &str, v: Vec<Option<&str>>) -> Column {
    Column::new(name.into(), v)
}

fn ts_col(ts: Vec<i64>) -> Column {
    Int64Chunked::from_vec("ts".into(), ts)
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_series()
        .into_column()
}

/// Writes `df` to a new file at `path` as zstd Parquet with full statistics, the encoding of
/// archives and mined tables, through a buffer: polars writes each page piece straight to its
/// writer, thousands of small writes per file without one. The caller names its errors.
pub(crate) fn write_parquet<E>(
    path: &Path,
    df: &mut DataFrame,
    polars_err: impl FnOnce(PolarsError) -> E,
    io_err: impl Fn(std::io::Error) -> E,
) -> Result<(), E> {
    write_parquet_paged(path, df, None, polars_err, io_err)
}

/// [`write_parquet`] with a data page size limit in bytes (`None`: polars' default).
fn write_parquet_paged<E>(
    path: &Path,
    df: &mut DataFrame,
    page_bytes: Option<usize>,
    polars_err: impl FnOnce(PolarsError) -> E,
    io_err: impl Fn(std::io::Error) -> E,
) -> Result<(), E> {
    let file = fs::File::create(path).map_err(&io_err)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .with_data_page_size(page_bytes)
        .finish(df)
        .map_err(polars_err)?;
    out.flush().map_err(io_err)
}

/// Writes `df` with data pages of at most `page_bytes` (`None`: polars' default).
fn write_df(path: &Path, mut df: DataFrame, page_bytes: Option<usize>) -> Result<(), Error> {
    write_parquet_paged(
        path,
        &mut df,
        page_bytes,
        |e| Error::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
        |e| Error::io(path, e),
    )
}

fn frame(height: usize, columns: Vec<Column>, path: &Path) -> Result<DataFrame, Error> {
    DataFrame::new(height, columns).map_err(|e| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Writes metric rows to one Parquet file (sorted by series then time).
///
/// # Errors
/// The file cannot be written.
pub fn write_metrics<R: Borrow<MetricRow>>(path: &Path, rows: &[R]) -> Result<(), Error> {
    let rows: Vec<&MetricRow> = rows.iter().map(Borrow::borrow).collect();
    let idx = sorted_by_series(&rows);
    let s = |f: fn(&MetricRow) -> Option<&str>| idx.iter().map(|r| f(r)).collect::<Vec<_>>();
    let mut columns = vec![
        ts_col(idx.iter().map(|r| r.ts_ms).collect()),
        Column::new(
            "entity".into(),
            idx.iter().map(|r| r.entity.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "metric".into(),
            idx.iter().map(|r| r.metric.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            idx.iter()
                .map(|r| {
                    if r.value.is_nan() {
                        None
                    } else {
                        Some(r.value)
                    }
                })
                .collect::<Vec<_>>(),
        ),
    ];
    // An optional column with no value is left out (the format allows it): readers would
    // otherwise decode a null per row, for each of them.
    type Field = fn(&MetricRow) -> Option<&str>;
    let optional: [(&str, Field); 5] = [
        ("pod", |r| r.pod.as_deref()),
        ("node", |r| r.node.as_deref()),
        ("container", |r| r.container.as_deref()),
        ("target", |r| r.target.as_deref()),
        ("source", |r| r.source.as_deref()),
    ];
    for (name, f) in optional {
        if idx.iter().any(|r| f(r).is_some()) {
            columns.push(opt(name, s(f)));
        }
    }
    write_df(path, frame(idx.len(), columns, path)?, None)
}

/// A metric row's series key, in the order the file is sorted by.
type SeriesKeyRef<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn series_key(r: &MetricRow) -> SeriesKeyRef<'_> {
    (
        &r.entity,
        &r.metric,
        r.pod.as_deref(),
        r.container.as_deref(),
        r.target.as_deref(),
        r.source.as_deref(),
    )
}

/// `rows` sorted by series key, then time. Sorting rows by their six key strings compared
/// those strings ~17 times per row; ranking the few distinct keys once and sorting by
/// (rank, time) gives the same order.
fn sorted_by_series<'r>(rows: &[&'r MetricRow]) -> Vec<&'r MetricRow> {
    let mut id_of: FastMap<SeriesKeyRef<'_>, u32> = FastMap::default();
    // Importers emit a series' rows together: most rows have the key of the row before.
    let mut last: Option<(SeriesKeyRef<'_>, u32)> = None;
    let ids: Vec<u32> = rows
        .iter()
        .map(|r| {
            let k = series_key(r);
            match last {
                Some((lk, id)) if lk == k => id,
                _ => {
                    let n = id_of.len() as u32;
                    let id = *id_of.entry(k).or_insert(n);
                    last = Some((k, id));
                    id
                }
            }
        })
        .collect();
    let mut keys: Vec<(SeriesKeyRef<'_>, u32)> = id_of.into_iter().collect();
    keys.sort_unstable();
    let mut rank = vec![0u32; keys.len()];
    for (r, (_, id)) in keys.iter().enumerate() {
        rank[*id as usize] = r as u32;
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| (rank[ids[i] as usize], rows[i].ts_ms));
    order.iter().map(|&i| rows[i]).collect()
}

/// What an archive folder holds; an existing one holding anything else is not replaced.
pub const ENTRIES: [&str; 4] = ["incident.toml", "metrics", "logs", "events"];

/// Writes a whole archive into `dir`, atomically: written beside `dir`, then renamed onto it,
/// replacing an existing archive whole (see [`crate::output`]).
///
/// # Errors
/// `dir` holds files an archive does not, or any file cannot be written.
pub fn write(data: &ArchiveData, dir: &Path) -> Result<(), Error> {
    crate::output::check_owned(dir, &ENTRIES).map_err(|e| Error::io(dir, e))?;
    let staged = crate::output::Staged::dir(dir).map_err(|e| Error::io(dir, e))?;
    write_into(data, staged.path())?;
    staged.commit().map_err(|e| Error::io(dir, e))
}

fn write_into(data: &ArchiveData, dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir.join("metrics")).map_err(|e| Error::io(dir, e))?;
    let toml_path = dir.join("incident.toml");
    let text = data
        .spec
        .to_toml()
        .map_err(|m| Error::input(&toml_path, m))?;
    fs::write(&toml_path, text).map_err(|e| Error::io(&toml_path, e))?;

    // Split as exporters do (one file per kind of source), so readers meet a multi-file table.
    let (services, infra): (Vec<&MetricRow>, Vec<&MetricRow>) = data
        .metrics
        .iter()
        .partition(|r| EntityKind::of(&r.entity) == EntityKind::Service);
    for (name, rows) in [
        ("services.parquet", services),
        ("infrastructure.parquet", infra),
    ] {
        if !rows.is_empty() {
            write_metrics(&dir.join("metrics").join(name), &rows)?;
        }
    }
    if !data.logs.is_empty() {
        fs::create_dir_all(dir.join("logs")).map_err(|e| Error::io(dir, e))?;
        let path = dir.join("logs").join("logs.parquet");
        let mut logs: Vec<_> = data.logs.iter().collect();
        logs.sort_by(|a, b| {
            (a.ts_ms, &a.entity, &a.pod, &a.message).cmp(&(b.ts_ms, &b.entity, &b.pod, &b.message))
        });
        let mut columns = vec![
            ts_col(logs.iter().map(|r| r.ts_ms).collect()),
            Column::new(
                "entity".into(),
                logs.iter().map(|r| r.entity.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "message".into(),
                logs.iter().map(|r| r.message.as_str()).collect::<Vec<_>>(),
            ),
            opt("pod", logs.iter().map(|r| r.pod.as_deref()).collect()),
            opt("node", logs.iter().map(|r| r.node.as_deref()).collect()),
            opt("level", logs.iter().map(|r| r.level.as_deref()).collect()),
        ];
        // Templates are all or nothing: a file with some would be mined whole anyway. With
        // them, the analysis reads back only the messages it quotes, each costing the page it
        // sits in: pages of ~450 lines keep that a fraction of a millisecond.
        let mut page_bytes = None;
        if logs.iter().all(|r| r.template.is_some()) {
            columns.push(opt(
                "template",
                logs.iter().map(|r| r.template.as_deref()).collect(),
            ));
            page_bytes = Some(LOG_PAGE_BYTES);
        }
        write_df(&path, frame(logs.len(), columns, &path)?, page_bytes)?;
    }
    if !data.events.is_empty() {
        fs::create_dir_all(dir.join("events")).map_err(|e| Error::io(dir, e))?;
        let path = dir.join("events").join("events.parquet");
        let mut ev: Vec<_> = data.events.iter().collect();
        ev.sort_by(|a, b| (a.ts_ms, &a.entity, &a.kind).cmp(&(b.ts_ms, &b.entity, &b.kind)));
        let columns = vec![
            ts_col(ev.iter().map(|r| r.ts_ms).collect()),
            Column::new(
                "entity".into(),
                ev.iter().map(|r| r.entity.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "kind".into(),
                ev.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
            ),
            opt("detail", ev.iter().map(|r| r.detail.as_deref()).collect()),
        ];
        write_df(&path, frame(ev.len(), columns, &path)?, None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_columns_without_values_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        let mut rows = vec![
            MetricRow::new(2_000, "api", "cpu_cores", 1.0),
            MetricRow::new(1_000, "api", "cpu_cores", f64::NAN),
        ];
        write_metrics(&path, &rows).unwrap();
        let names = |p: &Path| {
            let mut r = ParquetReader::new(fs::File::open(p).unwrap());
            let schema = r.schema().unwrap();
            schema
                .iter_names()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&path), ["ts", "entity", "metric", "value"]);
        rows[0].pod = Some("api-1".into());
        write_metrics(&path, &rows).unwrap();
        assert_eq!(names(&path), ["ts", "entity", "metric", "value", "pod"]);
        let df = ParquetReader::new(fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        // Sorted by series, then time; a NaN is written as null.
        let pods: Vec<Option<&str>> = df.column("pod").unwrap().str().unwrap().iter().collect();
        assert_eq!(pods, [None, Some("api-1")]);
        assert_eq!(df.column("value").unwrap().null_count(), 1);
    }
}

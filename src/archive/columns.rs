//! Per-file schema checks and the expressions that normalise one Parquet file to the canonical
//! column types: `ts` as Int64 epoch ms, strings as String, `value` as Float64.
//!
//! Files under one folder form one table however they are split, and each may encode a column
//! differently (Timestamp(us) here, Int64 ms there), so every file is checked on its own and the
//! error names that file.

use std::path::Path;

use polars::prelude::*;

use super::decode;
use crate::error::Error;

/// A checked file: its schema is known to hold every required column with an accepted type.
/// It keeps the open reader, whose footer is already parsed, for [`read`].
pub(crate) struct Checked {
    pub(crate) path: std::path::PathBuf,
    pub(crate) schema: Schema,
    pub(super) reader: ParquetReader<std::fs::File>,
}

/// Turns a polars error on `path` into ours, keeping its first line.
pub(crate) fn parquet_err(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::Parquet {
        path: path.to_path_buf(),
        message: first_line(&e.to_string()),
    }
}

/// Opens a Parquet file and reads its schema from the footer; a corrupt or truncated file
/// fails here. The reader keeps the parsed footer for the read that follows.
fn open(path: &Path) -> Result<(ParquetReader<std::fs::File>, Schema), Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    // Converting the schema panics on Arrow types polars lacks (Float16), not only decoding.
    let schema = super::guard::decode(path, || {
        let arrow = reader.schema().map_err(parquet_err(path))?;
        Ok(Schema::from_arrow_schema(&arrow))
    })?;
    Ok((reader, schema))
}

/// Opens a file and checks the required columns: `ts` plus `required` strings and numbers.
pub(crate) fn check(
    path: &Path,
    required_str: &[&str],
    required_num: &[&str],
) -> Result<Checked, Error> {
    let (reader, schema) = open(path)?;
    let col_err = |column: &str, message: String| Error::Column {
        path: path.to_path_buf(),
        column: column.into(),
        message,
    };
    match schema.get("ts") {
        None => {
            return Err(col_err(
                "ts",
                "missing required column (expected a Timestamp or Int64 epoch milliseconds)".into(),
            ));
        }
        Some(
            DataType::Datetime(_, _)
            | DataType::Int64
            | DataType::Int32
            | DataType::UInt64
            | DataType::UInt32,
        ) => {}
        Some(other) => {
            return Err(col_err(
                "ts",
                format!("has type {other}, expected a Timestamp or Int64 epoch milliseconds"),
            ));
        }
    }
    for c in required_str {
        match schema.get(c) {
            None => {
                return Err(col_err(
                    c,
                    "missing required column (expected Utf8 text)".into(),
                ));
            }
            Some(dt) if is_text(dt) => {}
            Some(other) => return Err(col_err(c, format!("has type {other}, expected Utf8 text"))),
        }
    }
    for c in required_num {
        match schema.get(c) {
            None => {
                return Err(col_err(
                    c,
                    "missing required column (expected a float or integer)".into(),
                ));
            }
            Some(dt) if dt.is_primitive_numeric() || dt.is_null() => {}
            Some(other) => {
                return Err(col_err(
                    c,
                    format!("has type {other}, expected a float or integer (Float64)"),
                ));
            }
        }
    }
    Ok(Checked {
        path: path.to_path_buf(),
        schema,
        reader,
    })
}

fn is_text(dt: &DataType) -> bool {
    matches!(dt, DataType::String | DataType::Null) || dt.is_categorical() || dt.is_enum()
}

/// One file read whole, with every column the caller asked for in its canonical type.
///
/// Read eagerly with `ParquetReader` rather than through a lazy scan: archives are read whole
/// (the windows span the export), and for the many small files of bulk mining the query
/// planner cost more than decoding. Rows are not filtered here; callers keep what their
/// windows need.
pub(crate) struct Frame {
    /// Rows read.
    pub(crate) height: usize,
    /// `ts` in epoch ms (null stays null).
    pub(crate) ts: Vec<Option<i64>>,
    df: DataFrame,
}

impl Frame {
    pub(super) fn new(df: DataFrame, ts: Vec<Option<i64>>) -> Frame {
        Frame {
            height: df.height(),
            ts,
            df,
        }
    }

    /// A text column as String, or `None` when the file lacks it.
    pub(crate) fn text(&self, name: &str) -> PolarsResult<Option<StringChunked>> {
        let Some(c) = self.df.column(name).ok() else {
            return Ok(None);
        };
        let s = c.as_materialized_series().cast(&DataType::String)?;
        Ok(Some(s.str()?.rechunk().into_owned()))
    }

    /// A text column as per-row codes and distinct values, or `None` when the file lacks it.
    pub(crate) fn codes(&self, name: &str) -> PolarsResult<Option<super::keys::Codes>> {
        self.df
            .column(name)
            .ok()
            .map(super::keys::codes)
            .transpose()
    }

    /// An integer column as Int64 (exact, unlike [`Frame::float`] for epoch nanoseconds).
    pub(crate) fn int(&self, name: &str) -> PolarsResult<Int64Chunked> {
        let s = self
            .df
            .column(name)?
            .as_materialized_series()
            .cast(&DataType::Int64)?;
        Ok(s.i64()?.rechunk().into_owned())
    }

    /// A numeric column as Float64.
    pub(crate) fn float(&self, name: &str) -> PolarsResult<Float64Chunked> {
        let s = self
            .df
            .column(name)?
            .as_materialized_series()
            .cast(&DataType::Float64)?;
        Ok(s.f64()?.rechunk().into_owned())
    }
}

/// Reads `ts` plus those of `columns` and `optional_text` the file has (`columns` were checked
/// by `check`; `optional_text` are checked here).
///
/// # Errors
/// A file that fails to decode, or an optional text column of another type.
pub(crate) fn read(c: Checked, columns: &[&str], optional_text: &[&str]) -> Result<Frame, Error> {
    let mut frames = Vec::with_capacity(1);
    let wanted = wanted(&c, columns, optional_text)?;
    let path = c.path.clone();
    decode::read_in(c, wanted, ParallelStrategy::None, usize::MAX, |f| {
        frames.push(f);
        Ok(())
    })?;
    // A file read whole is one part; an empty list would be a decoder that handed back nothing.
    frames
        .pop()
        .ok_or_else(|| Error::input(&path, "the Parquet decoder returned nothing for this file"))
}

/// Rows per part when a large file is read in parts: string views cost 16 bytes per row and
/// column, so a 20 M-row file read whole would take gigabytes.
const PART_ROWS: usize = 1 << 21;

/// Like [`read`], one part of whole row groups (up to [`PART_ROWS`] rows, or one row group) at a
/// time, handing each frame to `each` in row order. `parallel` lets polars decode a part's
/// columns on its own threads, for callers reading a single file.
///
/// # Errors
/// As [`read`], and whatever `each` returns.
pub(crate) fn read_parts(
    c: Checked,
    columns: &[&str],
    optional_text: &[&str],
    parallel: bool,
    each: impl FnMut(Frame) -> Result<(), Error>,
) -> Result<(), Error> {
    // A lone file's next part is decoded while its last one is grouped (see
    // `metrics::pipelined`): two parts are held, so they are half the size.
    let (strategy, rows) = if parallel {
        (ParallelStrategy::Auto, PART_ROWS / 2)
    } else {
        (ParallelStrategy::None, PART_ROWS)
    };
    let wanted = wanted(&c, columns, optional_text)?;
    decode::read_in(c, wanted, strategy, rows, each)
}

/// The columns to read: `ts`, then those of `columns` and `optional_text` the file has; an
/// optional text column of another type is an error naming it.
fn wanted(c: &Checked, columns: &[&str], optional_text: &[&str]) -> Result<Vec<String>, Error> {
    for name in optional_text {
        if let Some(dt) = c.schema.get(name).filter(|dt| !is_text(dt)) {
            return Err(Error::Column {
                path: c.path.clone(),
                column: (*name).into(),
                message: format!("has type {dt}, expected Utf8 text"),
            });
        }
    }
    Ok(std::iter::once("ts")
        .chain(columns.iter().copied())
        .chain(optional_text.iter().copied())
        .filter(|n| c.schema.get(n).is_some())
        .map(str::to_string)
        .collect())
}

/// A file opened with its footer parsed once, for reading many small slices of it: each slice
/// costs the pages it touches (polars maps the file), not another footer parse.
pub(crate) struct Slicer {
    path: std::path::PathBuf,
    file: std::fs::File,
    metadata: polars::io::parquet::metadata::FileMetadataRef,
}

impl Slicer {
    /// Opens `path` and parses its footer.
    ///
    /// # Errors
    /// The file cannot be opened or is not Parquet.
    pub(crate) fn open(path: &Path) -> Result<Slicer, Error> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let handle = file.try_clone().map_err(|e| Error::io(path, e))?;
        let mut reader = ParquetReader::new(handle);
        let metadata = super::guard::decode(path, || {
            Ok(reader.get_metadata().map_err(parquet_err(path))?.clone())
        })?;
        super::pages::check(path, &metadata)?;
        Ok(Slicer {
            path: path.to_path_buf(),
            file,
            metadata,
        })
    }

    /// Rows `offset..offset + len` of text column `name`. Parquet pages outside the slice are
    /// skipped undecoded.
    ///
    /// # Errors
    /// The column is missing or not text, or fails to decode.
    pub(crate) fn text(
        &self,
        name: &str,
        offset: usize,
        len: usize,
    ) -> Result<Vec<Option<String>>, Error> {
        let err = parquet_err(&self.path);
        let handle = self
            .file
            .try_clone()
            .map_err(|e| Error::io(&self.path, e))?;
        let mut reader = ParquetReader::new(handle);
        reader.set_metadata(self.metadata.clone());
        let df = super::guard::decode(&self.path, || {
            reader
                .with_columns(Some(vec![name.to_string()]))
                .with_slice(Some((offset, len)))
                .read_parallel(ParallelStrategy::None)
                .finish()
                .map_err(&err)
        })?;
        let s = df
            .column(name)
            .and_then(|c| c.as_materialized_series().cast(&DataType::String))
            .map_err(&err)?;
        Ok(s.str()
            .map_err(&err)?
            .iter()
            .map(|o| o.map(str::to_owned))
            .collect())
    }
}

pub(crate) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// The `*.parquet` files of a folder, sorted by name so every run reads them in the same order.
pub(crate) fn parquet_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files = Vec::new();
    for entry in rd {
        let p = entry.map_err(|e| Error::io(dir, e))?.path();
        if p.extension().is_none_or(|x| x != "parquet") {
            continue;
        }
        // A `*.parquet` that is not a readable file (a folder, a dangling symlink, a symlink
        // loop) is an export gone wrong: skipping it would analyse half the data silently.
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() => files.push(p),
            Ok(_) => {
                return Err(Error::input(
                    &p,
                    "is not a file (expected a Parquet file here)",
                ));
            }
            Err(e) => return Err(Error::io(&p, e)),
        }
    }
    files.sort();
    Ok(files)
}

/// A text column of a frame as owned optional strings; all `None` when the file lacks it.
pub(crate) fn strings(frame: &Frame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(match frame.text(name)? {
        Some(ca) => ca.iter().map(|o| o.map(str::to_owned)).collect(),
        None => vec![None; frame.height],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, ts: Column) {
        let n = ts.len();
        let mut df = DataFrame::new(
            n,
            vec![
                ts,
                Column::new("entity".into(), vec!["api"; n]),
                Column::new("metric".into(), vec!["cpu_usage"; n]),
                Column::new("value".into(), vec![1i32; n]),
            ],
        )
        .unwrap();
        let file = std::fs::File::create(path).unwrap();
        ParquetWriter::new(file).finish(&mut df).unwrap();
    }

    #[test]
    fn every_timestamp_encoding_reads_as_epoch_ms() {
        let dir = tempfile::tempdir().unwrap();
        let ms = [1_714_575_600_000i64, -1];
        let cases = [
            (TimeUnit::Nanoseconds, 1_000_000),
            (TimeUnit::Microseconds, 1_000),
            (TimeUnit::Milliseconds, 1),
        ];
        for (i, (unit, per_ms)) in cases.into_iter().enumerate() {
            let raw: Vec<i64> = ms.iter().map(|m| m * per_ms + per_ms / 2).collect();
            let ts = Column::new("ts".into(), raw)
                .cast(&DataType::Datetime(unit, None))
                .unwrap();
            let path = dir.path().join(format!("{i}.parquet"));
            write(&path, ts);
            let c = check(&path, &["entity"], &["value"]).unwrap();
            let f = read(c, &["entity", "value"], &["pod"]).unwrap();
            assert_eq!(f.ts, vec![Some(ms[0]), Some(ms[1])], "{unit:?}");
            assert_eq!(f.float("value").unwrap().get(0), Some(1.0));
            assert!(f.text("pod").unwrap().is_none());
        }
        let path = dir.path().join("int.parquet");
        write(&path, Column::new("ts".into(), ms.to_vec()));
        let c = check(&path, &["entity"], &["value"]).unwrap();
        assert_eq!(
            read(c, &[], &[]).unwrap().ts,
            vec![Some(ms[0]), Some(ms[1])]
        );
    }

    #[test]
    fn a_non_text_optional_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        write(&path, Column::new("ts".into(), vec![1i64]));
        let c = check(&path, &["entity"], &["value"]).unwrap();
        let Err(Error::Column {
            column, message, ..
        }) = read(c, &[], &["value"])
        else {
            panic!("expected a column error");
        };
        assert_eq!(column, "value");
        assert!(message.contains("expected Utf8 text"), "{message}");
    }
}

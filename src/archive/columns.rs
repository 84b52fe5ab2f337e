//! Per-file schema checks and the expressions that normalise one Parquet file to the canonical
//! column types: `ts` as Int64 epoch ms, strings as String, `value` as Float64.
//!
//! Files under one folder form one table however they are split, and each may encode a column
//! differently (Timestamp(us) here, Int64 ms there), so every file is checked on its own and the
//! error names that file.

use std::path::Path;

use polars::prelude::*;

use crate::error::Error;

/// How a file encodes the `ts` column.
#[derive(Debug, Clone)]
pub(crate) enum TsEncoding {
    /// A Timestamp of any unit; the dtype is kept to build typed literals for pushdown.
    Datetime(DataType),
    /// Integer epoch milliseconds.
    EpochMs,
}

impl TsEncoding {
    /// `ts` converted to Int64 epoch milliseconds.
    pub(crate) fn to_ms(&self) -> Expr {
        match self {
            TsEncoding::Datetime(_) => col("ts").dt().timestamp(TimeUnit::Milliseconds),
            TsEncoding::EpochMs => col("ts").cast(DataType::Int64),
        }
    }

    /// `from <= ts < to` on the raw column, so the scan can prune row groups by statistics.
    pub(crate) fn between(&self, from_ms: i64, to_ms: i64) -> Expr {
        let typed = |ms: i64| match self {
            TsEncoding::Datetime(dt @ DataType::Datetime(tu, _)) => {
                let v = match tu {
                    TimeUnit::Nanoseconds => ms.saturating_mul(1_000_000),
                    TimeUnit::Microseconds => ms.saturating_mul(1_000),
                    TimeUnit::Milliseconds => ms,
                };
                lit(v).cast(dt.clone())
            }
            TsEncoding::Datetime(dt) => lit(ms)
                .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
                .cast(dt.clone()),
            TsEncoding::EpochMs => lit(ms),
        };
        col("ts")
            .gt_eq(typed(from_ms))
            .and(col("ts").lt(typed(to_ms)))
    }
}

/// A checked file: its schema is known to hold every required column with an accepted type.
pub(crate) struct Checked {
    pub(crate) lf: LazyFrame,
    pub(crate) schema: SchemaRef,
    pub(crate) ts: TsEncoding,
}

/// Opens a Parquet file lazily and reads its schema; a corrupt or truncated file fails here.
pub(crate) fn open(path: &Path) -> Result<(LazyFrame, SchemaRef), Error> {
    let parquet_err = |e: PolarsError| Error::Parquet {
        path: path.to_path_buf(),
        message: first_line(&e.to_string()),
    };
    let Some(s) = path.to_str() else {
        return Err(Error::input(path, "path is not valid UTF-8"));
    };
    let mut lf = LazyFrame::scan_parquet(PlRefPath::new(s), ScanArgsParquet::default())
        .map_err(parquet_err)?;
    let schema = lf.collect_schema().map_err(parquet_err)?;
    Ok((lf, schema))
}

/// Opens a file and checks the required columns: `ts` plus `required` strings and numbers.
pub(crate) fn check(
    path: &Path,
    required_str: &[&str],
    required_num: &[&str],
) -> Result<Checked, Error> {
    let (lf, schema) = open(path)?;
    let col_err = |column: &str, message: String| Error::Column {
        path: path.to_path_buf(),
        column: column.into(),
        message,
    };
    let ts = match schema.get("ts") {
        None => {
            return Err(col_err(
                "ts",
                "missing required column (expected a Timestamp or Int64 epoch milliseconds)".into(),
            ));
        }
        Some(dt @ DataType::Datetime(_, _)) => TsEncoding::Datetime(dt.clone()),
        Some(DataType::Int64 | DataType::Int32 | DataType::UInt64 | DataType::UInt32) => {
            TsEncoding::EpochMs
        }
        Some(other) => {
            return Err(col_err(
                "ts",
                format!("has type {other}, expected a Timestamp or Int64 epoch milliseconds"),
            ));
        }
    };
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
    Ok(Checked { lf, schema, ts })
}

fn is_text(dt: &DataType) -> bool {
    matches!(dt, DataType::String | DataType::Null) || dt.is_categorical() || dt.is_enum()
}

/// An optional text column: cast to String, or a typed null when the file lacks it.
///
/// # Errors
/// The column exists with a non-text type.
pub(crate) fn optional_text(checked: &Checked, path: &Path, name: &str) -> Result<Expr, Error> {
    match checked.schema.get(name) {
        None => Ok(lit(NULL).cast(DataType::String).alias(name)),
        Some(dt) if is_text(dt) => Ok(col(name).cast(DataType::String)),
        Some(other) => Err(Error::Column {
            path: path.to_path_buf(),
            column: name.into(),
            message: format!("has type {other}, expected Utf8 text"),
        }),
    }
}

/// A required text column cast to String.
pub(crate) fn text(name: &str) -> Expr {
    col(name).cast(DataType::String)
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
        if p.is_file() && p.extension().is_some_and(|x| x == "parquet") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a String column of a collected frame as owned optional strings.
pub(crate) fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|o| o.map(str::to_owned))
        .collect())
}

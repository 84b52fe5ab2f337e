//! Decoding a checked Parquet file: in parts of whole row groups, dictionary text columns as
//! plain strings, `ts` as epoch milliseconds.

use std::path::Path;

use polars::prelude::*;

use super::columns::{Checked, Frame, parquet_err};
use crate::error::Error;

/// The Arrow schema pyarrow and polars store in the footer; it makes a dictionary column a
/// categorical.
const ARROW_SCHEMA_KEY: &str = "ARROW:schema";

/// Decodes `wanted` of a checked file, in parts of whole row groups of up to `max_rows` rows
/// (or one row group), handing each frame to `each` in row order.
///
/// # Errors
/// A file that fails to decode, and whatever `each` returns.
pub(super) fn read_in(
    c: Checked,
    wanted: Vec<String>,
    strategy: ParallelStrategy,
    max_rows: usize,
    mut each: impl FnMut(Frame) -> Result<(), Error>,
) -> Result<(), Error> {
    // polars imports a dictionary column as a categorical by looking every row's string up in
    // the global category map, which made pyarrow categoricals read ~2x slower than plain
    // strings. Read by its Parquet type alone, the same column decodes into string views over
    // its dictionary page; `keys` then codes each distinct view once. The Parquet schema keeps
    // every column's type and the timestamp unit (`ts_to_ms` takes the decoded one).
    let dictionary = wanted.iter().any(|n| {
        c.schema
            .get(n)
            .is_some_and(|dt| dt.is_categorical() || dt.is_enum())
    });
    let Checked {
        path, mut reader, ..
    } = c;
    let mut metadata = super::guard::decode(&path, || {
        Ok(reader.get_metadata().map_err(parquet_err(&path))?.clone())
    })?;
    super::pages::check(&path, &metadata)?;
    if dictionary {
        let mut plain = (*metadata).clone();
        if let Some(kv) = plain.key_value_metadata.as_mut() {
            kv.retain(|kv| kv.key != ARROW_SCHEMA_KEY);
        }
        metadata = std::sync::Arc::new(plain);
    }
    let parts = parts(metadata.row_groups.iter().map(|rg| rg.num_rows()), max_rows);
    if parts.len() <= 1 && !dictionary {
        return each(decode(reader, wanted, &path, strategy)?);
    }
    let single = parts.len() <= 1;
    let parts = if single {
        std::iter::once(0..metadata.row_groups.len()).collect()
    } else {
        parts
    };
    for groups in parts {
        // A part is a footer listing only its row groups, not a row slice: polars walks every
        // row group before a slice's start, which made files of small row groups slow.
        let footer = if single {
            metadata.clone()
        } else {
            let mut m = (*metadata).clone();
            m.row_groups = metadata.row_groups[groups].to_vec();
            m.num_rows = m.row_groups.iter().map(|rg| rg.num_rows()).sum();
            std::sync::Arc::new(m)
        };
        // A fresh reader: the checked one has the Arrow schema cached.
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut part = ParquetReader::new(file);
        part.set_metadata(footer);
        each(decode(part, wanted.clone(), &path, strategy)?)?;
    }
    Ok(())
}

/// Consecutive runs of row groups of up to `max` rows (a larger group makes a run of its own),
/// as ranges of row group indices.
fn parts(group_rows: impl Iterator<Item = usize>, max: usize) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    for (g, n) in group_rows.enumerate() {
        match out.last_mut() {
            Some((groups, rows)) if *rows + n <= max => {
                groups.end = g + 1;
                *rows += n;
            }
            _ => out.push((g..g + 1, n)),
        }
    }
    out.into_iter().map(|(groups, _)| groups).collect()
}

fn decode(
    reader: ParquetReader<std::fs::File>,
    wanted: Vec<String>,
    path: &Path,
    strategy: ParallelStrategy,
) -> Result<Frame, Error> {
    let df = super::guard::decode(path, || {
        reader
            .with_columns(Some(wanted))
            .read_parallel(strategy)
            .finish()
            .map_err(parquet_err(path))
    })?;
    same_lengths(&df, path)?;
    let ts = ts_to_ms(df.column("ts").map_err(parquet_err(path))?);
    Ok(Frame::new(df, ts.map_err(parquet_err(path))?))
}

/// A corrupt page can decode to fewer values than its row group claims without polars noticing,
/// leaving a frame whose columns are shorter than its height; every reader indexes columns by
/// row, so such a file is refused here, naming the short column.
fn same_lengths(df: &DataFrame, path: &Path) -> Result<(), Error> {
    let rows = df.height();
    match df.columns().iter().find(|c| c.len() != rows) {
        None => Ok(()),
        Some(short) => Err(Error::Column {
            path: path.to_path_buf(),
            column: short.name().to_string(),
            message: format!(
                "decodes to {} rows where the file claims {rows}: the file is corrupt",
                short.len()
            ),
        }),
    }
}

/// The decoded `ts` column as Int64 epoch milliseconds (floored, so instants before 1970 stay
/// in their own millisecond): a Timestamp of any unit, or integer epoch milliseconds. The unit
/// is the decoded column's, which is the Parquet type's when the Arrow schema was set aside.
fn ts_to_ms(ts: &Column) -> PolarsResult<Vec<Option<i64>>> {
    let divisor = match ts.dtype() {
        DataType::Datetime(TimeUnit::Nanoseconds, _) => 1_000_000,
        DataType::Datetime(TimeUnit::Microseconds, _) => 1_000,
        _ => 1,
    };
    let raw = ts
        .as_materialized_series()
        .to_physical_repr()
        .cast(&DataType::Int64)?;
    let raw = raw.i64()?;
    if raw.null_count() == 0 && divisor == 1 {
        // The common case, kept free of per-value branches.
        return Ok(raw.into_no_null_iter().map(Some).collect());
    }
    Ok(raw
        .iter()
        .map(|t| t.map(|t| t.div_euclid(divisor)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::columns::{check, read, strings};

    #[test]
    fn parts_are_runs_of_whole_row_groups() {
        let p = |g: &[usize]| parts(g.iter().copied(), 10);
        assert_eq!(p(&[4, 4, 4, 12, 3]), vec![0..2, 2..3, 3..4, 4..5]);
        assert_eq!(p(&[10]), vec![0..1]);
        assert!(p(&[]).is_empty());
    }

    #[test]
    fn dictionary_columns_read_as_their_strings_whatever_the_parts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dict.parquet");
        let names = ["api", "db", "api", "cache", "db"];
        let ns: Vec<i64> = (0..5)
            .map(|i| (1_714_575_600_000 + i) * 1_000_000)
            .collect();
        let ts = Column::new("ts".into(), ns)
            .cast(&DataType::Datetime(
                TimeUnit::Nanoseconds,
                Some(TimeZone::UTC),
            ))
            .unwrap();
        let entity = Column::new("entity".into(), names)
            .cast(&DataType::from_categories(Categories::global()))
            .unwrap();
        let value = Column::new("value".into(), vec![1.0f64; 5]);
        let mut df = DataFrame::new(5, vec![ts, entity, value]).unwrap();
        let file = std::fs::File::create(&path).unwrap();
        ParquetWriter::new(file)
            .with_row_group_size(Some(2))
            .finish(&mut df)
            .unwrap();
        let c = check(&path, &["entity"], &["value"]).unwrap();
        assert!(c.schema.get("entity").unwrap().is_categorical());
        let f = read(c, &["entity", "value"], &[]).unwrap();
        assert_eq!(f.ts[4], Some(1_714_575_600_004));
        let got: Vec<Option<String>> = strings(&f, "entity").unwrap();
        assert_eq!(got, names.map(|n| Some(n.to_string())));
        let mut parts = Vec::new();
        let c = check(&path, &["entity"], &["value"]).unwrap();
        let wanted = vec!["ts".to_string(), "entity".to_string()];
        read_in(c, wanted, ParallelStrategy::None, 2, |f| {
            parts.push((f.ts.clone(), strings(&f, "entity").unwrap()));
            Ok(())
        })
        .unwrap();
        assert!(parts.len() > 1);
        let (ts, got): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
        assert_eq!(ts.concat(), f.ts);
        assert_eq!(got.concat(), names.map(|n| Some(n.to_string())));
    }
}

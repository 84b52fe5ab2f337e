//! Every row of an archive part read back whole, for tools that rewrite a part (`funnel
//! attach`) rather than analyse it: no window is applied and no column is left on disk.

use std::collections::BTreeSet;
use std::path::Path;

use super::columns;
use crate::error::Error;
use crate::model::{EventRow, LogRow};

/// Every line of every file of `dir` (the `logs/` folder), templates included; empty without
/// the folder. Rows without a time or an entity are dropped, as the analysis drops them.
///
/// # Errors
/// A corrupt file, or a missing or mistyped column.
pub fn all_logs(dir: &Path) -> Result<Vec<LogRow>, Error> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    const OPTIONAL: [&str; 4] = ["pod", "node", "level", "template"];
    for path in columns::parquet_files(dir)? {
        let c = columns::check(&path, &["entity", "message"], &[])?;
        let frame = columns::read(c, &["entity", "message"], &OPTIONAL)?;
        let err = columns::parquet_err(&path);
        let mut cols = Vec::new();
        for n in ["entity", "message"].iter().chain(&OPTIONAL) {
            cols.push(columns::strings(&frame, n).map_err(&err)?);
        }
        for i in 0..frame.height {
            let mut take = |k: usize| cols[k][i].take();
            let (Some(ts_ms), Some(entity)) = (frame.ts[i], take(0)) else {
                continue;
            };
            out.push(LogRow {
                ts_ms,
                entity,
                message: take(1).unwrap_or_default(),
                pod: take(2),
                node: take(3),
                level: take(4),
                template: take(5),
            });
        }
    }
    Ok(out)
}

/// Every event of `dir` (the `events/` folder); empty without the folder.
///
/// # Errors
/// A corrupt file, or a missing or mistyped column.
pub fn all_events(dir: &Path) -> Result<Vec<EventRow>, Error> {
    Ok(super::events::load_events(dir)?.unwrap_or_default())
}

/// What the metrics of an archive hold: the (entity, metric) pairs present and the median
/// step between consecutive distinct sample times (`None` with fewer than two times). Files
/// named in `skip` (a tool's own earlier output) are not read.
///
/// # Errors
/// A corrupt file, or a missing or mistyped column.
pub fn metric_index(
    dir: &Path,
    skip: &str,
) -> Result<(BTreeSet<(String, String)>, Option<i64>), Error> {
    let mut pairs = BTreeSet::new();
    let mut times = BTreeSet::new();
    if !dir.is_dir() {
        return Ok((pairs, None));
    }
    for path in columns::parquet_files(dir)? {
        if path.file_name().is_some_and(|n| n == skip) {
            continue;
        }
        let c = columns::check(&path, &["entity", "metric"], &[])?;
        let frame = columns::read(c, &["entity", "metric"], &[])?;
        let err = columns::parquet_err(&path);
        let entity = columns::strings(&frame, "entity").map_err(&err)?;
        let metric = columns::strings(&frame, "metric").map_err(&err)?;
        for (e, m) in entity.into_iter().zip(metric) {
            if let (Some(e), Some(m)) = (e, m) {
                pairs.insert((e, m));
            }
        }
        times.extend(frame.ts.iter().flatten());
    }
    let t: Vec<i64> = times.into_iter().collect();
    let mut gaps: Vec<i64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    Ok((pairs, gaps.get(gaps.len() / 2).copied()))
}

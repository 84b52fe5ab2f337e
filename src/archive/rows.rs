//! Every row of an archive part read back whole, for tools that rewrite a part (`funnel
//! attach`) rather than analyse it: no window is applied and no column is left on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::columns;
use crate::error::Error;
use crate::model::{EventRow, LogRow, step_ms};

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
        for (i, &ts) in frame.ts.iter().enumerate() {
            let mut take = |k: usize| cols[k][i].take();
            let (Some(ts_ms), Some(entity)) = (ts, take(0)) else {
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

/// The (entity, metric) pairs of an archive's metrics and their sampling step, ms.
pub type MetricIndex = (BTreeSet<(String, String)>, Option<i64>);

/// What the metrics of an archive hold: the (entity, metric) pairs present and their sampling
/// step, the median over series (entity, metric, pod, target) of each series' median step
/// between consecutive sample times (`None` when no series has two times). Per series, because
/// targets scraped at their own offsets (every pod a few seconds apart) make the archive's
/// distinct times seconds apart however coarse each series is. Files named in `skip` (a
/// tool's own earlier output) are not read.
///
/// # Errors
/// A corrupt file, or a missing or mistyped column.
pub fn metric_index(dir: &Path, skip: &str) -> Result<MetricIndex, Error> {
    let mut pairs = BTreeSet::new();
    let mut series: BTreeMap<[Option<String>; 4], BTreeSet<i64>> = BTreeMap::new();
    if !dir.is_dir() {
        return Ok((pairs, None));
    }
    for path in columns::parquet_files(dir)? {
        if path.file_name().is_some_and(|n| n == skip) {
            continue;
        }
        let c = columns::check(&path, &["entity", "metric"], &[])?;
        let frame = columns::read(c, &["entity", "metric"], &["pod", "target"])?;
        let err = columns::parquet_err(&path);
        let entity = columns::strings(&frame, "entity").map_err(&err)?;
        let metric = columns::strings(&frame, "metric").map_err(&err)?;
        let pod = columns::strings(&frame, "pod").map_err(&err)?;
        let target = columns::strings(&frame, "target").map_err(&err)?;
        let keys = entity.into_iter().zip(metric).zip(pod).zip(target);
        for ((((e, m), p), t), ts) in keys.zip(&frame.ts) {
            if let (Some(e), Some(m)) = (&e, &m) {
                pairs.insert((e.clone(), m.clone()));
            }
            if let Some(ts) = ts {
                series.entry([e, m, p, t]).or_default().insert(*ts);
            }
        }
    }
    let steps = series
        .values()
        .filter_map(|t| step_ms(t.iter().copied()))
        .collect();
    Ok((pairs, crate::stats::middle_of(steps)))
}

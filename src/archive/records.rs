//! Reads the optional `logs/` and `events/` folders into rows.

use std::path::Path;

use super::columns;
use crate::error::Error;
use crate::model::{EventRow, LogRow};

/// Log lines in `[from_ms, to_ms)` from every file of `dir`, sorted by time then entity.
/// A missing folder is no logs, not an error: logs are optional.
///
/// # Errors
/// A corrupt file or a missing or mistyped column.
pub fn load_logs(dir: &Path, from_ms: i64, to_ms: i64) -> Result<Vec<LogRow>, Error> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for path in columns::parquet_files(dir)? {
        let c = columns::check(&path, &["entity", "message"], &[])?;
        let frame = columns::read(c, &["entity", "message"], &["pod", "node", "level"])?;
        let err = columns::parquet_err(&path);
        let [entity, message, pod, node, level] = ["entity", "message", "pod", "node", "level"]
            .map(|n| columns::strings(&frame, n).map_err(&err));
        let (entity, message, mut pod, mut node, level) = (entity?, message?, pod?, node?, level?);
        for (i, (e, m)) in entity.into_iter().zip(message).enumerate() {
            let Some(ts) = frame.ts[i].filter(|t| (from_ms..to_ms).contains(t)) else {
                continue;
            };
            let (Some(entity), Some(message)) = (e, m) else {
                continue;
            };
            out.push(LogRow {
                ts_ms: ts,
                entity,
                message,
                pod: pod[i].take(),
                node: node[i].take(),
                level: level[i].as_ref().map(|l| l.to_ascii_lowercase()),
            });
        }
    }
    let order = |a: &LogRow, b: &LogRow| {
        (a.ts_ms, &a.entity, &a.pod, &a.message).cmp(&(b.ts_ms, &b.entity, &b.pod, &b.message))
    };
    // Archives are usually written in this order already; checking is one pass.
    if !out.is_sorted_by(|a, b| order(a, b).is_le()) {
        out.sort_by(order);
    }
    Ok(out)
}

/// Every event of every file of `dir` (events are few; all of them are kept so a deploy hours
/// before the window is still seen), sorted by time; `None` without the folder.
///
/// # Errors
/// A corrupt file or a missing or mistyped column.
pub fn load_events(dir: &Path) -> Result<Option<Vec<EventRow>>, Error> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(None);
    }
    for path in columns::parquet_files(dir)? {
        let c = columns::check(&path, &["entity", "kind"], &[])?;
        let frame = columns::read(c, &["entity", "kind"], &["detail"])?;
        let err = columns::parquet_err(&path);
        let [entity, kind, detail] =
            ["entity", "kind", "detail"].map(|n| columns::strings(&frame, n).map_err(&err));
        let (entity, kind, mut detail) = (entity?, kind?, detail?);
        for (i, (e, k)) in entity.into_iter().zip(kind).enumerate() {
            let (Some(entity), Some(k)) = (e, k) else {
                continue;
            };
            out.push(EventRow {
                ts_ms: frame.ts[i].unwrap_or(0),
                entity,
                kind: k.to_ascii_lowercase(),
                detail: detail[i].take(),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.ts_ms, &a.entity, &a.kind, &a.detail).cmp(&(b.ts_ms, &b.entity, &b.kind, &b.detail))
    });
    Ok(Some(out))
}

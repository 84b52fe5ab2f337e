//! Reads the optional `logs/` and `events/` folders into rows.

use std::path::Path;

use polars::prelude::*;

use super::columns;
use crate::error::Error;
use crate::model::{EventRow, LogRow};

fn collect(path: &Path, lf: LazyFrame) -> Result<DataFrame, Error> {
    lf.collect().map_err(|e| Error::Parquet {
        path: path.to_path_buf(),
        message: columns::first_line(&e.to_string()),
    })
}

fn polars_err(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::Parquet {
        path: path.to_path_buf(),
        message: columns::first_line(&e.to_string()),
    }
}

fn ts_column(df: &DataFrame) -> PolarsResult<Vec<i64>> {
    Ok(df
        .column("ts")?
        .i64()?
        .iter()
        .map(|t| t.unwrap_or(0))
        .collect())
}

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
        let sel = vec![
            c.ts.to_ms().alias("ts"),
            columns::text("entity"),
            columns::text("message"),
            columns::optional_text(&c, &path, "pod")?,
            columns::optional_text(&c, &path, "node")?,
            columns::optional_text(&c, &path, "level")?,
        ];
        let df = collect(
            &path,
            c.lf.clone()
                .filter(c.ts.between(from_ms, to_ms))
                .select(sel),
        )?;
        let err = polars_err(&path);
        let ts = ts_column(&df).map_err(&err)?;
        let [entity, message, pod, node, level] = ["entity", "message", "pod", "node", "level"]
            .map(|n| columns::strings(&df, n).map_err(&err));
        let (entity, message, pod, node, level) = (entity?, message?, pod?, node?, level?);
        for i in 0..df.height() {
            let (Some(e), Some(m)) = (&entity[i], &message[i]) else {
                continue;
            };
            out.push(LogRow {
                ts_ms: ts[i],
                entity: e.clone(),
                message: m.clone(),
                pod: pod[i].clone(),
                node: node[i].clone(),
                level: level[i].as_ref().map(|l| l.to_ascii_lowercase()),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.ts_ms, &a.entity, &a.pod, &a.message).cmp(&(b.ts_ms, &b.entity, &b.pod, &b.message))
    });
    Ok(out)
}

/// Every event of every file of `dir` (events are few; all of them are kept so a deploy hours
/// before the window is still seen), sorted by time.
///
/// # Errors
/// A corrupt file or a missing or mistyped column.
pub fn load_events(dir: &Path) -> Result<Vec<EventRow>, Error> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for path in columns::parquet_files(dir)? {
        let c = columns::check(&path, &["entity", "kind"], &[])?;
        let sel = vec![
            c.ts.to_ms().alias("ts"),
            columns::text("entity"),
            columns::text("kind"),
            columns::optional_text(&c, &path, "detail")?,
        ];
        let df = collect(&path, c.lf.clone().select(sel))?;
        let err = polars_err(&path);
        let ts = ts_column(&df).map_err(&err)?;
        let [entity, kind, detail] =
            ["entity", "kind", "detail"].map(|n| columns::strings(&df, n).map_err(&err));
        let (entity, kind, detail) = (entity?, kind?, detail?);
        for i in 0..df.height() {
            let (Some(e), Some(k)) = (&entity[i], &kind[i]) else {
                continue;
            };
            out.push(EventRow {
                ts_ms: ts[i],
                entity: e.clone(),
                kind: k.to_ascii_lowercase(),
                detail: detail[i].clone(),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.ts_ms, &a.entity, &a.kind, &a.detail).cmp(&(b.ts_ms, &b.entity, &b.kind, &b.detail))
    });
    Ok(out)
}

//! Reads the optional `events/` folder into rows.

use std::path::Path;

use super::columns;
use crate::error::Error;
use crate::model::EventRow;

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

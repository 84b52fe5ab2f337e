//! Reads the optional `logs/` folder: the lines inside the windows, as borrowed views of their
//! decoded columns.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use polars::prelude::StringChunked;

use super::columns;
use crate::error::Error;
use crate::model::LogLine;

/// The log lines of an archive's windows, kept in the columns they were decoded into.
///
/// A Nezha case holds ~25 MB of messages in ~45k lines: copying each field into its own
/// `String` cost as much as decoding the file, so lines are handed out as borrowed
/// [`LogLine`]s. When every file carries a `template` for every line (grouped upstream),
/// the messages are not read at all: the analysis counts templates, and only the few lines
/// it quotes are read back ([`LogTable::messages`]), a slice of the file each.
pub struct LogTable {
    files: Vec<LogFile>,
    /// (file, row) of every kept line, in time, entity, pod, message (or row) order.
    order: Vec<(u32, u32)>,
}

struct LogFile {
    path: std::path::PathBuf,
    ts: Vec<Option<i64>>,
    entity: StringChunked,
    /// `None` when the messages were left on disk.
    message: Option<StringChunked>,
    pod: Option<StringChunked>,
    level: Option<StringChunked>,
    template: Option<StringChunked>,
}

/// Row `r` of a text column; columns are read rechunked, so the first chunk is the column.
fn get(c: Option<&StringChunked>, r: usize) -> Option<&str> {
    c?.downcast_get(0)?.get(r)
}

impl LogFile {
    fn line(&self, row: u32) -> LogLine<'_> {
        let r = row as usize;
        LogLine {
            // Rows without a time or an entity were not kept.
            ts_ms: self.ts[r].unwrap_or_default(),
            entity: get(Some(&self.entity), r).unwrap_or_default(),
            message: get(self.message.as_ref(), r).unwrap_or_default(),
            level: get(self.level.as_ref(), r),
            template: get(self.template.as_ref(), r),
        }
    }
}

impl LogTable {
    /// Lines kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// No line kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every kept line, sorted by time, entity, pod and message (file and row when the
    /// messages were not read).
    #[must_use]
    pub fn lines(&self) -> Vec<LogLine<'_>> {
        self.order
            .iter()
            .map(|&(f, r)| self.files[f as usize].line(r))
            .collect()
    }

    /// The messages of `lines` (indices into [`LogTable::lines`]), read back from their files
    /// (the lines asked for are those whose messages were left there). Rows close together are
    /// read as one slice of the file. Indices out of range are skipped.
    ///
    /// # Errors
    /// A file that fails to decode the second time round.
    pub fn messages(&self, lines: &[usize]) -> Result<BTreeMap<usize, String>, Error> {
        // (file, row, line), in file order.
        let mut wanted: Vec<(u32, u32, usize)> = lines
            .iter()
            .filter_map(|&i| self.order.get(i).map(|&(f, r)| (f, r, i)))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = BTreeMap::new();
        for in_file in wanted.chunk_by(|a, b| a.0 == b.0) {
            let slicer = columns::Slicer::open(&self.files[in_file[0].0 as usize].path)?;
            for run in in_file.chunk_by(|a, b| b.1 - a.1 <= SLICE_GAP) {
                let (first, last) = (run[0].1, run[run.len() - 1].1);
                let len = (last - first + 1) as usize;
                let mut messages = slicer.text("message", first as usize, len)?;
                for &(_, r, i) in run {
                    if let Some(m) = messages
                        .get_mut((r - first) as usize)
                        .and_then(Option::take)
                    {
                        out.insert(i, m);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Rows this close in a file are read in one slice: about a page of typical lines (files with
/// templates are written in 256 KiB pages), below which starting another read costs more than
/// decoding the rows between (on Nezha, 128 and 2048 were slower).
const SLICE_GAP: u32 = 512;

impl std::fmt::Debug for LogTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogTable({} lines)", self.order.len())
    }
}

/// Log lines in `[from_ms, to_ms)` from every file of `dir`. A missing folder is no logs, not
/// an error: logs are optional.
///
/// # Errors
/// A corrupt file or a missing or mistyped column.
pub fn load_logs(dir: &Path, from_ms: i64, to_ms: i64) -> Result<LogTable, Error> {
    let mut table = LogTable {
        files: Vec::new(),
        order: Vec::new(),
    };
    if !dir.is_dir() {
        return Ok(table);
    }
    let checked = columns::parquet_files(dir)?
        .iter()
        .map(|p| columns::check(p, &["entity", "message"], &[]))
        .collect::<Result<Vec<_>, _>>()?;
    let (mut files, templated) = read_files(checked)?;
    if !templated {
        // Some file lacks templates for some lines: every message is needed to mine them.
        read_back_messages(&mut files)?;
    }
    table.order = in_window(&files, templated, from_ms..to_ms);
    table.files = files;
    sort_lines(&mut table);
    Ok(table)
}

/// The files' columns, and whether every line of every file has a template. Messages are
/// left on disk while that holds, so a file read after the first gap reads its messages.
fn read_files(checked: Vec<columns::Checked>) -> Result<(Vec<LogFile>, bool), Error> {
    let mut templated = checked.iter().all(|c| c.schema.get("template").is_some());
    let mut files = Vec::new();
    for c in checked {
        let (file, complete) = read_file(c, templated)?;
        templated &= complete;
        files.extend(file);
    }
    Ok((files, templated))
}

/// One file's columns (messages only when not `templated`), and whether it has a template for
/// every line.
fn read_file(c: columns::Checked, templated: bool) -> Result<(Option<LogFile>, bool), Error> {
    let path = c.path.clone();
    let required: &[&str] = if templated {
        &["entity"]
    } else {
        &["entity", "message"]
    };
    // Pods only break ties in the line order; with templates the file's row order does.
    let optional: &[&str] = if templated {
        &["level", "template"]
    } else {
        &["pod", "level"]
    };
    let frame = columns::read(c, required, optional)?;
    let err = columns::parquet_err(&path);
    let text = |n: &str| frame.text(n).map_err(&err);
    let template = if templated { text("template")? } else { None };
    let complete = template.as_ref().is_some_and(|t| t.null_count() == 0);
    let (Some(entity), message, pod, level) = (
        text("entity")?,
        text("message")?,
        text("pod")?,
        text("level")?,
    ) else {
        return Ok((None, complete)); // `check` made sure the entity exists
    };
    let file = LogFile {
        path: path.clone(),
        ts: frame.ts,
        entity,
        message,
        pod,
        level,
        template,
    };
    Ok((Some(file), complete))
}

/// Reads the messages (and pods) left on disk, and drops the templates: lines are mined from
/// their messages once any line lacks a template.
fn read_back_messages(files: &mut [LogFile]) -> Result<(), Error> {
    for f in files.iter_mut().filter(|f| f.message.is_none()) {
        let c = columns::check(&f.path, &["entity", "message"], &[])?;
        let frame = columns::read(c, &["message"], &["pod"])?;
        let err = columns::parquet_err(&f.path);
        f.message = frame.text("message").map_err(&err)?;
        f.pod = frame.text("pod").map_err(&err)?;
        f.template = None;
    }
    Ok(())
}

/// (file, row) of every line in `window` with an entity (and a message, unless templated).
fn in_window(files: &[LogFile], templated: bool, window: Range<i64>) -> Vec<(u32, u32)> {
    let mut order = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let fi = u32::try_from(fi).unwrap_or(u32::MAX);
        let kept = |(i, t): (usize, &Option<i64>)| {
            let ok = t.is_some_and(|t| window.contains(&t))
                && get(Some(&f.entity), i).is_some()
                && (templated || get(f.message.as_ref(), i).is_some());
            ok.then(|| (fi, u32::try_from(i).unwrap_or(u32::MAX)))
        };
        order.extend(f.ts.iter().enumerate().filter_map(kept));
    }
    order
}

/// Sorts the kept lines by time, entity, pod, message, each fetched only on a tie; then by the
/// file's own row order (what a stable sort keeps, and the writer's message order when
/// messages were not read).
fn sort_lines(table: &mut LogTable) {
    let files = &table.files;
    let cmp = |a: &(u32, u32), b: &(u32, u32)| {
        let (fa, fb) = (&files[a.0 as usize], &files[b.0 as usize]);
        let (ra, rb) = (a.1 as usize, b.1 as usize);
        let (ea, eb) = (get(Some(&fa.entity), ra), get(Some(&fb.entity), rb));
        fa.ts[ra]
            .cmp(&fb.ts[rb])
            .then_with(|| ea.cmp(&eb))
            .then_with(|| get(fa.pod.as_ref(), ra).cmp(&get(fb.pod.as_ref(), rb)))
            .then_with(|| get(fa.message.as_ref(), ra).cmp(&get(fb.message.as_ref(), rb)))
            .then_with(|| a.cmp(b))
    };
    // Archives are usually written in this order already; checking is one pass.
    if !table.order.is_sorted_by(|a, b| cmp(a, b).is_le()) {
        table.order.sort_by(cmp);
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::align::Grid;

    const MIN: i64 = 60_000;

    /// Writes a logs file: one line per minute, `error` lines from minute 30 on.
    fn write(dir: &Path, name: &str, template: Option<Vec<Option<&str>>>) {
        let n = 40;
        let ts: Vec<i64> = (0..n).map(|m| m * MIN + 1).collect();
        let message: Vec<String> = (0..n)
            .map(|m| {
                if m < 30 {
                    format!("GET /rooms/{m} 200")
                } else {
                    format!("redis call to cache-{m}:6379 timed out")
                }
            })
            .collect();
        let level: Vec<&str> = (0..n)
            .map(|m| if m < 30 { "info" } else { "error" })
            .collect();
        let mut cols = vec![
            Column::new("ts".into(), ts),
            Column::new("entity".into(), vec!["api"; n as usize]),
            Column::new("message".into(), message),
            Column::new("level".into(), level),
        ];
        if let Some(t) = template {
            cols.push(Column::new("template".into(), t));
        }
        let mut df = DataFrame::new(n as usize, cols).unwrap();
        std::fs::create_dir_all(dir).unwrap();
        crate::archive::write_parquet(&dir.join(name), &mut df, |e| e, |e| e.into()).unwrap();
    }

    fn templates(n: usize) -> Vec<Option<&'static str>> {
        (0..n)
            .map(|m| {
                Some(if m < 30 {
                    "GET <*> 200"
                } else {
                    "redis call to <*> timed out"
                })
            })
            .collect()
    }

    fn evidence(lines: &[LogLine<'_>]) -> crate::logs::LogEvidence {
        let grid = Grid {
            t0: 0,
            step: MIN,
            len: 40,
        };
        crate::logs::evidence::analyze(lines, &grid, &(0..25), &(25..40), 30)
    }

    #[test]
    fn templated_lines_leave_messages_on_disk_until_quoted() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.parquet", Some(templates(40)));
        let table = load_logs(dir.path(), 0, 40 * MIN).unwrap();
        let lines = table.lines();
        assert_eq!(lines.len(), 40);
        assert!(
            lines
                .iter()
                .all(|l| l.message.is_empty() && l.template.is_some())
        );
        let mut ev = evidence(&lines);
        let t = ev
            .templates
            .iter()
            .find(|t| t.template.contains("redis"))
            .unwrap();
        assert!(t.notable() && t.samples.is_empty() && !t.sample_lines.is_empty());
        let pending = ev.pending_samples();
        assert_eq!(
            pending.len(),
            3,
            "the error template's first three lines, no others"
        );
        ev.fill_samples(&table.messages(&pending).unwrap());
        let t = ev
            .templates
            .iter()
            .find(|t| t.template.contains("redis"))
            .unwrap();
        assert_eq!(t.samples.len(), 3, "{:?}", t.samples);
        assert!(t.samples[0].starts_with("redis call to cache-30:6379"));
        assert!(t.mentions("cache-31") && t.sample_lines.is_empty());
    }

    #[test]
    fn a_file_without_templates_or_with_gaps_has_every_line_mined() {
        for second in [None, Some(vec![None; 40])] {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), "a.parquet", Some(templates(40)));
            write(dir.path(), "b.parquet", second);
            let table = load_logs(dir.path(), 0, 40 * MIN).unwrap();
            let lines = table.lines();
            assert_eq!(lines.len(), 80);
            assert!(
                lines
                    .iter()
                    .all(|l| !l.message.is_empty() && l.template.is_none())
            );
            let ev = evidence(&lines);
            let t = ev
                .templates
                .iter()
                .find(|t| t.template.contains("redis"))
                .unwrap();
            assert!(t.samples[0].contains("cache-30"), "{:?}", t.samples);
        }
    }

    #[test]
    fn lines_outside_the_window_are_dropped_and_the_rest_sorted() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.parquet", None);
        write(dir.path(), "a.parquet", None);
        let table = load_logs(dir.path(), 10 * MIN, 20 * MIN).unwrap();
        let lines = table.lines();
        assert_eq!(lines.len(), 20);
        assert!(lines.is_sorted_by_key(|l| l.ts_ms));
        assert_eq!(lines[0].message, lines[1].message);
    }
}

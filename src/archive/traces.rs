//! The optional `traces/` folder: spans as attached from OTLP, Jaeger or Tempo files
//! (`funnel attach traces`), one row per span, so the call graph and each span's self-time
//! (its duration minus the time covered by its children) can be recomputed from the archive.

use std::path::Path;

use polars::prelude::*;

use super::columns;
use crate::error::Error;

/// One span, as the archive keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Trace id, lowercase hex.
    pub trace_id: String,
    /// Span id, lowercase hex.
    pub span_id: String,
    /// Parent span id; `None` for a root.
    pub parent_id: Option<String>,
    /// The service that emitted the span.
    pub service: String,
    /// Operation name.
    pub name: String,
    /// `server`, `client`, `producer`, `consumer`, `internal` or `unspecified`.
    pub kind: String,
    /// Start, epoch nanoseconds.
    pub start_ns: i64,
    /// Duration, nanoseconds (never negative).
    pub duration_ns: i64,
    /// Whether the span's status is an error.
    pub error: bool,
    /// The entity called, from the span's attributes (`redis:live-cache`, `http:vendor`), for
    /// client spans whose callee emits no spans of its own.
    pub peer: Option<String>,
    /// The pod that emitted the span (`k8s.pod.name`), when known.
    pub pod: Option<String>,
}

impl Span {
    /// Start in epoch milliseconds (floored).
    #[must_use]
    pub fn start_ms(&self) -> i64 {
        self.start_ns.div_euclid(1_000_000)
    }

    /// Duration in milliseconds.
    #[must_use]
    pub fn duration_ms(&self) -> f64 {
        self.duration_ns as f64 / 1e6
    }
}

const TEXT: [&str; 8] = [
    "trace_id",
    "span_id",
    "parent_id",
    "service",
    "name",
    "kind",
    "peer",
    "pod",
];

/// Writes spans to one Parquet file, sorted by trace, start and span id.
///
/// # Errors
/// The file cannot be written.
pub fn write_spans(path: &Path, spans: &[Span]) -> Result<(), Error> {
    let mut s: Vec<&Span> = spans.iter().collect();
    s.sort_by(|a, b| {
        (&a.trace_id, a.start_ns, &a.span_id).cmp(&(&b.trace_id, b.start_ns, &b.span_id))
    });
    let text = |f: fn(&Span) -> Option<&str>| s.iter().map(|x| f(x)).collect::<Vec<_>>();
    let ts = Int64Chunked::from_vec("ts".into(), s.iter().map(|x| x.start_ns).collect())
        .into_datetime(TimeUnit::Nanoseconds, None)
        .into_series()
        .into_column();
    let fields: [fn(&Span) -> Option<&str>; 8] = [
        |x| Some(&x.trace_id),
        |x| Some(&x.span_id),
        |x| x.parent_id.as_deref(),
        |x| Some(&x.service),
        |x| Some(&x.name),
        |x| Some(&x.kind),
        |x| x.peer.as_deref(),
        |x| x.pod.as_deref(),
    ];
    let mut cols = vec![ts];
    for (name, f) in TEXT.iter().zip(fields) {
        cols.push(Column::new((*name).into(), text(f)));
    }
    cols.push(Column::new(
        "start_ns".into(),
        s.iter().map(|x| x.start_ns).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "duration_ns".into(),
        s.iter().map(|x| x.duration_ns).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "error".into(),
        s.iter().map(|x| x.error).collect::<Vec<_>>(),
    ));
    let err = |e: PolarsError| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut df = DataFrame::new(s.len(), cols).map_err(err)?;
    super::write_parquet(path, &mut df, err, |e| Error::io(path, e))
}

/// Every span of every file of `dir`; empty without the folder.
///
/// # Errors
/// A corrupt file, or a missing or mistyped column, named by file and column.
pub fn read_spans(dir: &Path) -> Result<Vec<Span>, Error> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let required = ["trace_id", "span_id", "service", "name"];
    for path in columns::parquet_files(dir)? {
        let c = columns::check(&path, &required, &["duration_ns"])?;
        let has_error = c.schema.get("error").is_some();
        let has_start = c.schema.get("start_ns").is_some();
        let frame = columns::read(c, &["duration_ns", "start_ns", "error"], &TEXT)?;
        let perr = columns::parquet_err(&path);
        let mut text = Vec::new();
        for n in TEXT {
            text.push(columns::strings(&frame, n).map_err(&perr)?);
        }
        let dur = frame.int("duration_ns").map_err(&perr)?;
        let start = if has_start {
            Some(frame.int("start_ns").map_err(&perr)?)
        } else {
            None
        };
        let errors: Vec<bool> = if has_error {
            frame
                .text("error")
                .ok()
                .flatten()
                .map(|c| c.iter().map(|v| v == Some("true")).collect())
                .unwrap_or_else(|| vec![false; frame.height])
        } else {
            vec![false; frame.height]
        };
        for i in 0..frame.height {
            let t = |k: usize| text[k][i].clone();
            let (Some(trace_id), Some(span_id), Some(service), Some(ts)) =
                (t(0), t(1), t(3), frame.ts[i])
            else {
                continue;
            };
            out.push(Span {
                trace_id,
                span_id,
                parent_id: t(2),
                service,
                name: t(4).unwrap_or_default(),
                kind: t(5).unwrap_or_else(|| "unspecified".into()),
                // `ts` reads back in ms; `start_ns` keeps the nanoseconds self-time needs.
                start_ns: start
                    .as_ref()
                    .and_then(|s| s.get(i))
                    .unwrap_or(ts * 1_000_000),
                duration_ns: dur.get(i).unwrap_or(0).max(0),
                error: errors[i],
                peer: t(6),
                pod: t(7),
            });
        }
    }
    Ok(out)
}

//! Log lines from Loki and logcli: `/loki/api/v1/query_range` responses (one or more,
//! concatenated when paginated), `logcli --output=jsonl` lines, and plain text through a
//! `<Content>` header format (`funnel logs`' convention) with the entity given.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::input::{self, Loc, at};
use super::{Detected, Format, Labels, Summary};
use crate::error::Error;
use crate::logs::format::LogFormat;
use crate::model::{Instant, LogRow};

/// Detects a log file's format from its first bytes.
pub(crate) fn detect(head: &str) -> Option<Format> {
    let t = head.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    // Key order is not fixed: a response may start with a long `data` before `status`.
    let loki_stream = t.contains("\"stream\"") && t.contains("\"values\"");
    if t.contains("\"resultType\"") || t.contains("\"status\"") || loki_stream {
        return Some(Format::Loki);
    }
    if t.contains("\"line\"") && (t.contains("\"timestamp\"") || t.contains("\"labels\"")) {
        return Some(Format::Logcli);
    }
    None
}

#[derive(Deserialize)]
struct LokiResponse {
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    data: Option<LokiData>,
}

#[derive(Deserialize)]
struct LokiData {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: Vec<LokiStream>,
}

#[derive(Deserialize)]
struct LokiStream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<LokiValue>,
}

/// `[ns, line]`, or Loki 3's `[ns, line, {structuredMetadata, parsed}]` with categorised labels.
#[derive(Deserialize)]
struct LokiValue(String, String, #[serde(default)] Option<Categorised>);

#[derive(Deserialize, Default)]
struct Categorised {
    #[serde(default, rename = "structuredMetadata")]
    structured: BTreeMap<String, String>,
    #[serde(default)]
    parsed: BTreeMap<String, String>,
}

/// Borrowed from the line: a million lines would otherwise cost ten million small strings.
#[derive(Deserialize)]
struct LogcliLine<'a> {
    #[serde(default, borrow)]
    labels: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    #[serde(borrow)]
    line: Cow<'a, str>,
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
}

/// Reads one file into `out`.
pub(crate) fn read(
    path: &Path,
    found: &Detected,
    labels: &Labels,
    out: &mut Vec<LogRow>,
    sum: &mut Summary,
) -> Result<(), Error> {
    match &found.format {
        Format::Loki => input::each_value(path, found.lines, |r: LokiResponse, loc| {
            loki(path, loc, r, labels, out, sum)
        }),
        Format::Logcli => input::each_line(path, |line, n| {
            let line = line.trim();
            if line.is_empty() {
                return Ok(());
            }
            let l: LogcliLine = input::json_line(path, n, line)?;
            let ts = Instant::parse(&l.timestamp).ok_or_else(|| {
                at(
                    path,
                    Loc::Line(n),
                    format!(
                        "timestamp `{}` is not RFC 3339 (logcli writes 2024-05-01T14:02:00.123456789Z)",
                        l.timestamp
                    ),
                )
            })?;
            let get = |k: &str| l.labels.get(k).map(AsRef::as_ref);
            push(out, sum, labels, ts.0, get, &l.line);
            Ok(())
        }),
        Format::Plain { header, entity } => plain(path, header, entity, out, sum),
        other => Err(Error::input(
            path,
            format!("`{}` is not a log format", other.name()),
        )),
    }
}

fn loki(
    path: &Path,
    loc: Loc,
    r: LokiResponse,
    labels: &Labels,
    out: &mut Vec<LogRow>,
    sum: &mut Summary,
) -> Result<(), Error> {
    if r.status != "success" {
        return Err(at(
            path,
            loc,
            format!(
                "Loki answered with an error ({}: {}), not log lines",
                r.error_type.as_deref().unwrap_or(&r.status),
                r.error.as_deref().unwrap_or("no message")
            ),
        ));
    }
    let Some(data) = r.data else {
        return Err(at(path, loc, "a Loki response without `data`"));
    };
    if data.result_type != "streams" {
        return Err(at(
            path,
            loc,
            format!(
                "resultType `{}`: a metric query's answer, not log lines (query a log selector, not a metric expression)",
                data.result_type
            ),
        ));
    }
    for (si, s) in data.result.into_iter().enumerate() {
        for (vi, LokiValue(ns, line, cat)) in s.values.into_iter().enumerate() {
            let ns = input::epoch_ns(&ns, "timestamp").map_err(|m| {
                at(
                    path,
                    loc,
                    format!("stream {}, value {}: {m}", si + 1, vi + 1),
                )
            })?;
            let cat = cat.unwrap_or_default();
            // Parsed labels win over structured metadata, which wins over the stream's.
            let get = |k: &str| {
                [&cat.parsed, &cat.structured, &s.stream]
                    .into_iter()
                    .find_map(|m| m.get(k).map(String::as_str))
            };
            push(out, sum, labels, ns.div_euclid(1_000_000), get, &line);
        }
    }
    Ok(())
}

/// Adds a line whose labels `get` looks up.
fn push<'l>(
    out: &mut Vec<LogRow>,
    sum: &mut Summary,
    labels: &Labels,
    ts_ms: i64,
    get: impl Fn(&str) -> Option<&'l str>,
    line: &str,
) {
    let pick = |names: &[String]| names.iter().find_map(|n| get(n).filter(|v| !v.is_empty()));
    let Some(entity) = pick(&labels.entity) else {
        sum.skip("log lines without any entity label");
        return;
    };
    let level = ["level", "detected_level"]
        .iter()
        .find_map(|k| get(k))
        .and_then(|w| crate::model::vocab::log_level(w).map(str::to_string))
        .or_else(|| crate::import::level_of(line));
    out.push(LogRow {
        ts_ms,
        entity: entity.to_string(),
        message: line.trim_end().to_string(),
        pod: pick(&labels.pod).map(str::to_string),
        node: pick(&labels.node).map(str::to_string),
        level,
        template: None,
    });
}

/// Plain text: each line's header gives its time (`<Date> <Time>`, `<Timestamp>` or `<Time>`
/// alone when it is a full date-time) and level; lines that do not match the header are
/// continuation lines of the one before (stack traces) and are appended to it.
fn plain(
    path: &Path,
    header: &str,
    entity: &str,
    out: &mut Vec<LogRow>,
    sum: &mut Summary,
) -> Result<(), Error> {
    let fmt = LogFormat::parse(header).map_err(|e| Error::input(path, e.to_string()))?;
    let first = out.len();
    input::each_line(path, |line, n| {
        let Some(content) = fmt.content(line) else {
            let mine = out.len() > first;
            match out.last_mut().filter(|_| mine) {
                Some(prev) if !line.trim().is_empty() => {
                    prev.message.push('\n');
                    prev.message.push_str(line);
                }
                _ if line.trim().is_empty() => {}
                _ => sum.skip("plain-text lines before the first that matches the header"),
            }
            return Ok(());
        };
        let stamp = match (fmt.field(line, "Date"), fmt.field(line, "Time")) {
            (Some(d), Some(t)) => format!("{d} {t}"),
            (None, Some(t)) => t.to_string(),
            _ => fmt.field(line, "Timestamp").unwrap_or_default().to_string(),
        };
        let ts = Instant::parse(&stamp).ok_or_else(|| {
            at(
                path,
                Loc::Line(n),
                format!("`{stamp}` is not a date and time (the header needs <Date> <Time> or <Timestamp>, e.g. 2024-05-01 14:02:00.123)"),
            )
        })?;
        let level = fmt
            .field(line, "Level")
            .and_then(crate::model::vocab::log_level)
            .map(str::to_string)
            .or_else(|| crate::import::level_of(content));
        out.push(LogRow {
            ts_ms: ts.0,
            entity: entity.to_string(),
            message: content.to_string(),
            pod: None,
            node: None,
            level,
            template: None,
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loki_is_detected_whatever_the_key_order() {
        let late_status = r#"{"data":{"result":[{"stream":{"app":"a"},"values":[["1","x"]]}"#;
        assert_eq!(detect(late_status), Some(Format::Loki));
        let logcli = r#"{"labels":{"app":"a"},"line":"x","timestamp":"2024-05-01T14:00:00Z"}"#;
        assert_eq!(detect(logcli), Some(Format::Logcli));
    }
}

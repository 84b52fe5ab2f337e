//! Readers for one Nezha day folder: per-pod metric CSVs, the front service, the call graph
//! (dependency.csv, else the traces' parent spans) and the logs. Each returns plain rows for
//! the whole day; `nezha` slices them per fault.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{files_ending, names, number_column, read_csv_text, text_column};
use crate::attach::call_gap::CallGaps;
use crate::error::Error;
use crate::model::{Instant, LogRow, MetricRow, service_of_pod};

/// The front service's entity id.
pub(crate) const FRONT: &str = "frontend";

/// Parses Nezha's `Time` string (`2023-01-29 08:41:09.043 +0000 UTC m=+0.1`): the first two
/// fields are a UTC datetime. The `TimeStamp` column beside it is not used: it is wrong on
/// some days.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let (d, t) = (it.next()?, it.next()?);
    Instant::parse(&format!("{d} {t}")).map(|i| i.0)
}

/// Maps a pod metric column to (vocabulary or raw name, factor); None drops the column.
/// Node* columns describe the node, and the files do not say which node, so they are dropped
/// rather than pinned on the pod.
fn map_pod_column(c: &str) -> Option<(&str, f64)> {
    Some(match c {
        "Time" | "TimeStamp" | "PodName" => return None,
        c if c.starts_with("Node") => return None,
        "CpuUsage(m)" => ("cpu_cores", 1e-3),
        "MemoryUsage(Mi)" => ("mem_rss_bytes", 1_048_576.0),
        "PodServerLatencyP99(s)" => ("latency_p99_ms", 1000.0),
        // What the pod waits on its callees: a caller slowed by a callee shows it here, its
        // own server latency rising beyond it points at the pod itself.
        "PodClientLatencyP99(s)" => ("dep_latency_ms", 1000.0),
        "PodWorkload(Ops)" => ("requests_per_s", 1.0),
        // The rest duplicate these (usage rates beside usages, the P90/P95 beside the P99,
        // network bytes and syscalls beside the workload) or are constant (PodSuccessRate is 0
        // throughout these days); as dozens of extra noisy series per pod they would only
        // drown the few that move with a fault.
        _ => return None,
    })
}

fn times(df: &polars::prelude::DataFrame, path: &Path) -> Result<Vec<i64>, Error> {
    text_column(df, "Time", path)?
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            t.as_deref().and_then(parse_time).ok_or_else(|| {
                super::column_error(
                    path,
                    "Time",
                    &format!("row {}: not a `YYYY-MM-DD HH:MM:SS` time", i + 1),
                )
            })
        })
        .collect()
}

/// Every pod metric of the day (`metric/*_metric.csv`), pod-level rows of the pod's service.
pub(crate) fn pod_metrics(metric_dir: &Path) -> Result<Vec<MetricRow>, Error> {
    let mut out = Vec::new();
    for path in files_ending(metric_dir, "_metric.csv")? {
        let df = read_csv_text(&path, 0, true)?;
        let ts = times(&df, &path)?;
        let pods = text_column(&df, "PodName", &path)?;
        for c in names(&df) {
            let Some((metric, factor)) = map_pod_column(&c) else {
                continue;
            };
            for ((t, v), pod) in ts.iter().zip(number_column(&df, &c, &path)?).zip(&pods) {
                let Some(pod) = pod.as_deref() else { continue };
                if v.is_finite() {
                    let mut r = MetricRow::new(*t, service_of_pod(pod), metric, v * factor);
                    r.pod = Some(pod.to_string());
                    out.push(r);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(Error::input(
            metric_dir,
            "no pod metrics (expected *_metric.csv files with Time and PodName columns)",
        ));
    }
    Ok(out)
}

/// The front service's latency and success rate (`metric/front_service.csv`), if present.
pub(crate) fn front_metrics(metric_dir: &Path) -> Result<Vec<MetricRow>, Error> {
    let path = metric_dir.join("front_service.csv");
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let df = read_csv_text(&path, 0, true)?;
    let ts = times(&df, &path)?;
    let mut out = Vec::new();
    for c in names(&df) {
        let (metric, factor) = match c.as_str() {
            "Time" | "TimeStamp" | "ServiceName" => continue,
            "LatencyP99(s)" => ("latency_p99_ms", 1000.0),
            other => (other, 1.0),
        };
        for (t, v) in ts.iter().zip(number_column(&df, &c, &path)?) {
            if v.is_finite() {
                out.push(MetricRow::new(*t, FRONT, metric, v * factor));
            }
        }
    }
    Ok(out)
}

/// Caller → callees at service level, self-calls dropped.
pub(crate) type Graph = BTreeMap<String, BTreeSet<String>>;

fn add_edge(deps: &mut Graph, from: &str, to: &str) {
    // Called once per span: most edges are known already, so look before allocating keys.
    if from != to && !deps.get(from).is_some_and(|callees| callees.contains(to)) {
        deps.entry(from.to_string())
            .or_default()
            .insert(to.to_string());
    }
}

/// The call graph: from dependency.csv (Source, Target) when present, else `traced` (the
/// span files' edges, see [`traces`]).
pub(crate) fn call_graph(day: &Path, traced: Graph) -> Result<Graph, Error> {
    for p in [
        day.join("dependency.csv"),
        day.join("metric").join("dependency.csv"),
    ] {
        if p.is_file() {
            let mut deps = Graph::new();
            let df = read_csv_text(&p, 0, true)?;
            for (s, t) in text_column(&df, "Source", &p)?
                .into_iter()
                .zip(text_column(&df, "Target", &p)?)
            {
                if let (Some(s), Some(t)) = (s, t) {
                    add_edge(&mut deps, service_of_pod(&s), service_of_pod(&t));
                }
            }
            return Ok(deps);
        }
    }
    Ok(traced)
}

/// The call-gap series of the traces ([`crate::attach::call_gap`]), one row per callee and minute
/// (stamped mid-minute) of the spans that started in it.
///
/// Span files only cover the minutes around each fault, so these series are compared with the
/// other recorded minutes (see `nezha`).
///
/// The same pass collects the call graph's edges (a span's parent pod calls the span's pod;
/// root spans are called by the front service), so each span file is read once.
pub(crate) fn traces(day: &Path) -> Result<(Graph, Vec<MetricRow>), Error> {
    let mut edges = Graph::new();
    let dir = day.join("trace");
    if !dir.is_dir() {
        return Ok((edges, Vec::new()));
    }
    let mut gaps = CallGaps::default();
    for path in files_ending(&dir, ".csv")? {
        let df = read_csv_text(&path, 0, true)?;
        let spans = text_column(&df, "SpanID", &path)?;
        let parents = text_column(&df, "ParentID", &path)?;
        let pods = text_column(&df, "PodName", &path)?;
        let by_span: BTreeMap<&str, usize> = spans
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((s.as_deref()?, i)))
            .collect();
        // Files without span times still give their edges.
        let times = number_column(&df, "StartTimeUnixNano", &path)
            .and_then(|start| Ok((start, number_column(&df, "Duration", &path)?)))
            .ok();
        for i in 0..spans.len() {
            let (Some(parent), Some(pod)) = (parents[i].as_deref(), pods[i].as_deref()) else {
                continue;
            };
            let svc = service_of_pod(pod);
            if parent == "root" {
                add_edge(&mut edges, FRONT, svc);
                continue;
            }
            let Some(&p) = by_span.get(parent) else {
                continue;
            };
            let Some(ppod) = pods[p].as_deref() else {
                continue;
            };
            add_edge(&mut edges, service_of_pod(ppod), svc);
            let Some((start, dur)) = &times else {
                continue;
            };
            if service_of_pod(ppod) == svc
                || !(start[i].is_finite()
                    && start[p].is_finite()
                    && dur[i].is_finite()
                    && dur[p].is_finite())
            {
                continue;
            }
            let minute = (start[i] / 6e10).floor() as i64;
            // Duration is in microseconds in these files (Start/End in nanoseconds).
            let gap_ms = (dur[p] - dur[i]) / 1e3;
            let start_gap_ms = (start[i] - start[p]) / 1e6;
            gaps.add(svc, minute * 60_000 + 30_000, gap_ms, start_gap_ms);
        }
    }
    Ok((edges, gaps.rows(None)))
}

/// The level of a log message: the level word near its start (`INFO`, `WARN`, `ERROR`,
/// `DEBUG`: Java and Go text logs), or, for a message that is itself a JSON object (services
/// that log structured lines), its `severity`, `level` or `lvl` field, a word in any case or a
/// pino-style number (50 and up error, 40 warn, 30 info, below debug).
pub(crate) fn level_of(msg: &str) -> Option<String> {
    if msg.starts_with('{') {
        if let Some(level) = json_level(msg) {
            return Some(level.to_string());
        }
    }
    let head: String = msg.chars().take(48).collect();
    head.split(|c: char| !c.is_ascii_alphabetic())
        .find_map(|w| match w {
            "ERROR" | "FATAL" => Some("error".to_string()),
            "WARN" | "WARNING" => Some("warn".to_string()),
            "INFO" => Some("info".to_string()),
            "DEBUG" | "TRACE" => Some("debug".to_string()),
            _ => None,
        })
}

fn json_level(msg: &str) -> Option<&'static str> {
    let v: serde_json::Value = serde_json::from_str(msg).ok()?;
    let field = ["severity", "level", "lvl"]
        .iter()
        .find_map(|k| v.get(k).filter(|f| !f.is_null()))?;
    if let Some(n) = field.as_f64() {
        return Some(match n {
            n if n >= 50.0 => "error",
            n if n >= 40.0 => "warn",
            n if n >= 30.0 => "info",
            _ => "debug",
        });
    }
    crate::model::vocab::log_level(field.as_str()?)
}

/// Every log line of the day (`log/*.csv`), the container's JSON line unwrapped to its `log`
/// field. Lines outside every wanted window are skipped before parsing.
pub(crate) fn logs(day: &Path, wanted: &[(i64, i64)]) -> Result<Vec<LogRow>, Error> {
    let dir = day.join("log");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for path in files_ending(&dir, ".csv")? {
        let df = read_csv_text(&path, 0, true)?;
        let ns = number_column(&df, "TimeUnixNano", &path)?;
        let pods = text_column(&df, "PodName", &path)?;
        let lines = text_column(&df, "Log", &path)?;
        for ((t, pod), line) in ns.into_iter().zip(pods).zip(lines) {
            let ts_ms = (t / 1e6).round() as i64;
            let (Some(pod), Some(line)) = (pod, line) else {
                continue;
            };
            if !t.is_finite() || !wanted.iter().any(|(a, b)| ts_ms >= *a && ts_ms < *b) {
                continue;
            }
            let message = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| {
                    v.get("log")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or(line)
                .trim_end()
                .to_string();
            let level = level_of(&message);
            out.push(LogRow {
                ts_ms,
                entity: service_of_pod(&pod).to_string(),
                message,
                pod: Some(pod),
                node: None,
                level,
                template: None,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_levels_parse() {
        assert_eq!(
            parse_time("2023-01-29 08:41:09.043078357 +0000 UTC m=+0.119240217"),
            Some(1_674_981_669_043)
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(
            level_of("17:35:38.386 INFO  o.s.OrderServiceImpl#365 TraceID"),
            Some("info".into())
        );
        assert_eq!(
            level_of("17:35:38.386 ERROR c.x.Y boom"),
            Some("error".into())
        );
        assert_eq!(level_of("plain text"), None);
        // Structured lines (Online Boutique's Go and Python services, pino in Node).
        let json = |l: &str| level_of(&format!(r#"{{"message":"request error ignored",{l}}}"#));
        assert_eq!(json(r#""severity":"info""#), Some("info".into()));
        assert_eq!(json(r#""severity":"WARNING""#), Some("warn".into()));
        assert_eq!(json(r#""level":50"#), Some("error".into()));
        assert_eq!(json(r#""level":30"#), Some("info".into()));
        assert_eq!(json(r#""lvl":"bogus""#), None);
        assert_eq!(
            level_of(r#"{"msg": "INFO no level field"}"#),
            Some("info".into())
        );
        assert_eq!(map_pod_column("NodeCpuUsageRate(%)"), None);
        assert_eq!(map_pod_column("CpuUsage(m)"), Some(("cpu_cores", 1e-3)));
    }
}

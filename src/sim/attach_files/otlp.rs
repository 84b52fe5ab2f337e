//! A simulated incident's calls as OpenTelemetry spans (OTLP JSON, the collector's file
//! exporter), rendered from the archive's series: at every sample time each service gets one
//! trace, a server span as long as its mean latency, with a client span per dependency as
//! long as the dependency latency (calls in parallel), and under a call to another service
//! that service's server span, as long as its own latency (capped by the call). The gap
//! between a call and the callee's span is the hop.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use crate::model::{ArchiveData, EntityKind};

type Points = BTreeMap<i64, (f64, usize)>;

/// Mean over pods of every (entity, metric, target) series: ts → value.
fn series_index(data: &ArchiveData) -> BTreeMap<(&str, &str, Option<&str>), BTreeMap<i64, f64>> {
    let mut acc: BTreeMap<(&str, &str, Option<&str>), Points> = BTreeMap::new();
    let wanted = [
        "latency_avg_ms",
        "dep_latency_ms",
        "dep_errors_per_s",
        "requests_per_s",
    ];
    for r in data
        .metrics
        .iter()
        .filter(|r| wanted.contains(&r.metric.as_str()))
    {
        if r.value.is_nan() || r.source.as_deref().is_some_and(|s| s != "cadvisor") {
            continue;
        }
        let e = acc
            .entry((&r.entity, &r.metric, r.target.as_deref()))
            .or_default()
            .entry(r.ts_ms)
            .or_insert((0.0, 0));
        e.0 += r.value;
        e.1 += 1;
    }
    acc.into_iter()
        .map(|(k, p)| {
            (
                k,
                p.into_iter().map(|(t, (v, n))| (t, v / n as f64)).collect(),
            )
        })
        .collect()
}

fn attr(k: &str, v: &str) -> Value {
    json!({"key": k, "value": {"stringValue": v}})
}

struct SpanOut<'a> {
    by_service: BTreeMap<&'a str, Vec<Value>>,
    next: u64,
}

impl<'a> SpanOut<'a> {
    #[expect(clippy::too_many_arguments, reason = "one span's fields")]
    fn push(
        &mut self,
        svc: &'a str,
        trace: &str,
        parent: Option<&str>,
        kind: u8,
        start_ns: i64,
        ms: f64,
        error: bool,
        attrs: Vec<Value>,
    ) -> String {
        self.next += 1;
        let id = format!("{:016x}", self.next);
        let mut s = json!({
            "traceId": trace, "spanId": id, "name": if kind == 3 { "call" } else { "handle" },
            "kind": kind, "startTimeUnixNano": start_ns.to_string(),
            "endTimeUnixNano": (start_ns + (ms.max(0.0) * 1e6) as i64).to_string(),
            "attributes": attrs, "status": if error { json!({"code": 2}) } else { json!({}) },
        });
        if let Some(p) = parent {
            s["parentSpanId"] = json!(p);
        }
        self.by_service.entry(svc).or_default().push(s);
        id
    }
}

/// The client span's attributes naming a callee that emits no spans.
fn peer_attrs(target: &str) -> Vec<Value> {
    match target.split_once(':') {
        Some(("redis" | "mysql", name)) => {
            let sys = target.split(':').next().unwrap_or("");
            vec![attr("db.system", sys), attr("server.address", name)]
        }
        Some((_, name)) => vec![attr("server.address", name)],
        None => vec![attr("peer.service", target)],
    }
}

/// Writes the archive's calls as OTLP JSON, one `ExportTraceServiceRequest` line per sample time.
///
/// # Errors
/// The writer fails.
pub fn write_otlp(data: &ArchiveData, w: &mut dyn Write) -> io::Result<()> {
    let idx = series_index(data);
    let lat = |e: &str, t: i64| {
        idx.get(&(e, "latency_avg_ms", None))
            .and_then(|p| p.get(&t))
            .copied()
    };
    let mut times: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    for ((e, m, _), p) in &idx {
        if *m == "latency_avg_ms" && EntityKind::of(e) == EntityKind::Service {
            for t in p.keys() {
                times.entry(*t).or_default().push(e);
            }
        }
    }
    let mut w = io::BufWriter::new(w);
    let mut out = SpanOut {
        by_service: BTreeMap::new(),
        next: 0,
    };
    for (t, services) in times {
        out.by_service.clear();
        for svc in services {
            let trace = format!("{:016x}{:016x}", t, out.next);
            let deps: Vec<(&str, f64, bool)> = idx
                .iter()
                .filter(|((e, m, tg), _)| *e == svc && *m == "dep_latency_ms" && tg.is_some())
                .filter_map(|((_, _, tg), p)| {
                    let tg = (*tg)?;
                    let errs = idx
                        .get(&(svc, "dep_errors_per_s", Some(tg)))
                        .and_then(|p| p.get(&t));
                    let reqs = idx
                        .get(&(svc, "requests_per_s", None))
                        .and_then(|p| p.get(&t));
                    let failing =
                        matches!((errs, reqs), (Some(e), Some(r)) if *e > 0.5 * r.max(1.0));
                    Some((tg, *p.get(&t)?, failing))
                })
                .collect();
            let longest = deps.iter().map(|d| d.1).fold(0.0, f64::max);
            let own = lat(svc, t).unwrap_or(0.0).max(longest + 1.0);
            let start = t * 1_000_000;
            let root = out.push(svc, &trace, None, 2, start, own, false, vec![]);
            for (tg, ms, failing) in deps {
                let at = start + 500_000;
                let callee = EntityKind::of(tg) == EntityKind::Service;
                let attrs = if callee { vec![] } else { peer_attrs(tg) };
                let call = out.push(svc, &trace, Some(&root), 3, at, ms, failing, attrs);
                if callee {
                    let inner = lat(tg, t).unwrap_or(ms).min(ms);
                    let gap = ((ms - inner) / 2.0 * 1e6) as i64;
                    out.push(tg, &trace, Some(&call), 2, at + gap, inner, failing, vec![]);
                }
            }
        }
        let rs: Vec<Value> = out
            .by_service
            .iter()
            .map(|(s, spans)| {
                json!({"resource": {"attributes": [attr("service.name", s)]},
                "scopeSpans": [{"scope": {"name": "funnel-sim"}, "spans": spans}]})
            })
            .collect();
        writeln!(w, "{}", json!({"resourceSpans": rs}))?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_become_client_spans_with_the_callee_span_inside() {
        use crate::model::MetricRow;
        let mut data = crate::sim::simulate("live-rt-jitter", 1).unwrap();
        let t = data.metrics[0].ts_ms;
        let dep = |to: &str, v: f64| MetricRow {
            target: Some(to.into()),
            ..MetricRow::new(t, "api", "dep_latency_ms", v)
        };
        data.metrics = vec![
            MetricRow::new(t, "api", "latency_avg_ms", 50.0),
            MetricRow::new(t, "users", "latency_avg_ms", 20.0),
            dep("users", 30.0),
            dep("redis:c", 2.0),
        ];
        let mut out = Vec::new();
        write_otlp(&data, &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let text = v.to_string();
        assert!(
            text.contains("server.address") && text.contains("\"redis\""),
            "{text}"
        );
        let of = |svc: &str| {
            v["resourceSpans"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["resource"]["attributes"][0]["value"]["stringValue"] == svc)
                .map(|r| r["scopeSpans"][0]["spans"].as_array().unwrap().clone())
                .unwrap()
        };
        // api: its handler and two calls; users: its own trace's root and its span inside
        // api's call, 20 ms of the call's 30.
        assert_eq!(of("api").len(), 3);
        let users = of("users");
        assert_eq!(users.len(), 2);
        let inner = users
            .iter()
            .find(|s| s.get("parentSpanId").is_some())
            .unwrap();
        let ns = |k: &str| inner[k].as_str().unwrap().parse::<i64>().unwrap();
        assert_eq!(ns("endTimeUnixNano") - ns("startTimeUnixNano"), 20_000_000);
    }
}

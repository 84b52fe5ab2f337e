//! Spans from OTLP JSON (the collector's file exporter: one `ExportTraceServiceRequest` per
//! line, `scopeSpans` or the older `instrumentationLibrarySpans`, int64 times as decimal
//! strings), Jaeger JSON (`data[].spans[]`, times in µs, `processes`) and Tempo JSON
//! (`batches`, OTLP-shaped with base64 ids).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::input::{self, Loc, at};
use super::text::Text;
use super::{Detected, Format, Summary};
use crate::archive::traces::Span;
use crate::error::Error;

/// Detects a traces file's format from its first bytes.
pub(crate) fn detect(head: &str) -> Option<Format> {
    let t = head.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    if t.contains("\"resourceSpans\"") {
        Some(Format::Otlp)
    } else if t.contains("\"batches\"") {
        Some(Format::Tempo)
    } else if t.contains("\"traceID\"") || t.contains("\"processes\"") {
        Some(Format::Jaeger)
    } else {
        None
    }
}

/// An OTLP attribute (its `AnyValue` as text) or a Jaeger tag.
#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Text,
}

fn attrs(kv: Vec<KeyValue>) -> BTreeMap<String, String> {
    kv.into_iter()
        .filter_map(|a| Some((a.key, a.value.0?)))
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OtlpRequest {
    #[serde(default, alias = "batches")]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize, Default)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    #[serde(default)]
    resource: Resource,
    #[serde(default, alias = "instrumentationLibrarySpans")]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize)]
struct ScopeSpans {
    #[serde(default)]
    spans: Vec<OtlpSpan>,
}

#[derive(Deserialize, Default)]
struct Status {
    #[serde(default)]
    code: Text,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OtlpSpan {
    trace_id: String,
    span_id: String,
    #[serde(default)]
    parent_span_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Text,
    start_time_unix_nano: Text,
    end_time_unix_nano: Text,
    #[serde(default)]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    status: Status,
}

const KINDS: [&str; 6] = [
    "unspecified",
    "internal",
    "server",
    "client",
    "producer",
    "consumer",
];

/// OTLP's kind, an enum number or its name (`SPAN_KIND_SERVER`).
fn otlp_kind(v: &Text) -> String {
    match v.0.as_deref() {
        Some(n) if n.bytes().all(|b| b.is_ascii_digit()) => KINDS
            .get(n.parse::<usize>().unwrap_or(0))
            .unwrap_or(&"unspecified")
            .to_string(),
        Some(s) => s.trim_start_matches("SPAN_KIND_").to_ascii_lowercase(),
        None => "unspecified".into(),
    }
}

/// Reads one file's spans into `out`.
pub(crate) fn read(
    path: &Path,
    found: &Detected,
    out: &mut Vec<Span>,
    sum: &mut Summary,
) -> Result<(), Error> {
    let (format, lines) = (&found.format, found.lines);
    match format {
        Format::Otlp | Format::Tempo => {
            let base64 = matches!(format, Format::Tempo);
            input::each_value(path, lines, |r: OtlpRequest, loc| {
                otlp(path, loc, r, base64, out, sum)
            })
        }
        Format::Jaeger => input::each_value(path, lines, |r: JaegerResponse, loc| {
            jaeger(path, loc, r, out, sum)
        }),
        other => Err(Error::input(
            path,
            format!("`{}` is not a traces format", other.name()),
        )),
    }
}

fn otlp(
    path: &Path,
    loc: Loc,
    r: OtlpRequest,
    base64: bool,
    out: &mut Vec<Span>,
    sum: &mut Summary,
) -> Result<(), Error> {
    for rs in r.resource_spans {
        let res = attrs(rs.resource.attributes);
        let Some(service) = res.get("service.name").cloned() else {
            sum.skip("spans of a resource without service.name");
            continue;
        };
        let pod = res.get("k8s.pod.name").cloned();
        for s in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
            let num = |v: &Text, what: &str| {
                let raw = v.0.as_deref().unwrap_or_default();
                input::epoch_ns(raw, what)
                    .map_err(|m| at(path, loc, format!("span {}: {m}", s.span_id)))
            };
            let start = num(&s.start_time_unix_nano, "startTimeUnixNano")?;
            let end = num(&s.end_time_unix_nano, "endTimeUnixNano")?;
            let id = |raw: &str| {
                if base64 {
                    b64_hex(raw)
                } else {
                    Some(raw.to_ascii_lowercase())
                }
            };
            let (Some(trace_id), Some(span_id)) = (id(&s.trace_id), id(&s.span_id)) else {
                return Err(at(
                    path,
                    loc,
                    format!(
                        "span id `{}` or trace id `{}` is not base64 (Tempo's encoding)",
                        s.span_id, s.trace_id
                    ),
                ));
            };
            let a = attrs(s.attributes);
            let code = s.status.code.0.as_deref().unwrap_or_default();
            out.push(Span {
                trace_id,
                span_id,
                parent_id: s
                    .parent_span_id
                    .filter(|p| !p.is_empty())
                    .and_then(|p| id(&p)),
                service: service.clone(),
                name: s.name,
                kind: otlp_kind(&s.kind),
                start_ns: start,
                duration_ns: (end - start).max(0),
                error: code == "2" || code == "STATUS_CODE_ERROR",
                peer: peer(&a),
                pod: a.get("k8s.pod.name").cloned().or_else(|| pod.clone()),
            });
        }
    }
    Ok(())
}

/// The callee a client span names: a database as `<db.system>:<name>` (`redis:live-cache`),
/// anything else by its bare host or peer service name (resolved to a service or `http:`
/// later, once every span's service is known).
pub(crate) fn peer(a: &BTreeMap<String, String>) -> Option<String> {
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| a.get(*k).filter(|v| !v.is_empty()))
    };
    let host = get(&[
        "peer.service",
        "server.address",
        "net.peer.name",
        "http.host",
    ])
    .map(|h| short_host(h));
    let system = get(&["db.system.name", "db.system"]);
    match system {
        Some(sys) => {
            let sys = match sys.as_str() {
                "mariadb" => "mysql",
                s => s,
            };
            let name = host.or_else(|| get(&["db.namespace", "db.name"]).cloned())?;
            Some(format!("{sys}:{name}"))
        }
        None => host,
    }
}

/// `live-cache.prod.svc.cluster.local:6379` → `live-cache`; an IP address is kept whole.
fn short_host(h: &str) -> String {
    let h = h.rsplit_once(':').map_or(h, |(a, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            a
        } else {
            h
        }
    });
    if h.parse::<std::net::IpAddr>().is_ok() || h.ends_with(".com") || h.ends_with(".io") {
        return h.to_string();
    }
    h.split('.').next().unwrap_or(h).to_string()
}

/// Standard base64 (with or without padding) → lowercase hex.
fn b64_hex(s: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push_str(&format!("{:02x}", (bits >> n) & 0xff));
        }
    }
    Some(out)
}

#[derive(Deserialize)]
struct JaegerResponse {
    #[serde(default)]
    data: Vec<JaegerTrace>,
}

#[derive(Deserialize)]
struct JaegerTrace {
    #[serde(default)]
    spans: Vec<JaegerSpan>,
    #[serde(default)]
    processes: BTreeMap<String, JaegerProcess>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JaegerProcess {
    service_name: String,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JaegerRef {
    ref_type: String,
    #[serde(rename = "spanID")]
    span_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JaegerSpan {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    #[serde(default)]
    operation_name: String,
    #[serde(default)]
    references: Vec<JaegerRef>,
    start_time: i64,
    duration: i64,
    #[serde(default)]
    tags: Vec<KeyValue>,
    #[serde(default, rename = "processID")]
    process_id: String,
}

fn jaeger(
    path: &Path,
    loc: Loc,
    r: JaegerResponse,
    out: &mut Vec<Span>,
    sum: &mut Summary,
) -> Result<(), Error> {
    for t in r.data {
        for s in t.spans {
            let Some(p) = t.processes.get(&s.process_id) else {
                sum.skip("Jaeger spans whose processID is not among the trace's processes");
                continue;
            };
            // µs since the epoch have 16 digits today; 13 are ms and 19 ns.
            let digits = s.start_time.unsigned_abs().to_string().len();
            if !(15..=17).contains(&digits) {
                let unit = if digits >= 18 {
                    "nanoseconds"
                } else {
                    "milliseconds or seconds"
                };
                return Err(at(
                    path,
                    loc,
                    format!(
                        "span {}: startTime {} looks like epoch {unit}, where Jaeger's microseconds are expected (16 digits)",
                        s.span_id, s.start_time
                    ),
                ));
            }
            let a = attrs(s.tags);
            let pa = attrs(
                p.tags
                    .iter()
                    .map(|k| KeyValue {
                        key: k.key.clone(),
                        value: k.value.clone(),
                    })
                    .collect(),
            );
            let parent = s
                .references
                .iter()
                .find(|r| r.ref_type == "CHILD_OF")
                .or_else(|| s.references.first())
                .map(|r| r.span_id.to_ascii_lowercase());
            out.push(Span {
                trace_id: s.trace_id.to_ascii_lowercase(),
                span_id: s.span_id.to_ascii_lowercase(),
                parent_id: parent,
                service: p.service_name.clone(),
                name: s.operation_name,
                kind: a
                    .get("span.kind")
                    .cloned()
                    .unwrap_or_else(|| "unspecified".into()),
                start_ns: s.start_time * 1000,
                duration_ns: s.duration.max(0) * 1000,
                error: a.get("error").is_some_and(|v| v == "true")
                    || a.get("otel.status_code").is_some_and(|v| v == "ERROR"),
                peer: peer(&a),
                pod: a
                    .get("k8s.pod.name")
                    .or_else(|| pa.get("k8s.pod.name"))
                    .or_else(|| pa.get("hostname"))
                    .cloned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_ids_become_hex() {
        assert_eq!(b64_hex("AAECAwQFBgc=").as_deref(), Some("0001020304050607"));
        assert_eq!(b64_hex("not base64!"), None);
    }

    #[test]
    fn callees_are_named_from_attributes() {
        let a = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            peer(&a(&[
                ("db.system", "redis"),
                ("server.address", "live-cache.prod.svc:6379")
            ])),
            Some("redis:live-cache".into())
        );
        assert_eq!(
            peer(&a(&[
                ("db.system.name", "mariadb"),
                ("db.namespace", "orders")
            ])),
            Some("mysql:orders".into())
        );
        assert_eq!(
            peer(&a(&[("peer.service", "gift-vendor")])),
            Some("gift-vendor".into())
        );
        assert_eq!(peer(&a(&[("http.method", "GET")])), None);
    }
}

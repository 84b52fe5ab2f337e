//! A simulated incident's logs and events as the tools that keep them write them, for
//! `funnel attach`: logs as `logcli --output=jsonl` lines and as a Loki `query_range`
//! response (labels `app`, `pod`, `node_name`, `level`), events as `kubectl get events -o json`
//! (core/v1). Tests strip an archive of its logs and events and attach these files back.
//!
//! Events are rendered the way Kubernetes and its operators record them: a deploy as the
//! Deployment's `ScalingReplicaSet` pair (new ReplicaSet up, old one down), a scale as the
//! HPA's `SuccessfulRescale`, a failover as the operator's event on its MySQL or Redis
//! object, a config change on the service's ConfigMap; any other kind keeps its name as the
//! reason. The archive's free-text detail goes into the message.
//!
//! Spans (OTLP JSON): [`otlp`].

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use crate::model::{EventRow, LogRow, fmt_ms};

mod otlp;

pub use otlp::write_otlp;

fn ns_time(ms: i64) -> String {
    fmt_ms(ms, "%Y-%m-%dT%H:%M:%S%.9fZ")
}

fn sec_time(ms: i64) -> String {
    fmt_ms(ms, "%Y-%m-%dT%H:%M:%SZ")
}

fn labels(r: &LogRow) -> BTreeMap<&'static str, String> {
    let mut l = BTreeMap::new();
    l.insert("app", r.entity.clone());
    if let Some(p) = &r.pod {
        l.insert("pod", p.clone());
    }
    if let Some(n) = &r.node {
        l.insert("node_name", n.clone());
    }
    if let Some(v) = &r.level {
        l.insert("level", v.clone());
    }
    l
}

/// Writes `logcli query --output=jsonl` lines, in time order.
///
/// # Errors
/// The writer fails.
pub fn write_logcli(logs: &[LogRow], w: &mut dyn Write) -> io::Result<()> {
    let mut rows: Vec<&LogRow> = logs.iter().collect();
    rows.sort_by_key(|r| r.ts_ms);
    let mut w = io::BufWriter::new(w);
    for r in rows {
        let line = json!({"labels": labels(r), "line": r.message, "timestamp": ns_time(r.ts_ms)});
        writeln!(w, "{line}")?;
    }
    w.flush()
}

/// Writes one Loki `/loki/api/v1/query_range` response: a stream per label set, values
/// `[ns, line]` in time order.
///
/// # Errors
/// The writer fails.
pub fn write_loki(logs: &[LogRow], w: &mut dyn Write) -> io::Result<()> {
    let mut streams: BTreeMap<BTreeMap<&str, String>, Vec<&LogRow>> = BTreeMap::new();
    for r in logs {
        streams.entry(labels(r)).or_default().push(r);
    }
    let result: Vec<Value> = streams
        .into_iter()
        .map(|(l, mut rows)| {
            rows.sort_by_key(|r| r.ts_ms);
            let values: Vec<Value> = rows
                .iter()
                .map(|r| json!([(i128::from(r.ts_ms) * 1_000_000).to_string(), r.message]))
                .collect();
            json!({"stream": l, "values": values})
        })
        .collect();
    let body = json!({"status": "success", "data": {"resultType": "streams", "result": result}});
    serde_json::to_writer(&mut *w, &body)?;
    writeln!(w)
}

/// A short stable hex id for a ReplicaSet of `svc` (its `n`-th revision).
fn rs_name(svc: &str, n: usize) -> String {
    let h = svc.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{svc}-{:08x}", h.wrapping_add(n as u32 * 0x9e37))
}

fn event(kind: &str, name: &str, reason: &str, message: &str, ts: i64, warn: bool) -> Value {
    let t = sec_time(ts);
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{name}.{ts:x}"), "namespace": "prod", "creationTimestamp": t},
        "involvedObject": {"kind": kind, "name": name, "namespace": "prod"},
        "reason": reason,
        "message": message,
        "type": if warn { "Warning" } else { "Normal" },
        "count": 1,
        "firstTimestamp": t,
        "lastTimestamp": t,
        "source": {"component": "sim"},
    })
}

/// The kubectl events of one archive event.
fn events_of(e: &EventRow, revision: &mut BTreeMap<String, usize>) -> Vec<Value> {
    let detail = e.detail.as_deref().unwrap_or("");
    let (kind, name) = e.entity.split_once(':').unwrap_or(("", &e.entity));
    match e.kind.as_str() {
        "deploy" => {
            let n = revision.entry(e.entity.clone()).or_insert(0);
            *n += 1;
            let (old, new) = (rs_name(name, *n - 1), rs_name(name, *n));
            vec![
                event(
                    "Deployment",
                    name,
                    "ScalingReplicaSet",
                    &format!("Scaled up replica set {new} to 1 ({detail})"),
                    e.ts_ms,
                    false,
                ),
                event(
                    "Deployment",
                    name,
                    "ScalingReplicaSet",
                    &format!("Scaled down replica set {old} to 0"),
                    e.ts_ms + 30_000,
                    false,
                ),
            ]
        }
        "scale" => {
            let to = detail.rsplit("-> ").next().unwrap_or("").trim();
            let msg =
                format!("New size: {to}; reason: cpu resource utilization above target ({detail})");
            vec![event(
                "HorizontalPodAutoscaler",
                name,
                "SuccessfulRescale",
                &msg,
                e.ts_ms,
                false,
            )]
        }
        "failover" => {
            let object = if kind == "redis" {
                "RedisFailover"
            } else {
                "MysqlCluster"
            };
            vec![event(
                object,
                name,
                "FailoverCompleted",
                detail,
                e.ts_ms,
                true,
            )]
        }
        "config" => vec![event(
            "ConfigMap",
            name,
            "ConfigChanged",
            detail,
            e.ts_ms,
            false,
        )],
        other => vec![event("Deployment", name, other, detail, e.ts_ms, false)],
    }
}

/// Writes `kubectl get events -o json` (a core/v1 `List`), in time order.
///
/// # Errors
/// The writer fails.
pub fn write_kubectl_events(events: &[EventRow], w: &mut dyn Write) -> io::Result<()> {
    let mut rows: Vec<&EventRow> = events.iter().collect();
    rows.sort_by_key(|e| e.ts_ms);
    let mut revision = BTreeMap::new();
    let items: Vec<Value> = rows
        .iter()
        .flat_map(|e| events_of(e, &mut revision))
        .collect();
    let body = json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {}});
    serde_json::to_writer_pretty(&mut *w, &body)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_is_a_replica_set_pair_and_logs_carry_their_labels() {
        let e = EventRow {
            ts_ms: 1_714_572_000_000,
            entity: "api".into(),
            kind: "deploy".into(),
            detail: Some("image v1 -> v2".into()),
        };
        let mut out = Vec::new();
        write_kubectl_events(&[e], &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["reason"], "ScalingReplicaSet");
        assert_eq!(items[0]["firstTimestamp"], "2024-05-01T14:00:00Z");
        assert!(
            items[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Scaled up replica set api-")
        );
        let log = LogRow {
            ts_ms: 1_714_572_000_123,
            entity: "api".into(),
            message: "GET /x 200".into(),
            pod: Some("api-1".into()),
            node: None,
            level: Some("info".into()),
            template: None,
        };
        let mut out = Vec::new();
        write_logcli(std::slice::from_ref(&log), &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["timestamp"], "2024-05-01T14:00:00.123000000Z");
        assert_eq!(v["labels"]["pod"], "api-1");
        let mut out = Vec::new();
        write_loki(&[log], &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["data"]["result"][0]["values"][0][0],
            "1714572000123000000"
        );
    }
}

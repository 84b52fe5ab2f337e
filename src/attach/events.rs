//! Kubernetes events: `kubectl get events -o json` (core/v1 `EventList`, and
//! events.k8s.io/v1 with `regarding`, `note` and the `deprecated*` fields) and
//! kubernetes-event-exporter's JSON lines (one core/v1 event per line).
//!
//! Each event becomes one archive event: the entity from the object it is about (a pod's
//! service by the naming convention, a ReplicaSet's deployment, a node as `node:<name>`), the
//! kind mapped from the reason (see [`kind_of`]), the raw reason and message in `detail`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::input::{self, Loc, at};
use super::{Detected, Format, Summary};
use crate::error::Error;
use crate::model::{EventRow, Instant, service_of_pod};

/// Detects an events file's format from its first bytes.
pub(crate) fn detect(head: &str) -> Option<Format> {
    let t = head.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    let event_like = t.contains("\"involvedObject\"") || t.contains("\"regarding\"");
    if input::is_json_lines(head) && event_like && !t.contains("\"items\"") {
        return Some(Format::EventLines);
    }
    if t.contains("\"items\"") || event_like {
        return Some(Format::Kubectl);
    }
    None
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct ObjectRef {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Series {
    #[serde(default)]
    last_observed_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    creation_timestamp: Option<String>,
}

/// Both API versions' fields; whichever the reporter filled is used.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(default)]
    involved_object: Option<ObjectRef>,
    #[serde(default)]
    regarding: Option<ObjectRef>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    first_timestamp: Option<String>,
    #[serde(default)]
    last_timestamp: Option<String>,
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    deprecated_first_timestamp: Option<String>,
    #[serde(default)]
    deprecated_last_timestamp: Option<String>,
    #[serde(default)]
    deprecated_count: Option<i64>,
    #[serde(default)]
    series: Option<Series>,
    #[serde(default)]
    metadata: Meta,
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    items: Option<Vec<Event>>,
    #[serde(flatten)]
    single: Event,
}

/// Reads one file's events (kinds are mapped later, over every file at once).
pub(crate) fn read(
    path: &Path,
    found: &Detected,
    out: &mut Vec<Raw>,
    sum: &mut Summary,
) -> Result<(), Error> {
    let lines = match &found.format {
        Format::EventLines => true,
        Format::Kubectl => found.lines,
        other => {
            return Err(Error::input(
                path,
                format!("`{}` is not an events format", other.name()),
            ));
        }
    };
    input::each_value(path, lines, |l: List, loc| {
        match l.items {
            Some(items) => {
                for (i, e) in items.into_iter().enumerate() {
                    one(path, loc, Some(i), e, out, sum)?;
                }
            }
            None => one(path, loc, None, l.single, out, sum)?,
        }
        Ok(())
    })
}

/// An event before its kind is mapped.
pub(crate) struct Raw {
    ts_ms: i64,
    object: ObjectRef,
    reason: String,
    message: String,
    warning: bool,
    count: i64,
}

fn one(
    path: &Path,
    loc: Loc,
    item: Option<usize>,
    e: Event,
    out: &mut Vec<Raw>,
    sum: &mut Summary,
) -> Result<(), Error> {
    let Some(object) = e.involved_object.or(e.regarding) else {
        sum.skip("events without involvedObject or regarding");
        return Ok(());
    };
    let stamps = [
        &e.first_timestamp,
        &e.deprecated_first_timestamp,
        &e.event_time,
        &e.last_timestamp,
        &e.deprecated_last_timestamp,
        &e.series.as_ref().and_then(|s| s.last_observed_time.clone()),
        &e.metadata.creation_timestamp,
    ];
    let Some(raw) = stamps.iter().find_map(|s| s.as_deref()) else {
        sum.skip("events without any timestamp (firstTimestamp, eventTime, lastTimestamp, series, creationTimestamp all null)");
        return Ok(());
    };
    let ts = Instant::parse(raw).ok_or_else(|| {
        let which = item.map_or(String::new(), |i| format!("items[{i}]: "));
        at(
            path,
            loc,
            format!("{which}timestamp `{raw}` is not RFC 3339"),
        )
    })?;
    out.push(Raw {
        ts_ms: ts.0,
        object,
        reason: e.reason.unwrap_or_default(),
        message: e.message.or(e.note).unwrap_or_default(),
        warning: e.kind.as_deref() == Some("Warning"),
        count: e.count.or(e.deprecated_count).unwrap_or(1),
    });
    Ok(())
}

/// The entity an object names.
fn entity_of(o: &ObjectRef) -> String {
    let lower = o.kind.to_ascii_lowercase();
    match o.kind.as_str() {
        "Pod" => service_of_pod(&o.name).to_string(),
        "ReplicaSet" => o
            .name
            .rsplit_once('-')
            .map_or(o.name.clone(), |(d, _)| d.to_string()),
        "Node" => format!("node:{}", o.name),
        _ if lower.contains("mysql") => format!("mysql:{}", o.name),
        _ if lower.contains("redis") => format!("redis:{}", o.name),
        _ => o.name.clone(),
    }
}

/// The ReplicaSet a `ScalingReplicaSet` message names (`Scaled up replica set api-7d9c8 to 3`).
fn replica_set(message: &str) -> Option<&str> {
    let rest = message.split_once("replica set ")?.1;
    rest.split_whitespace().next()
}

/// The archive kind of an event: `deploy` for a rollout (a deployment scaling a ReplicaSet up
/// while another of its ReplicaSets exists) and rollout reasons, `scale` for HPA rescales and
/// replica changes, `restart` for BackOff/Killing/OOM, `failover` for a switchover or
/// promotion, `config` for ConfigMap changes; otherwise the reason itself, lowercased.
fn kind_of(r: &Raw, rs_of: &BTreeMap<String, BTreeSet<String>>) -> String {
    let reason = r.reason.as_str();
    let text = format!("{reason} {}", r.message).to_ascii_lowercase();
    if reason == "ScalingReplicaSet" {
        let entity = entity_of(&r.object);
        let many = rs_of.get(&entity).is_some_and(|s| s.len() > 1);
        return if many && r.message.contains("Scaled up") {
            "deploy"
        } else {
            "scale"
        }
        .into();
    }
    let kind = if reason.contains("Rollout") || reason == "DeploymentRollback" {
        "deploy"
    } else if reason == "SuccessfulRescale" {
        "scale"
    } else if ["BackOff", "Killing", "OOMKilling", "OOMKilled", "Evicted"].contains(&reason)
        || text.contains("oomkilled")
    {
        "restart"
    } else if ["failover", "switchover", "promot"]
        .iter()
        .any(|w| text.contains(w))
    {
        "failover"
    } else if r.object.kind == "ConfigMap" || reason.contains("Config") {
        "config"
    } else if reason.is_empty() {
        "event"
    } else {
        return reason.to_ascii_lowercase();
    };
    kind.into()
}

/// Maps raw events to archive rows.
pub(crate) fn rows(raw: &[Raw]) -> Vec<EventRow> {
    let mut rs_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in raw.iter().filter(|r| r.reason == "ScalingReplicaSet") {
        if let Some(rs) = replica_set(&r.message) {
            rs_of
                .entry(entity_of(&r.object))
                .or_default()
                .insert(rs.to_string());
        }
    }
    raw.iter()
        .map(|r| {
            let mut detail = format!("{}: {}", r.reason, r.message.trim());
            if r.count > 1 {
                detail.push_str(&format!(" (×{})", r.count));
            }
            if r.warning {
                detail.push_str(" [Warning]");
            }
            EventRow {
                ts_ms: r.ts_ms,
                entity: entity_of(&r.object),
                kind: kind_of(r, &rs_of),
                detail: Some(detail),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: &str, name: &str, reason: &str, message: &str) -> Raw {
        Raw {
            ts_ms: 0,
            object: ObjectRef {
                kind: kind.into(),
                name: name.into(),
            },
            reason: reason.into(),
            message: message.into(),
            warning: false,
            count: 1,
        }
    }

    #[test]
    fn reasons_map_to_archive_kinds() {
        let ev = [
            raw(
                "Deployment",
                "api",
                "ScalingReplicaSet",
                "Scaled up replica set api-7d9c8 to 3",
            ),
            raw(
                "Deployment",
                "api",
                "ScalingReplicaSet",
                "Scaled down replica set api-5f5b6 to 0",
            ),
            raw(
                "Deployment",
                "web",
                "ScalingReplicaSet",
                "Scaled up replica set web-1a2b3 to 5",
            ),
            raw(
                "HorizontalPodAutoscaler",
                "web",
                "SuccessfulRescale",
                "New size: 5",
            ),
            raw(
                "Pod",
                "api-7d9c8-x2k4q",
                "BackOff",
                "Back-off restarting failed container",
            ),
            raw(
                "MySQLCluster",
                "orders",
                "Switchover",
                "primary switched to orders-1",
            ),
            raw(
                "Pod",
                "api-7d9c8-x2k4q",
                "Scheduled",
                "Successfully assigned",
            ),
        ];
        let rows = rows(&ev);
        let kinds: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.entity.as_str(), r.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("api", "deploy"),
                ("api", "scale"),
                ("web", "scale"),
                ("web", "scale"),
                ("api", "restart"),
                ("mysql:orders", "failover"),
                ("api", "scheduled")
            ]
        );
        assert_eq!(
            rows[4].detail.as_deref(),
            Some("BackOff: Back-off restarting failed container")
        );
    }
}

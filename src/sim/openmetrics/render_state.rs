//! kube-state-metrics and exporter "state" series: pod placement and owners, Deployment
//! replicas, node addresses, the storage primary. Rollouts, scale changes and failovers in the
//! archive's events become changes of these series, as they do in a cluster; the series reach
//! back before the data far enough to show the state a change started from.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{ArchiveData, EventRow};

use super::{NAMESPACE, Out};

/// A node's address (node-exporter's `instance` is `IP:9100`).
#[must_use]
pub fn node_ip(i: usize) -> String {
    format!("10.0.{}.{}", i / 200, i % 200 + 10)
}

fn events<'a>(data: &'a ArchiveData, entity: &str, kind: &str) -> Vec<&'a EventRow> {
    let mut v: Vec<&EventRow> = data
        .events
        .iter()
        .filter(|e| e.entity == entity && e.kind == kind)
        .collect();
    v.sort_by_key(|e| e.ts_ms);
    v
}

/// Index of the period `t` falls in, given the sorted change times.
fn period(changes: &[i64], t: i64) -> usize {
    changes.iter().filter(|&&c| c <= t).count()
}

pub(super) fn state_series(
    out: &mut Out,
    data: &ArchiveData,
    pods: &BTreeMap<&str, (&str, Option<&str>)>,
    times: &BTreeSet<i64>,
    lookback: i64,
) {
    let Some(&first) = times.iter().next() else {
        return;
    };
    let timeline = timeline(data, first, times, lookback);
    let mut by_svc: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (&pod, &(svc, node)) in pods {
        if !super::is_service(svc) {
            continue;
        }
        by_svc.entry(svc).or_default().push(pod);
        let l = [
            ("namespace", NAMESPACE),
            ("pod", pod),
            ("node", node.unwrap_or("")),
        ];
        out.push("kube_pod_info", &l, ones(&timeline, |_| true));
    }
    for (svc, pods) in &by_svc {
        owner_series(out, data, svc, pods, &timeline);
        replica_series(out, data, svc, pods.len(), &timeline);
    }
    let entities: BTreeSet<&str> = data.metrics.iter().map(|r| r.entity.as_str()).collect();
    let nodes = entities.iter().filter_map(|e| e.strip_prefix("node:"));
    for (i, node) in nodes.enumerate() {
        let ip = node_ip(i);
        out.push(
            "kube_node_info",
            &[("node", node), ("internal_ip", &ip)],
            ones(&timeline, |_| true),
        );
    }
    for e in &entities {
        primary_series(out, data, e, &timeline);
    }
}

/// The scrape times, preceded (when a deploy, scale or failover falls within `lookback` before
/// the data) by one point a minute from ten minutes before the earliest such change, so the
/// state it changed from shows.
fn timeline(data: &ArchiveData, first: i64, times: &BTreeSet<i64>, lookback: i64) -> Vec<i64> {
    let earliest = data
        .events
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "deploy" | "scale" | "failover"))
        .map(|e| e.ts_ms)
        .filter(|&t| t < first && t >= first - lookback)
        .min();
    let mut timeline: Vec<i64> = Vec::new();
    if let Some(e) = earliest {
        let mut t = (e - 10 * 60_000).div_euclid(60_000) * 60_000;
        while t < first {
            timeline.push(t);
            t += 60_000;
        }
    }
    timeline.extend(times.iter().copied());
    timeline
}

/// An info series: 1 at each time of `timeline` that `keep` accepts.
fn ones(timeline: &[i64], keep: impl Fn(i64) -> bool) -> Vec<(i64, f64)> {
    timeline
        .iter()
        .filter(|&&t| keep(t))
        .map(|&t| (t, 1.0))
        .collect()
}

/// One ReplicaSet per deploy period of `svc`, and its pods owned by the one of the period.
fn owner_series(out: &mut Out, data: &ArchiveData, svc: &str, pods: &[&str], timeline: &[i64]) {
    let changes: Vec<i64> = events(data, svc, "deploy")
        .iter()
        .map(|e| e.ts_ms)
        .collect();
    for i in 0..=changes.len() {
        let rs = format!("{svc}-{:x}", 0x5f7c9 + i * 0x1d3);
        let l = [
            ("namespace", NAMESPACE),
            ("replicaset", rs.as_str()),
            ("owner_kind", "Deployment"),
            ("owner_name", svc),
        ];
        out.push("kube_replicaset_owner", &l, ones(timeline, |_| true));
        for pod in pods {
            let l = [
                ("namespace", NAMESPACE),
                ("pod", pod),
                ("owner_kind", "ReplicaSet"),
                ("owner_name", rs.as_str()),
            ];
            out.push(
                "kube_pod_owner",
                &l,
                ones(timeline, |t| period(&changes, t) == i),
            );
        }
    }
}

/// The Deployment's desired replicas: before a scale event, the count it scaled from;
/// otherwise the pods seen.
fn replica_series(out: &mut Out, data: &ArchiveData, svc: &str, pods: usize, timeline: &[i64]) {
    let scales = events(data, svc, "scale");
    let before = |t: i64| {
        scales
            .iter()
            .find(|e| e.ts_ms > t)
            .and_then(|e| e.detail.as_deref())
            .and_then(|d| d.trim_start_matches("replicas ").split(" -> ").next())
            .and_then(|n| n.trim().parse::<f64>().ok())
    };
    let replicas: Vec<(i64, f64)> = timeline
        .iter()
        .map(|&t| (t, before(t).unwrap_or(pods as f64)))
        .collect();
    let l = [("namespace", NAMESPACE), ("deployment", svc)];
    out.push("kube_deployment_spec_replicas", &l, replicas);
}

/// A storage entity's primary: one instance per failover period, the series its exporter
/// reports only on the primary (redis' master role, mysql's writable `read_only = 0`).
fn primary_series(out: &mut Out, data: &ArchiveData, e: &str, timeline: &[i64]) {
    let Some((kind, name)) = e.split_once(':') else {
        return;
    };
    let (metric, port, value) = match kind {
        "redis" => ("redis_instance_info", 6379, 1.0),
        "mysql" => ("mysql_global_variables_read_only", 3306, 0.0),
        _ => return,
    };
    let changes: Vec<i64> = events(data, e, "failover")
        .iter()
        .map(|e| e.ts_ms)
        .collect();
    for i in 0..=changes.len() {
        let inst = format!("{name}-{i}:{port}");
        let mut l = vec![("service", name), ("instance", inst.as_str())];
        if kind == "redis" {
            l.push(("role", "master"));
        }
        let pts = timeline
            .iter()
            .filter(|&&t| period(&changes, t) == i)
            .map(|&t| (t, value))
            .collect();
        out.push(metric, &l, pts);
    }
}

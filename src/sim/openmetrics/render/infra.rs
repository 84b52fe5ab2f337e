//! The exporters of the infrastructure around the pods: node-exporter, the Redis and MySQL
//! exporters, and ingress-nginx.

use std::collections::BTreeSet;

use crate::model::ArchiveData;

use super::super::Out;
use super::super::points::{
    NGINX_BUCKETS_S, Points, counter, from_first_positive, gauge, histogram,
};
use super::{Index, get};

/// Storage commands per second (the archive keeps no server-side rate).
const STORE_RATE: f64 = 500.0;
/// node-exporter, the storage exporters and ingress-nginx: the series of every entity that
/// is not a pod.
pub(super) fn infra_series(out: &mut Out, idx: &Index<'_>, data: &ArchiveData) {
    let entities: BTreeSet<&str> = idx.keys().filter(|k| k.2.is_none()).map(|k| k.0).collect();
    let nodes = entities.iter().filter_map(|e| e.strip_prefix("node:"));
    for (i, node) in nodes.enumerate() {
        node_series(out, idx, i, node);
    }
    for e in &entities {
        let g = |m: &'static str| get(idx, e, m, None, "app", None);
        let (kind, name) = e.split_once(':').unwrap_or(("", e));
        match kind {
            "redis" | "mysql" => store_series(out, &g, kind, name),
            "ingress" => ingress_series(out, &g, data, e, name),
            _ => {}
        }
    }
}

/// node-exporter's series of the `i`th node (which fixes its address).
fn node_series(out: &mut Out, idx: &Index<'_>, i: usize, node: &str) {
    let e = format!("node:{node}");
    let inst = super::super::render_state::node_ip(i) + ":9100";
    let g = |m: &'static str| get(idx, &e, m, None, "app", None);
    if let Some(u) = g("cpu_utilization") {
        let idle: Points = u.iter().map(|(t, v)| (*t, (1.0 - v).max(0.0))).collect();
        out.push(
            "node_cpu_seconds_total",
            &[("instance", &inst), ("cpu", "0"), ("mode", "idle")],
            counter(&idle),
        );
    }
    if let Some(ne) = g("net_errors_per_s") {
        let l = [("instance", inst.as_str()), ("device", "eth0")];
        out.push("node_network_receive_errs_total", &l, counter(ne));
        let zero: Points = ne.keys().map(|t| (*t, 0.0)).collect();
        out.push("node_network_transmit_errs_total", &l, counter(&zero));
    }
}

/// The redis or mysql exporter's series of one server.
fn store_series<'a>(
    out: &mut Out,
    g: &dyn Fn(&'static str) -> Option<&'a Points>,
    kind: &str,
    name: &str,
) {
    let l = [("service", name)];
    let (total, secs, conns) = if kind == "redis" {
        (
            "redis_commands_total",
            "redis_commands_duration_seconds_total",
            "redis_connected_clients",
        )
    } else {
        (
            "mysql_perf_schema_events_statements_total",
            "mysql_perf_schema_events_statements_seconds_total",
            "mysql_global_status_threads_connected",
        )
    };
    if let Some(lat) = g("server_latency_ms") {
        let rate: Points = lat.keys().map(|t| (*t, STORE_RATE)).collect();
        let busy: Points = lat
            .iter()
            .map(|(t, v)| (*t, v / 1000.0 * STORE_RATE))
            .collect();
        out.push(total, &l, counter(&rate));
        out.push(secs, &l, counter(&busy));
    }
    if let Some(c) = g("connections") {
        out.push(conns, &l, gauge(c));
    }
    if let Some(s) = g("slow_queries_per_s") {
        out.push("mysql_global_status_slow_queries", &l, counter(s));
    }
}

/// ingress-nginx's series of one ingress: requests split evenly over the services behind it.
fn ingress_series<'a>(
    out: &mut Out,
    g: &dyn Fn(&'static str) -> Option<&'a Points>,
    data: &ArchiveData,
    e: &str,
    name: &str,
) {
    let empty = Points::new();
    let reqs = g("requests_per_s").unwrap_or(&empty);
    let errs = g("errors_per_s").unwrap_or(&empty);
    let behind: Vec<&str> = data
        .spec
        .entities
        .iter()
        .filter(|s| s.entry.iter().any(|g| g == e))
        .map(|s| s.id.as_str())
        .collect();
    let share = 1.0 / behind.len().max(1) as f64;
    for svc in if behind.is_empty() { vec![""] } else { behind } {
        let ok: Points = reqs
            .iter()
            .map(|(t, r)| {
                (
                    *t,
                    (r - errs.get(t).copied().unwrap_or(0.0)).max(0.0) * share,
                )
            })
            .collect();
        let er: Points = reqs
            .keys()
            .map(|t| (*t, errs.get(t).copied().unwrap_or(0.0) * share))
            .collect();
        let base = [("ingress", name), ("service", svc)];
        let mut l2 = base.to_vec();
        l2.push(("status", "200"));
        out.push("nginx_ingress_controller_requests", &l2, counter(&ok));
        l2[2] = ("status", "503");
        out.push(
            "nginx_ingress_controller_requests",
            &l2,
            from_first_positive(counter(&er)),
        );
    }
    if let (Some(p99), Some(avg)) = (g("latency_p99_ms"), g("latency_avg_ms")) {
        let s = |p: &Points| p.iter().map(|(t, v)| (*t, v / 1000.0)).collect::<Points>();
        histogram(
            out,
            "nginx_ingress_controller_request_duration_seconds",
            &[("ingress", name)],
            &NGINX_BUCKETS_S,
            reqs,
            &s(p99),
            &s(avg),
        );
    }
}

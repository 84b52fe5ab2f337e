//! Archive rows → raw series, one function per exporter.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{ArchiveData, MetricRow};

use super::{NAMESPACE, Out, RawSeries, is_service};

/// Istio's default request-duration buckets (ms).
pub const ISTIO_BUCKETS_MS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];
/// ingress-nginx's default request-duration buckets (s).
pub const NGINX_BUCKETS_S: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Storage commands per second (the archive keeps no server-side rate).
const STORE_RATE: f64 = 500.0;
/// Calls per second of a pod with no request rate of its own.
const FALLBACK_CALLS: f64 = 10.0;
/// How far before the data state series (owners, replicas, masters) reach to show a change.
const STATE_LOOKBACK_MS: i64 = 6 * 3_600_000;

type Points = BTreeMap<i64, f64>;
/// (entity, metric, pod, container, target) → points.
type Index<'a> = BTreeMap<(&'a str, &'a str, Option<&'a str>, &'a str, Option<&'a str>), Points>;

/// The share of requests per bucket (the last one is +Inf) for which `histogram_quantile(0.99)`
/// interpolates back to `p99`: 99 % at or below it, the rest just above.
#[must_use]
pub fn bucket_masses(bounds: &[f64], p99: f64) -> Vec<f64> {
    let mut m = vec![0.0; bounds.len() + 1];
    let k = bounds
        .iter()
        .position(|&b| p99 <= b)
        .unwrap_or(bounds.len());
    if k == 0 || k == bounds.len() {
        m[k] = 1.0;
        return m;
    }
    let lo = bounds[k - 1];
    let x = ((p99 - lo) / (bounds[k] - lo)).clamp(0.0, 1.0);
    let mass = if x >= 1.0 {
        0.02
    } else {
        (0.01 / (1.0 - x)).min(0.02)
    };
    let below = 0.99 - x * mass;
    m[k - 1] = below;
    m[k] = mass;
    m[k + 1] += (1.0 - below - mass).max(0.0);
    m
}

/// Cumulative sum of rate × interval: a counter scraped at the points' times.
fn counter(rates: &Points) -> Vec<(i64, f64)> {
    let mut c = 0.0;
    let mut prev: Option<i64> = None;
    let mut out = Vec::with_capacity(rates.len());
    for (&t, &r) in rates {
        let dt = prev.map_or(0.0, |p| (t - p) as f64 / 1000.0);
        c += r.max(0.0) * dt;
        prev = Some(t);
        out.push((t, c));
    }
    out
}

/// Counter points from the first one that is positive on (Istio/OTel create error series at
/// the first error).
fn from_first_positive(v: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    let i = v.iter().position(|p| p.1 > 0.0).unwrap_or(v.len());
    v[i..].to_vec()
}

fn gauge(p: &Points) -> Vec<(i64, f64)> {
    p.iter().map(|(&t, &v)| (t, v)).collect()
}

/// Histogram series (buckets cumulative in `le`, +Inf, _sum, _count) from per-step request
/// rates, p99 and mean.
fn histogram(
    out: &mut Out,
    name: &str,
    labels: &[(&str, &str)],
    bounds: &[f64],
    reqs: &Points,
    p99: &Points,
    avg: &Points,
) {
    let mut buckets = vec![Vec::new(); bounds.len() + 1];
    let mut counts = vec![0.0; bounds.len() + 1];
    let (mut sum, mut count) = (Vec::new(), Vec::new());
    let (mut s, mut c) = (0.0, 0.0);
    let mut prev: Option<i64> = None;
    for (&t, &r) in reqs {
        let (Some(&q), Some(&a)) = (p99.get(&t), avg.get(&t)) else {
            continue;
        };
        let n = r.max(0.0) * prev.map_or(0.0, |p| (t - p) as f64 / 1000.0);
        prev = Some(t);
        for (i, m) in bucket_masses(bounds, q).into_iter().enumerate() {
            counts[i] += n * m;
        }
        c += n;
        s += n * a;
        let mut cum = 0.0;
        for (i, b) in buckets.iter_mut().enumerate() {
            cum += counts[i];
            b.push((t, cum));
        }
        sum.push((t, s));
        count.push((t, c));
    }
    for (i, b) in buckets.into_iter().enumerate() {
        let le = bounds
            .get(i)
            .map_or_else(|| "+Inf".to_string(), |b| format!("{b}"));
        let mut l = labels.to_vec();
        l.push(("le", &le));
        out.push(&format!("{name}_bucket"), &l, b);
    }
    out.push(&format!("{name}_sum"), labels, sum);
    out.push(&format!("{name}_count"), labels, count);
}

pub(super) fn render(data: &ArchiveData, rows: &[&MetricRow]) -> Vec<RawSeries> {
    let mut idx: Index<'_> = BTreeMap::new();
    let mut pods: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
    let mut times: BTreeSet<i64> = BTreeSet::new();
    for r in rows {
        times.insert(r.ts_ms);
        if let Some(p) = &r.pod {
            let e = pods.entry(p).or_insert((&r.entity, None));
            if e.1.is_none() {
                e.1 = r.node.as_deref();
            }
        }
        if r.value.is_finite() {
            let key = (
                r.entity.as_str(),
                r.metric.as_str(),
                r.pod.as_deref(),
                r.container.as_deref().unwrap_or("app"),
                r.target.as_deref(),
            );
            idx.entry(key).or_default().insert(r.ts_ms, r.value);
        }
    }
    let mut out = Out(Vec::new());
    pod_series(&mut out, &idx, &pods);
    infra_series(&mut out, &idx, data);
    super::render_state::state_series(&mut out, data, &pods, &times, STATE_LOOKBACK_MS);
    out.0
}

fn get<'a, 's>(
    idx: &'a Index<'s>,
    e: &'s str,
    m: &'s str,
    pod: Option<&'s str>,
    c: &'s str,
    t: Option<&'s str>,
) -> Option<&'a Points> {
    idx.get(&(e, m, pod, c, t))
}

fn pod_series(out: &mut Out, idx: &Index<'_>, pods: &BTreeMap<&str, (&str, Option<&str>)>) {
    let empty = Points::new();
    for (&pod, &(svc, node)) in pods {
        if !is_service(svc) {
            continue;
        }
        let node = node.unwrap_or("");
        let g = |m: &'static str, c: &'static str| get(idx, svc, m, Some(pod), c, None);
        let reqs = g("requests_per_s", "app");
        if let Some(reqs) = reqs {
            let errs = g("errors_per_s", "app").unwrap_or(&empty);
            let ok: Points = reqs
                .iter()
                .map(|(&t, &r)| (t, (r - errs.get(&t).copied().unwrap_or(0.0)).max(0.0)))
                .collect();
            let err: Points = reqs
                .keys()
                .map(|t| (*t, errs.get(t).copied().unwrap_or(0.0).min(reqs[t])))
                .collect();
            let base = [
                ("namespace", NAMESPACE),
                ("pod", pod),
                ("reporter", "destination"),
                ("destination_workload", svc),
                ("destination_workload_namespace", NAMESPACE),
            ];
            let with_code = |code: &'static str| {
                let mut l = base.to_vec();
                l.push(("response_code", code));
                l
            };
            out.push("istio_requests_total", &with_code("200"), counter(&ok));
            out.push(
                "istio_requests_total",
                &with_code("503"),
                from_first_positive(counter(&err)),
            );
            if let (Some(p99), Some(avg)) = (g("latency_p99_ms", "app"), g("latency_avg_ms", "app"))
            {
                histogram(
                    out,
                    "istio_request_duration_milliseconds",
                    &base,
                    &ISTIO_BUCKETS_MS,
                    reqs,
                    p99,
                    avg,
                );
            }
        }
        dep_series(out, idx, svc, pod, reqs);
        container_series(out, idx, svc, pod, node);
    }
}

fn dep_series(out: &mut Out, idx: &Index<'_>, svc: &str, pod: &str, reqs: Option<&Points>) {
    let targets: BTreeSet<&str> = idx
        .keys()
        .filter(|k| k.0 == svc && k.2 == Some(pod) && k.1 == "dep_latency_ms")
        .filter_map(|k| k.4)
        .collect();
    let empty = Points::new();
    for t in targets {
        let Some(lat) = get(idx, svc, "dep_latency_ms", Some(pod), "app", Some(t)) else {
            continue;
        };
        let errs = get(idx, svc, "dep_errors_per_s", Some(pod), "app", Some(t)).unwrap_or(&empty);
        let calls: Points = lat
            .keys()
            .map(|ts| {
                (
                    *ts,
                    reqs.and_then(|r| r.get(ts))
                        .copied()
                        .unwrap_or(FALLBACK_CALLS),
                )
            })
            .collect();
        let err: Points = calls
            .iter()
            .map(|(ts, c)| (*ts, errs.get(ts).copied().unwrap_or(0.0).min(*c)))
            .collect();
        let ok: Points = calls.iter().map(|(ts, c)| (*ts, c - err[ts])).collect();
        let lat_sum: Points = calls.iter().map(|(ts, c)| (*ts, c * lat[ts])).collect();
        let calls = Calls {
            all: calls,
            ok,
            err,
            lat_sum,
        };
        match t
            .split_once(':')
            .filter(|(s, _)| matches!(*s, "redis" | "mysql"))
        {
            Some((system, name)) => db_client_series(out, svc, pod, system, name, &calls),
            None => istio_client_series(out, svc, pod, t, &calls),
        }
    }
}

/// A pod's calls to one dependency per step: rates (calls, successes, errors) and the latency
/// summed over the calls, ms.
struct Calls {
    all: Points,
    ok: Points,
    err: Points,
    lat_sum: Points,
}

/// Calls to a database as the OpenTelemetry client instrumentation reports them.
fn db_client_series(out: &mut Out, svc: &str, pod: &str, system: &str, name: &str, c: &Calls) {
    let l = [
        ("service_name", svc),
        ("k8s_pod_name", pod),
        ("db_system_name", system),
        ("server_address", name),
    ];
    let secs: Points = c.lat_sum.iter().map(|(ts, v)| (*ts, v / 1000.0)).collect();
    out.push(
        "db_client_operation_duration_seconds_sum",
        &l,
        counter(&secs),
    );
    out.push(
        "db_client_operation_duration_seconds_count",
        &l,
        counter(&c.ok),
    );
    let mut le = l.to_vec();
    le.push(("error_type", "timeout"));
    out.push(
        "db_client_operation_duration_seconds_count",
        &le,
        from_first_positive(counter(&c.err)),
    );
}

/// Calls to a service (or an `http:` third party) as the caller's Istio sidecar reports them.
fn istio_client_series(out: &mut Out, svc: &str, pod: &str, target: &str, c: &Calls) {
    let (dw, dsn) = match target.strip_prefix("http:") {
        Some(v) => ("unknown", v),
        None => (target, target),
    };
    let base = [
        ("namespace", NAMESPACE),
        ("pod", pod),
        ("reporter", "source"),
        ("source_workload", svc),
        ("destination_workload", dw),
        ("destination_service_name", dsn),
    ];
    let code = |c: &'static str| {
        let mut l = base.to_vec();
        l.push(("response_code", c));
        l
    };
    out.push("istio_requests_total", &code("200"), counter(&c.ok));
    out.push(
        "istio_requests_total",
        &code("503"),
        from_first_positive(counter(&c.err)),
    );
    out.push(
        "istio_request_duration_milliseconds_sum",
        &base,
        counter(&c.lat_sum),
    );
    out.push(
        "istio_request_duration_milliseconds_count",
        &base,
        counter(&c.all),
    );
}

fn container_series(out: &mut Out, idx: &Index<'_>, svc: &str, pod: &str, node: &str) {
    for (c, name) in [("app", svc), ("sidecar", "istio-proxy")] {
        let g = |m: &'static str| get(idx, svc, m, Some(pod), c, None);
        let l = [
            ("namespace", NAMESPACE),
            ("pod", pod),
            ("container", name),
            ("node", node),
        ];
        if let Some(p) = g("cpu_cores") {
            out.push("container_cpu_usage_seconds_total", &l, counter(p));
        }
        if let Some(p) = g("mem_rss_bytes") {
            out.push("container_memory_working_set_bytes", &l, gauge(p));
        }
        if let Some(p) = g("mem_cache_bytes") {
            out.push("container_memory_cache", &l, gauge(p));
        }
        for (m, res, unit) in [
            ("cpu_limit_cores", "cpu", "core"),
            ("mem_limit_bytes", "memory", "byte"),
        ] {
            if let Some(p) = g(m) {
                let mut l = l.to_vec();
                l.extend([("resource", res), ("unit", unit)]);
                out.push("kube_pod_container_resource_limits", &l, gauge(p));
            }
        }
        if let Some(p) = g("restarts") {
            out.push(
                "kube_pod_container_status_restarts_total",
                &l[..3],
                gauge(p),
            );
        }
    }
    if let Some(p) = get(idx, svc, "goroutines", Some(pod), "app", None) {
        out.push(
            "go_goroutines",
            &[("namespace", NAMESPACE), ("pod", pod)],
            gauge(p),
        );
    }
}

fn infra_series(out: &mut Out, idx: &Index<'_>, data: &ArchiveData) {
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
    let inst = super::render_state::node_ip(i) + ":9100";
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_masses_interpolate_back_to_the_p99() {
        for p99 in [0.7, 42.0, 119.0, 780.0, 1000.0, 3000.0] {
            let m = bucket_masses(&ISTIO_BUCKETS_MS, p99);
            assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            // histogram_quantile: the bucket where the cumulative share reaches 0.99, then
            // linear interpolation inside it.
            let mut cum = 0.0;
            for (i, share) in m.iter().enumerate() {
                if cum + share >= 0.99 - 1e-12 && *share > 0.0 {
                    let lo = if i == 0 { 0.0 } else { ISTIO_BUCKETS_MS[i - 1] };
                    let hi = ISTIO_BUCKETS_MS[i];
                    let q = lo + (hi - lo) * (0.99 - cum) / share;
                    assert!((q - p99).abs() < 1e-6 * p99.max(1.0), "{p99}: {q}");
                    break;
                }
                cum += share;
            }
        }
    }
}

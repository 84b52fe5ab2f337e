//! Archive rows → raw series, one function per exporter.

mod infra;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{ArchiveData, MetricRow};

use super::points::{ISTIO_BUCKETS_MS, Points, counter, from_first_positive, gauge, histogram};
use super::{NAMESPACE, Out, RawSeries, is_service};

/// Calls per second of a pod with no request rate of its own.
const FALLBACK_CALLS: f64 = 10.0;
/// How far before the data state series (owners, replicas, masters) reach to show a change.
const STATE_LOOKBACK_MS: i64 = 6 * 3_600_000;

/// (entity, metric, pod, container, target) → points.
type Index<'a> = BTreeMap<(&'a str, &'a str, Option<&'a str>, &'a str, Option<&'a str>), Points>;

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
    infra::infra_series(&mut out, &idx, data);
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

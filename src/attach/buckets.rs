//! The buckets [`super::derive`] fills, per (entity, metric, target, time), and the series
//! rows made of them: p99 for latencies, a rate for counts, a mean for self-time.

use std::collections::BTreeSet;

use super::derive::SOURCE;
use crate::hashing::FastMap;
use crate::model::MetricRow;

fn p99(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = ((v.len() as f64) * 0.99).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The series [`derive`] collects, in the order its rows are written.
const METRICS: [&str; 6] = [
    "dep_errors_per_s",
    "dep_hop_ms",
    "dep_latency_ms",
    "errors_per_s",
    "latency_p99_ms",
    "self_time_ms",
];

pub(super) fn metric(name: &str) -> u8 {
    METRICS.iter().position(|m| *m == name).unwrap_or(0) as u8
}

/// (entity, metric index, target or `u32::MAX`, bucket start) → samples.
pub(super) type Buckets = FastMap<(u32, u8, u32, i64), Vec<f64>>;

/// The rows of the buckets, in (entity, metric, target, time) order.
pub(super) fn series(
    b: Buckets,
    names: &[&str],
    have: &BTreeSet<(String, String)>,
    step_ms: i64,
) -> Vec<MetricRow> {
    let step_s = step_ms as f64 / 1000.0;
    let name = |i: u32| names.get(i as usize).copied();
    let mut b: Vec<_> = b.into_iter().collect();
    b.sort_unstable_by(|((e1, m1, t1, ts1), _), ((e2, m2, t2, ts2), _)| {
        (name(*e1), m1, name(*t1), ts1).cmp(&(name(*e2), m2, name(*t2), ts2))
    });
    let mut rows = Vec::new();
    for ((e, m, t, ts), mut v) in b {
        let entity = name(e).unwrap_or_default();
        let own = |m: &str| have.contains(&(entity.to_string(), m.to_string()));
        let mut emit = |metric: &str, value: f64| {
            let mut r = MetricRow::new(ts, entity, metric, value);
            r.target = name(t).map(str::to_string);
            r.source = Some(SOURCE.into());
            rows.push(r);
        };
        match METRICS[m as usize] {
            metric @ ("dep_latency_ms" | "dep_hop_ms") => emit(metric, p99(&mut v)),
            "dep_errors_per_s" => emit("dep_errors_per_s", v.iter().sum::<f64>() / step_s),
            "self_time_ms" => emit("self_time_ms", mean(&v)),
            "latency_p99_ms" => {
                if !own("latency_p99_ms") {
                    emit("latency_p99_ms", p99(&mut v));
                }
                if !own("requests_per_s") {
                    emit("requests_per_s", v.len() as f64 / step_s);
                }
            }
            "errors_per_s" if !own("errors_per_s") => {
                emit("errors_per_s", v.iter().sum::<f64>() / step_s);
            }
            _ => {}
        }
    }
    rows
}

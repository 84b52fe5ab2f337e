//! Rates and levels → Prometheus points: cumulative counters, gauges, and histograms whose
//! buckets `histogram_quantile` reads back to the p99 they were built from.

use std::collections::BTreeMap;

use super::Out;

/// Istio's default request-duration buckets (ms).
pub const ISTIO_BUCKETS_MS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];
/// ingress-nginx's default request-duration buckets (s).
pub const NGINX_BUCKETS_S: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A series' points: time (ms) → value.
pub(super) type Points = BTreeMap<i64, f64>;

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
pub(super) fn counter(rates: &Points) -> Vec<(i64, f64)> {
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
pub(super) fn from_first_positive(v: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    let i = v.iter().position(|p| p.1 > 0.0).unwrap_or(v.len());
    v[i..].to_vec()
}

pub(super) fn gauge(p: &Points) -> Vec<(i64, f64)> {
    p.iter().map(|(&t, &v)| (t, v)).collect()
}

/// Histogram series (buckets cumulative in `le`, +Inf, _sum, _count) from per-step request
/// rates, p99 and mean.
pub(super) fn histogram(
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

//! The root cause as a condition (a limit below what the traffic needed, not just a
//! component), with named statistics, and the capacity estimate behind it.

use crate::evidence::Context;
use crate::evidence::resources::saturation;
use crate::evidence::sources::fmt_val;
use crate::stats;
use crate::verdict::Verdict;
use crate::verdict::timing::{AT_LIMIT, Timing, limit_series};

use super::narrative::hms;

/// The root cause's condition in one clause, for capacity root causes with limits; None for
/// the others (their rule evidence already states a condition).
#[must_use]
pub fn statement(ctx: &Context, v: &Verdict, t: &Timing) -> Option<String> {
    let rc = v.root_cause.as_ref()?;
    let (container, metric, resource) = limit_series(rc.kind)?;
    let s = saturation(ctx, &rc.culprit, container, metric, resource)?;
    let what = if resource == "cpu" { "CPU" } else { "memory" };
    let over = if s.peak > s.limit {
        " — above the limit: cgroup accounting jitter or a CFS burst of a container pinned at it"
    } else {
        ""
    };
    let from = t
        .limit
        .as_ref()
        .map_or(String::new(), |l| format!(", from {} UTC", hms(l.mark.at)));
    let source = s
        .source
        .as_deref()
        .map_or(String::new(), |src| format!(", per {src}"));
    if s.pods_at_limit == 0 && s.peak_ratio < AT_LIMIT {
        // A culprit the ranking picked with its usage nowhere near the limit: say so, never
        // claim the limit ran out.
        return Some(format!(
            "no pod reached the {container} {what} limit of {} (highest per-pod 95th percentile {}, {:.0} % of it; baseline median {}{source}), so the limit is not shown to be what ran out",
            fmt_val(metric, s.limit),
            fmt_val(metric, s.peak),
            100.0 * s.peak_ratio,
            fmt_val(metric, s.base),
        ));
    }
    Some(format!(
        "the {container} {what} limit of {} per pod was below what the load needed: {} of {} pods ran at it{from} (highest per-pod 95th percentile {}, {:.0} % of the limit{over}; baseline median {}{source})",
        fmt_val(metric, s.limit),
        s.pods_at_limit,
        s.pods,
        fmt_val(metric, s.peak),
        100.0 * s.peak_ratio,
        fmt_val(metric, s.base),
    ))
}

/// A capacity estimate: usage per pod as a linear function of requests per pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// `app` or `sidecar`.
    pub container: &'static str,
    /// Limit per pod.
    pub limit: f64,
    /// Pods of the service (the N of "M of N pods ran at it").
    pub pods: usize,
    /// Pearson r of the fit.
    pub r: f64,
    /// Requests/s (whole service) at which usage reaches the limit.
    pub limit_at_rps: f64,
    /// Peak requests/s observed (95th percentile of the incident window).
    pub peak_rps: f64,
    /// Usage per pod the fit gives at that peak.
    pub need_at_peak: f64,
    /// Limit per pod needed for twice the peak, at 80 % utilisation.
    pub limit_for_2x: f64,
    /// Replicas needed for twice the peak at the current limit, at 80 % utilisation.
    pub replicas_for_2x: usize,
}

/// Fits per-pod usage against per-pod request rate over every bucket below 90 % of the limit
/// (above it the limit clips usage); None unless the fit is strong (r ≥ 0.8).
#[must_use]
pub fn sizing(ctx: &Context, v: &Verdict) -> Option<Sizing> {
    let rc = v.root_cause.as_ref()?;
    let (container, metric, resource) = limit_series(rc.kind)?;
    if resource != "cpu" {
        return None;
    }
    let pods: Vec<&str> = ctx.topo.pods_of(&rc.culprit);
    let usage: Vec<_> = pods
        .iter()
        .filter_map(|p| ctx.pod_metric(&rc.culprit, p, container, metric))
        .collect();
    let limit = ctx.limit(&rc.culprit, pods.first().copied(), container, resource)?;
    let reqs = ctx.metric(&rc.culprit, "requests_per_s")?;
    if usage.len() != pods.len() || pods.is_empty() {
        return None;
    }
    let n = pods.len() as f64;
    // Per-minute means: 15-second samples of two collectors' clocks are noisy pairs.
    let per_min = usize::try_from(60_000 / ctx.aligned.grid.step.max(1))
        .unwrap_or(1)
        .max(1);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for chunk in (0..reqs.values.len()).collect::<Vec<_>>().chunks(per_min) {
        let (mut x, mut y, mut k) = (0.0, 0.0, 0.0);
        for &i in chunk {
            let r = reqs.values[i];
            let u: Vec<f64> = usage.iter().map(|v| v.values[i]).collect();
            if r.is_finite() && u.iter().all(|x| x.is_finite() && *x < AT_LIMIT * limit) {
                x += r / n;
                y += u.iter().sum::<f64>() / n;
                k += 1.0;
            }
        }
        if k > 0.0 {
            xs.push(x / k);
            ys.push(y / k);
        }
    }
    let (a, b, r) = fit(&xs, &ys)?;
    if r < 0.8 || b <= 0.0 {
        return None;
    }
    let peak_rps = stats::quantile(&reqs.values[ctx.aligned.incident.clone()], 0.95)?;
    let target = 0.8;
    let need = a + b * 2.0 * peak_rps / n;
    let per_pod_room = target * limit - a;
    let replicas = if per_pod_room > 0.0 {
        (b * 2.0 * peak_rps / per_pod_room).ceil() as usize
    } else {
        0
    };
    Some(Sizing {
        container,
        limit,
        pods: pods.len(),
        r,
        limit_at_rps: n * (limit - a) / b,
        peak_rps,
        need_at_peak: a + b * peak_rps / n,
        limit_for_2x: (need / target * 2.0).ceil() / 2.0,
        replicas_for_2x: replicas,
    })
}

/// Least squares `y = a + b·x`, with Pearson r.
fn fit(xs: &[f64], ys: &[f64]) -> Option<(f64, f64, f64)> {
    if xs.len() < 10 {
        return None;
    }
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b, sxy / (sxx * syy).sqrt()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_is_fitted_exactly() {
        let xs: Vec<f64> = (0..20).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 0.5 + 0.01 * x).collect();
        let (a, b, r) = super::fit(&xs, &ys).unwrap();
        assert!((a - 0.5).abs() < 1e-9 && (b - 0.01).abs() < 1e-9 && (r - 1.0).abs() < 1e-9);
    }
}

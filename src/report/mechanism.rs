//! The mechanism: how the cause reached the alert, in added milliseconds as well as percent,
//! the "same added latency on every dependency → one shared hop" reasoning when it holds, the
//! alert service's own symptoms, and the capacity estimate.

use crate::detect::Direction;
use crate::evidence::Context;
use crate::evidence::sources::{fmt_millis, fmt_val, metric_label};
use crate::verdict::Verdict;

use super::condition::{Sizing, sizing};

/// Added latency per dependency of the alert's service: (target, base, level).
fn dep_moves(ctx: &Context) -> Vec<(String, f64, f64)> {
    let alert = &ctx.spec.alert.entity;
    ctx.find_entity(alert, |k| {
        k.pod.is_none() && k.metric == "dep_latency_ms" && k.target.is_some()
    })
    .into_iter()
    .filter(|v| v.score.up(crate::evidence::scope::DEP_LATENCY_RISE))
    .map(|v| {
        (
            v.key.target.clone().unwrap_or_default(),
            v.score.base,
            v.score.level,
        )
    })
    .collect()
}

/// Whether the added milliseconds agree within a third of their median.
fn same_added(adds: &[f64]) -> Option<f64> {
    if adds.len() < 2 {
        return None;
    }
    let med = crate::stats::middle(adds)?;
    (med > 0.0 && adds.iter().all(|a| (a - med).abs() <= med / 3.0)).then_some(med)
}

/// The section's bullets.
#[must_use]
pub fn bullets(ctx: &Context, v: &Verdict) -> Vec<String> {
    let alert = &ctx.spec.alert.entity;
    let mut out = dep_latency(ctx, alert);
    out.extend(own_symptoms(ctx, alert));
    out.extend(dep_errors(ctx, alert));
    out.extend(sizing(ctx, v).map(|s| sizing_line(&s)));
    out
}

/// The alert service's added latency per dependency, and the shared-hop reading when every
/// dependency gained about the same milliseconds.
fn dep_latency(ctx: &Context, alert: &str) -> Vec<String> {
    let mut out = Vec::new();
    let deps = dep_moves(ctx);
    if deps.is_empty() {
        return out;
    }
    let parts: Vec<String> = deps
        .iter()
        .map(|(t, b, l)| {
            format!(
                "{t} +{} ({} → {}, {:+.0} %)",
                fmt_millis(l - b),
                fmt_millis(*b),
                fmt_millis(*l),
                (l / b.max(1e-9) - 1.0) * 100.0
            )
        })
        .collect();
    out.push(format!(
        "**Client-side latency of `{alert}` to its dependencies** (baseline median → median after the onset): {}.",
        parts.join("; ")
    ));
    let adds: Vec<f64> = deps.iter().map(|(_, b, l)| l - b).collect();
    if let Some(med) = same_added(&adds) {
        out.push(format!(
            "Every dependency gained about the same {} whatever its own speed: the time is added on a hop all these calls share on `{alert}`'s side (its proxy, node or client), not in the dependencies, whose percentages differ only because their baselines do.",
            fmt_millis(med)
        ));
    }
    out
}

/// The alert service's own resource and runtime metrics that moved; its latency, errors and
/// traffic are the alert itself, not a symptom.
fn own_symptoms(ctx: &Context, alert: &str) -> Option<String> {
    let own: Vec<String> = ctx
        .find_entity(alert, |k| {
            k.pod.is_none() && k.container == "app" && k.target.is_none()
        })
        .into_iter()
        .filter(|v| {
            !matches!(
                v.key.metric.as_str(),
                "latency_p99_ms" | "latency_avg_ms" | "errors_per_s" | "requests_per_s"
            ) && v.score.direction != Direction::Flat
                && v.score.rel.abs() >= 0.25
                && v.score.testable()
        })
        .map(|v| {
            format!(
                "{} {} → {} ({})",
                metric_label(&v.key.metric),
                fmt_val(&v.key.metric, v.score.base),
                fmt_val(&v.key.metric, v.score.level),
                v.score.pct()
            )
        })
        .collect();
    (!own.is_empty()).then(|| {
        format!(
            "**`{alert}`'s own symptoms** (baseline median → median after the onset): {}.",
            own.join(", ")
        )
    })
}

/// The alert service's errors calling its dependencies, per dependency that rose.
fn dep_errors(ctx: &Context, alert: &str) -> Option<String> {
    let errs: Vec<String> = ctx
        .find_entity(alert, |k| k.pod.is_none() && k.metric == "dep_errors_per_s")
        .into_iter()
        .filter(|v| v.score.up(0.5))
        .map(|v| {
            format!(
                "{} {} → {}",
                v.key.target.as_deref().unwrap_or("(no target)"),
                fmt_val("dep_errors_per_s", v.score.base),
                fmt_val("dep_errors_per_s", v.score.level)
            )
        })
        .collect();
    (!errs.is_empty()).then(|| {
        format!(
            "**Client-side errors of `{alert}`** (baseline median → median after the onset): {}.",
            errs.join(", ")
        )
    })
}

/// The capacity estimate in words.
#[must_use]
pub fn sizing_line(s: &Sizing) -> String {
    format!(
        "**Sizing**: {} CPU per pod tracks requests per pod (linear fit below 90 % of the limit, r = {:.2}); with {} pods the {} limit is reached near {} requests/s; at the peak of {} (95th percentile) the fit needs {} per pod. For twice that peak at 80 % utilisation: a {} limit of {:.1} cores per pod, or {} pods at the current {:.1}-core limit.",
        s.container,
        s.r,
        s.pods,
        fmt_val("cpu_cores", s.limit),
        super::impact::thousands(s.limit_at_rps.round() as u64),
        fmt_val("requests_per_s", s.peak_rps),
        fmt_val("cpu_cores", s.need_at_peak),
        s.container,
        s.limit_for_2x,
        s.replicas_for_2x,
        s.limit
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_additions_point_at_a_shared_hop() {
        assert_eq!(super::same_added(&[58.0, 61.0, 70.0]), Some(61.0));
        assert_eq!(super::same_added(&[5.0, 61.0]), None);
        assert_eq!(super::same_added(&[61.0]), None);
    }
}

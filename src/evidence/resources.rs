//! Resource headroom: how close each pod's container came to its CPU or memory limit.

use super::{Context, View};
use crate::detect::stats;

/// How close one container of a service came to its limit, over its pods.
#[derive(Debug, Clone, PartialEq)]
pub struct Saturation {
    /// The limit (per pod), in the metric's unit.
    pub limit: f64,
    /// Highest per-pod 95th percentile of usage in the incident window.
    pub peak: f64,
    /// Median per-pod usage in the baseline.
    pub base: f64,
    /// peak / limit.
    pub peak_ratio: f64,
    /// Pods pinned at the limit: their incident 75th percentile reached 90 % of it.
    pub pods_at_limit: usize,
    /// Pods with data.
    pub pods: usize,
    /// Which source the usage came from.
    pub source: Option<String>,
}

/// Where a container's CPU stood against its limit, with the evidence text, for the rules that
/// judge a limit (the app's, the sidecar's). `what` names the container ("app", "sidecar"),
/// `note` is appended inside the parentheses (e.g. the source).
#[derive(Debug, Clone, PartialEq)]
pub enum LimitVerdict {
    /// Pinned at the limit in some pods.
    AtLimit(String),
    /// Peak below `below` of the limit.
    Below(String),
    /// In between: close, not pinned.
    Close(String),
}

impl Saturation {
    /// Judges CPU against the limit: pinned pods → at limit; a peak under `below` × limit →
    /// below; otherwise close.
    #[must_use]
    pub fn cpu_verdict(&self, what: &str, below: f64, note: &str) -> LimitVerdict {
        if self.pods_at_limit > 0 {
            LimitVerdict::AtLimit(format!(
                "{what} CPU at its limit: {:.2} of {:.1} cores in {} of {} pods (baseline {:.2}{note})",
                self.peak, self.limit, self.pods_at_limit, self.pods, self.base
            ))
        } else if self.peak_ratio < below {
            LimitVerdict::Below(format!(
                "{what} containers stayed below their CPU limit: peak {:.2} of {:.1} cores ({:.0}%{note})",
                self.peak,
                self.limit,
                self.peak_ratio * 100.0
            ))
        } else {
            LimitVerdict::Close(format!(
                "{what} CPU came close to its limit ({:.0}%) without reaching it",
                self.peak_ratio * 100.0
            ))
        }
    }
}

/// Usage of `metric` against the `resource` limit (`cpu`/`mem`) for one container of `entity`.
/// Falls back to the entity-level series when there is no per-pod data.
#[must_use]
pub fn saturation(
    ctx: &Context,
    entity: &str,
    container: &str,
    metric: &str,
    resource: &str,
) -> Option<Saturation> {
    let inc = ctx.aligned.incident.clone();
    let base = ctx.aligned.baseline.clone();
    let mut per_pod = Vec::new();
    let mut source = None;
    for pod in ctx.topo.pods_of(entity) {
        let (Some(v), Some(limit)) = (
            ctx.pod_metric(entity, pod, container, metric),
            ctx.limit(entity, Some(pod), container, resource),
        ) else {
            continue;
        };
        if let (Some(p), Some(b), Some(q)) = (
            stats::quantile(&v.values[inc.clone()], 0.95),
            stats::median(&v.values[base.clone()]),
            stats::quantile(&v.values[inc.clone()], 0.75),
        ) {
            source.clone_from(&v.key.source);
            per_pod.push((p, b, limit, q));
        }
    }
    if per_pod.is_empty() {
        let key = crate::model::SeriesKey {
            container: container.into(),
            ..crate::model::SeriesKey::entity(entity, metric)
        };
        let v = ctx.get(&key)?;
        let limit = ctx.limit(entity, None, container, resource)?;
        source.clone_from(&v.key.source);
        per_pod.push((
            stats::quantile(&v.values[inc.clone()], 0.95)?,
            stats::median(&v.values[base])?,
            limit,
            stats::quantile(&v.values[inc], 0.75)?,
        ));
    }
    let (peak, base_v, limit, _) = per_pod.iter().copied().fold(
        (f64::MIN, 0.0_f64, 1.0_f64, 0.0_f64),
        |acc: (f64, f64, f64, f64), x| {
            if x.0 / x.2 > acc.0 / acc.2.max(1e-12) {
                x
            } else {
                acc
            }
        },
    );
    // Pinned, not touched: a container throttled by its quota sits at the limit for most of
    // the incident, while one merely near it only peaks there.
    let at = per_pod.iter().filter(|(_, _, l, q)| *q >= 0.9 * l).count();
    Some(Saturation {
        limit,
        peak,
        base: base_v,
        peak_ratio: peak / limit,
        pods_at_limit: at,
        pods: per_pod.len(),
        source,
    })
}

/// A service's `restarts` counters (of one `container`, or all): per pod when there are any,
/// else the service's own, never both.
#[must_use]
pub fn restart_counters<'a>(
    ctx: &'a Context,
    entity: &str,
    container: Option<&str>,
) -> Vec<View<'a>> {
    let counters = ctx.find_entity(entity, |k| {
        k.metric == "restarts" && container.is_none_or(|c| k.container == c)
    });
    let per_pod = counters.iter().any(|v| v.key.pod.is_some());
    counters
        .into_iter()
        .filter(|v| v.key.pod.is_some() == per_pod)
        .collect()
}

/// How much one cumulative counter rose in the incident window over its baseline median, and
/// the first incident bucket above that median; `None` without an incident sample.
#[must_use]
pub fn counter_rise(ctx: &Context, v: &View<'_>) -> Option<(f64, Option<usize>)> {
    let before = stats::median(&v.values[ctx.aligned.baseline.clone()]).unwrap_or(0.0);
    let inc = ctx.aligned.incident.clone();
    let max = stats::max(&v.values[inc.clone()])?;
    let first = inc.into_iter().find(|&i| v.values[i] > before);
    Some(((max - before).max(0.0), first))
}

/// Total restarts of a service's pods during the incident window (cumulative counters).
#[must_use]
pub fn restarts(ctx: &Context, entity: &str) -> Option<f64> {
    restart_counters(ctx, entity, None)
        .iter()
        .filter_map(|v| counter_rise(ctx, v))
        .map(|(rise, _)| rise)
        .reduce(|a, b| a + b)
}

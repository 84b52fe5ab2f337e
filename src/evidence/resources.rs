//! Resource headroom: how close each pod's container came to its CPU or memory limit.

use std::collections::BTreeMap;

use super::{Context, View};
use crate::stats;

/// The quantile of incident-window usage a pod's peak is judged by.
pub const PEAK_QUANTILE: f64 = 0.95;
/// A pod is pinned at its limit when this quantile of its incident usage ...
pub const PINNED_QUANTILE: f64 = 0.75;
/// ... reaches this share of the limit: throttled by its quota most of the time, not merely
/// touching it at a peak.
pub const PINNED_SHARE: f64 = 0.9;

/// A container whose usage rose by less than this share of its limit sat where it was.
const STILL: f64 = 0.05;

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
    /// Of those, pods pinned the same way through the baseline: a standing condition, which
    /// explains an onset only with something else that changed (more load).
    pub pods_pinned_before: usize,
    /// Pods whose usage at least doubled from the baseline, pinned or not: the load the pinned
    /// ones could not serve reaches them too when the trouble is the service's.
    pub pods_doubled: usize,
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
    /// Every pinned pod was pinned through the baseline as well.
    #[must_use]
    pub fn standing(&self) -> bool {
        self.pods_at_limit > 0 && self.pods_pinned_before >= self.pods_at_limit
    }

    /// Judges CPU against the limit: pinned pods → at limit; a peak under `below` × limit →
    /// below; otherwise close.
    #[must_use]
    pub fn cpu_verdict(&self, what: &str, below: f64, note: &str) -> LimitVerdict {
        if self.pods_at_limit > 0 {
            // A p95 a hair above the quota is the usage counter's jitter, not real headroom.
            let jitter = if self.peak > self.limit {
                ", above it only by counter jitter"
            } else {
                ""
            };
            LimitVerdict::AtLimit(format!(
                "{what} CPU pinned at its limit in {} of {} pods: p95 {:.2} cores against a {:.1}-core limit{jitter} (baseline median {:.2}{note})",
                self.pods_at_limit, self.pods, self.peak, self.limit, self.base
            ))
        } else if self.peak_ratio < below {
            LimitVerdict::Below(format!(
                "{what} containers stayed below their CPU limit: p95 {:.2} of {:.1} cores ({:.0}%{note})",
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
    let mut per_pod = Vec::new();
    let mut source = None;
    for pod in ctx.topo.pods_of(entity) {
        let (Some(v), Some(limit)) = (
            ctx.pod_metric(entity, pod, container, metric),
            ctx.limit(entity, Some(pod), container, resource),
        ) else {
            continue;
        };
        if let Some(u) = Use::of(ctx, v.values, limit) {
            source.clone_from(&v.key.source);
            per_pod.push(u);
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
        per_pod.push(Use::of(ctx, v.values, limit)?);
    }
    let worst = per_pod.iter().copied().reduce(|a, b| {
        if b.peak / b.limit > a.peak / a.limit {
            b
        } else {
            a
        }
    })?;
    Some(Saturation {
        limit: worst.limit,
        peak: worst.peak,
        base: worst.base,
        peak_ratio: worst.peak / worst.limit,
        pods_at_limit: per_pod.iter().filter(|u| u.pinned).count(),
        pods_pinned_before: per_pod
            .iter()
            .filter(|u| u.pinned && u.pinned_before)
            .count(),
        pods_doubled: per_pod.iter().filter(|u| u.peak >= 2.0 * u.base).count(),
        pods: per_pod.len(),
        source,
    })
}

/// Whether one container (its usage `values`) sat pinned at `limit` through the baseline and
/// is no closer to it now: what [`Saturation::standing`] counts, for one pod.
#[must_use]
pub fn pinned_through_baseline(ctx: &Context, values: &[f64], limit: f64) -> bool {
    Use::of(ctx, values, limit).is_some_and(|u| u.pinned && u.pinned_before)
}

/// One container's usage against its limit.
#[derive(Debug, Clone, Copy)]
struct Use {
    limit: f64,
    /// 95th percentile in the incident window.
    peak: f64,
    /// Baseline median.
    base: f64,
    /// Pinned, not touched: a container throttled by its quota sits at the limit for most of
    /// the incident, while one merely near it only peaks there.
    pinned: bool,
    /// Pinned the same way through the baseline: as close to the limit then as now.
    pinned_before: bool,
}

impl Use {
    fn of(ctx: &Context, values: &[f64], limit: f64) -> Option<Use> {
        let (inc, base) = (
            &values[ctx.aligned.incident.clone()],
            &values[ctx.aligned.baseline.clone()],
        );
        let q = |w: &[f64]| stats::quantile(w, PINNED_QUANTILE);
        let (now, before) = (q(inc), q(base));
        let pinned = |q: Option<f64>| q.is_some_and(|q| q >= PINNED_SHARE * limit);
        Some(Use {
            limit: limit.max(1e-12),
            peak: stats::quantile(inc, PEAK_QUANTILE)?,
            base: stats::median(base)?,
            pinned: pinned(now),
            pinned_before: pinned(before)
                && now.zip(before).is_some_and(|(n, b)| n - b < STILL * limit),
        })
    }
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

/// How many of a service's pods restarted in the incident window, of how many with a
/// counter; `None` without per-pod counters.
#[must_use]
pub fn pods_restarted(ctx: &Context, entity: &str) -> Option<(usize, usize)> {
    let counters = restart_counters(ctx, entity, None);
    let mut pods: BTreeMap<&str, bool> = BTreeMap::new();
    for v in &counters {
        let pod = v.key.pod.as_deref()?;
        let rose = counter_rise(ctx, v).is_some_and(|(r, _)| r >= 1.0);
        *pods.entry(pod).or_default() |= rose;
    }
    (!pods.is_empty()).then(|| (pods.values().filter(|r| **r).count(), pods.len()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k, kp, sidecar_cpu};
    use crate::model::{SIDECAR, SeriesKey};

    fn two_pods() -> Fixture {
        Fixture::new("api")
            .slow_service("api")
            .sidecar("api", 4.0, 2.0)
            .place("api-1", "n1")
            .place("api-2", "n2")
    }

    fn sidecar(f: Fixture) -> Option<Saturation> {
        saturation(&f.build(), "api", SIDECAR, "cpu_cores", "cpu")
    }

    #[test]
    fn a_pod_pinned_at_its_limit_counts_one_touching_it_does_not() {
        let pinned = two_pods()
            .step(sidecar_cpu("api", "api-1"), 0.8, 1.98)
            .burst(sidecar_cpu("api", "api-2"), 0.8, 1.9, 30, 1);
        let s = sidecar(pinned).expect("sidecar usage and limit");
        assert_eq!((s.pods, s.pods_at_limit), (2, 1), "{s:?}");
        assert!((s.limit - 2.0).abs() < 1e-9 && s.peak_ratio > 0.95, "{s:?}");
        assert!((s.base - 0.8).abs() < 0.05, "{s:?}");
    }

    #[test]
    fn the_peak_is_the_pod_closest_to_its_limit() {
        let f = two_pods().flat(sidecar_cpu("api", "api-1"), 0.4).step(
            sidecar_cpu("api", "api-2"),
            0.4,
            1.2,
        );
        let s = sidecar(f).expect("sidecar usage and limit");
        assert!((s.peak - 1.2).abs() < 0.05 && s.pods_at_limit == 0, "{s:?}");
    }

    #[test]
    fn falls_back_to_the_service_series_without_pod_data() {
        let key = SeriesKey {
            container: SIDECAR.into(),
            ..k("api", "cpu_cores")
        };
        let s = sidecar(two_pods().step(key, 0.5, 1.0)).expect("service-level usage");
        assert_eq!(s.pods, 1, "{s:?}");
        assert!((s.peak_ratio - 0.5).abs() < 0.05, "{s:?}");
    }

    #[test]
    fn nothing_without_a_limit() {
        let f = Fixture::new("api")
            .slow_service("api")
            .place("api-1", "n1")
            .step(sidecar_cpu("api", "api-1"), 0.8, 1.9);
        assert_eq!(sidecar(f), None);
    }

    fn sat(peak_ratio: f64, pods_at_limit: usize) -> Saturation {
        Saturation {
            limit: 2.0,
            peak: 2.0 * peak_ratio,
            base: 0.5,
            peak_ratio,
            pods_at_limit,
            pods_pinned_before: 0,
            pods_doubled: 0,
            pods: 3,
            source: None,
        }
    }

    #[test]
    fn cpu_verdict_names_each_case() {
        assert!(
            matches!(sat(0.99, 2).cpu_verdict("sidecar", 0.7, ""), LimitVerdict::AtLimit(t) if t.contains("in 2 of 3 pods"))
        );
        assert!(
            matches!(sat(0.5, 0).cpu_verdict("app", 0.7, ", cadvisor"), LimitVerdict::Below(t) if t.contains("50%, cadvisor"))
        );
        assert!(
            matches!(sat(0.8, 0).cpu_verdict("app", 0.7, ""), LimitVerdict::Close(t) if t.contains("80%"))
        );
    }

    #[test]
    fn restarts_sum_pod_counters_and_ignore_the_service_total_beside_them() {
        let f = two_pods()
            .step(kp("api", "api-1", "app", "restarts"), 3.0, 5.0)
            .step(kp("api", "api-2", "app", "restarts"), 1.0, 2.0)
            .step(k("api", "restarts"), 4.0, 40.0);
        let ctx = f.build();
        assert_eq!(restart_counters(&ctx, "api", None).len(), 2);
        let total = restarts(&ctx, "api").expect("counters");
        assert!((total - 3.0).abs() < 0.2, "{total}");
    }

    #[test]
    fn a_counter_rise_dates_from_its_first_bucket_above_the_baseline() {
        let ctx = two_pods()
            .step(kp("api", "api-1", "app", "restarts"), 7.0, 9.0)
            .build();
        let v = &restart_counters(&ctx, "api", Some("app"))[0];
        let (rise, first) = counter_rise(&ctx, v).expect("incident samples");
        assert!((rise - 2.0).abs() < 0.2, "{rise}");
        // The fixture's ±2 % wobble may lift a bucket before the step above the median.
        assert!(
            first.is_some_and(|i| i <= crate::evidence::testing::ONSET),
            "{first:?}"
        );
    }
}

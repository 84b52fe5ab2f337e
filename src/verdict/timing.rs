//! The timing model: one definition per event of an incident, shared by the summary, the
//! impact, the timeline, the trigger sentence and verdict.json, so that no two parts of the
//! report can give the same event two different times.
//!
//! Every event is the first sample of a *sustained breach*: from that sample on, at least 60 %
//! (and at least two) of the next two minutes' samples lie beyond the event's threshold — the
//! same test the anomaly detector uses for its onsets (`detect::score`).
//!
//! - **onset**: the alert's own series breaches its baseline median ± 3 robust σ;
//! - **trigger start**: the trigger's request rate breaches its baseline median + 3σ;
//!   the **lead time** is onset minus trigger start;
//! - **reaches its limit**: a container's usage in one pod breaches 90 % of that pod's limit
//!   (the at-limit threshold of the resource rules); the earliest pod counts;
//! - **recovery**: after the onset, the alert's series is back within its threshold for a
//!   sustained run; with none before the data ends, the incident is *ongoing*;
//! - **detection**: the alert's `fired_at` minus the onset.

use crate::detect::{Direction, Z};
use crate::evidence::{Context, View};
use crate::model::Kind;

/// The share of a container limit that counts as reaching it.
pub const AT_LIMIT: f64 = 0.9;

/// How long a breach must hold, ms.
const SUSTAIN_MS: i64 = 2 * crate::model::MINUTE_MS;

/// One timed event: when, the threshold crossed and the value at that sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Epoch ms of the first sample of the sustained breach.
    pub at: i64,
    /// Its grid bucket.
    pub bucket: usize,
    /// The threshold crossed, in the series' unit.
    pub threshold: f64,
    /// The value at that sample.
    pub value: f64,
}

/// A container reaching its limit: the mark and where.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitMark {
    /// The mark (threshold = 90 % of the limit).
    pub mark: Mark,
    /// The limit, in the series' unit.
    pub limit: f64,
    /// The pod that reached it first.
    pub pod: String,
    /// `app` or `sidecar`.
    pub container: String,
    /// The usage metric.
    pub metric: String,
}

/// Every timed event of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Onset of the alert's series, if it breached its baseline.
    pub onset: Option<Mark>,
    /// Start of the trigger's traffic rise.
    pub trigger: Option<Mark>,
    /// When the root cause's container first reached its limit.
    pub limit: Option<LimitMark>,
    /// When the alert fired.
    pub fired_at: i64,
    /// When the alert's series was back within its threshold, if it was.
    pub recovered: Option<i64>,
    /// End of the data: one step after the alert series' last finite sample in the window.
    pub data_end: i64,
}

impl Timing {
    /// Computes every event for the verdict's root cause and trigger.
    #[must_use]
    pub fn of(ctx: &Context, rc: Option<(Kind, &str)>, trigger: Option<&str>) -> Timing {
        let alert = ctx.alert_series();
        let onset = alert.as_ref().and_then(|v| onset_mark(ctx, v));
        let trigger = trigger
            .and_then(|t| ctx.metric(t, "requests_per_s"))
            .and_then(|v| onset_mark(ctx, &v));
        let limit = rc.and_then(|(k, c)| limit_mark(ctx, k, c));
        let step = ctx.aligned.grid.step;
        let inc = ctx.aligned.incident.clone();
        let last = alert
            .as_ref()
            .and_then(|v| inc.clone().rev().find(|&i| v.values[i].is_finite()));
        let data_end = last.map_or(ctx.windows.end, |i| ctx.time(i) + step);
        let recovered = match (&alert, &onset) {
            (Some(v), Some(o)) => recovery(ctx, v, o),
            _ => None,
        };
        Timing {
            onset,
            trigger,
            limit,
            fired_at: ctx.windows.fired_at,
            recovered,
            data_end,
        }
    }

    /// Onset minus trigger start, ms (positive: the trigger came first).
    #[must_use]
    pub fn lead_ms(&self) -> Option<i64> {
        Some(self.onset.as_ref()?.at - self.trigger.as_ref()?.at)
    }

    /// Alert time minus onset, ms.
    #[must_use]
    pub fn detected_after_ms(&self) -> Option<i64> {
        self.onset.as_ref().map(|o| self.fired_at - o.at)
    }

    /// Still degraded when the data ends.
    #[must_use]
    pub fn ongoing(&self) -> bool {
        self.onset.is_some() && self.recovered.is_none()
    }

    /// From the onset to the recovery, or to the end of the data when ongoing.
    #[must_use]
    pub fn duration_ms(&self) -> Option<i64> {
        let o = self.onset.as_ref()?;
        Some(self.recovered.unwrap_or(self.data_end) - o.at)
    }
}

/// Samples in the sustain window at this grid step (at least two).
fn window(ctx: &Context) -> usize {
    let step = ctx.aligned.grid.step.max(1);
    usize::try_from((SUSTAIN_MS + step - 1) / step)
        .unwrap_or(2)
        .clamp(2, 8)
}

/// The first bucket in `range` from which `hit` holds for a sustained breach (see the module
/// doc); gaps are skipped, and a search stops after four windows' worth of buckets.
pub fn first_sustained(
    values: &[f64],
    range: std::ops::Range<usize>,
    window: usize,
    hit: impl Fn(f64) -> bool,
) -> Option<usize> {
    let end = range.end.min(values.len());
    (range.start..end).find(|&i| {
        if !(values[i].is_finite() && hit(values[i])) {
            return false;
        }
        let (mut ahead, mut hits) = (0usize, 0usize);
        for v in values[i..end].iter().take(4 * window) {
            if v.is_finite() {
                ahead += 1;
                hits += usize::from(hit(*v));
                if ahead == window {
                    break;
                }
            }
        }
        hits >= 2 && hits as f64 >= 0.6 * ahead as f64
    })
}

/// The threshold a series breaches when it moves: baseline median ± 3σ in its direction.
#[must_use]
pub fn threshold(v: &View<'_>) -> Option<f64> {
    let s = v.score;
    match s.direction {
        Direction::Up => Some(s.base + Z * s.sigma),
        Direction::Down => Some(s.base - Z * s.sigma),
        Direction::Flat => None,
    }
}

fn beyond(v: &View<'_>, th: f64) -> impl Fn(f64) -> bool {
    let up = v.score.direction == Direction::Up;
    move |x| if up { x >= th } else { x <= th }
}

/// The first sample of a series' sustained breach of its baseline threshold.
#[must_use]
pub fn onset_mark(ctx: &Context, v: &View<'_>) -> Option<Mark> {
    let th = threshold(v)?;
    // From the series' own onset: a blip it left behind is not the breach (see `detect`).
    let inc = ctx.aligned.incident.clone();
    let from = v
        .score
        .onset
        .map_or(inc.start, |o| o.clamp(inc.start, inc.end));
    let b = first_sustained(v.values, from..inc.end, window(ctx), beyond(v, th))?;
    Some(Mark {
        at: ctx.time(b),
        bucket: b,
        threshold: th,
        value: v.values[b],
    })
}

/// The start of the return within the threshold that lasts: a sustained return followed by no
/// further sustained breach before the end of the data. A return between two breaches (a pod
/// restarted by an OOM kill, then degrading again) is not a recovery.
fn recovery(ctx: &Context, v: &View<'_>, onset: &Mark) -> Option<i64> {
    let bad = beyond(v, onset.threshold);
    let end = ctx.aligned.incident.end;
    lasting_return(v.values, onset.bucket + 1..end, window(ctx), bad).map(|b| ctx.time(b))
}

/// The first bucket in `range` from which `bad` stops for good: a sustained return with no
/// sustained breach after it.
fn lasting_return(
    values: &[f64],
    range: std::ops::Range<usize>,
    w: usize,
    bad: impl Fn(f64) -> bool,
) -> Option<usize> {
    let mut from = range.start;
    loop {
        let back = first_sustained(values, from..range.end, w, |x| !bad(x))?;
        match first_sustained(values, back + 1..range.end, w, &bad) {
            None => return Some(back),
            Some(again) => from = again + 1,
        }
    }
}

/// The container and usage metric a capacity root cause is about.
#[must_use]
pub fn limit_series(kind: Kind) -> Option<(&'static str, &'static str, &'static str)> {
    match kind {
        Kind::Sidecar => Some(("sidecar", "cpu_cores", "cpu")),
        Kind::CpuSaturation => Some(("app", "cpu_cores", "cpu")),
        Kind::MemoryPressure => Some(("app", "mem_rss_bytes", "mem")),
        _ => None,
    }
}

/// The earliest pod of `culprit` whose container breaches 90 % of its limit, sustained.
#[must_use]
pub fn limit_mark(ctx: &Context, kind: Kind, culprit: &str) -> Option<LimitMark> {
    let (container, metric, resource) = limit_series(kind)?;
    let w = window(ctx);
    let mut best: Option<LimitMark> = None;
    for pod in ctx.topo.pods_of(culprit) {
        let (Some(v), Some(limit)) = (
            ctx.pod_metric(culprit, pod, container, metric),
            ctx.limit(culprit, Some(pod), container, resource),
        ) else {
            continue;
        };
        let th = AT_LIMIT * limit;
        let Some(b) = first_sustained(v.values, ctx.aligned.incident.clone(), w, |x| x >= th)
        else {
            continue;
        };
        if best.as_ref().is_none_or(|m| b < m.mark.bucket) {
            best = Some(LimitMark {
                mark: Mark {
                    at: ctx.time(b),
                    bucket: b,
                    threshold: th,
                    value: v.values[b],
                },
                limit,
                pod: pod.to_string(),
                container: container.into(),
                metric: metric.into(),
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::{first_sustained, lasting_return};

    #[test]
    fn a_return_between_two_breaches_is_no_recovery() {
        let v = [5.0, 5.0, 0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(lasting_return(&v, 1..v.len(), 3, |x| x > 1.0), Some(8));
        let still = [5.0, 0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 5.0];
        assert_eq!(lasting_return(&still, 1..still.len(), 3, |x| x > 1.0), None);
    }

    #[test]
    fn a_single_spike_is_not_a_sustained_breach() {
        let v = [0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 0.0];
        assert_eq!(first_sustained(&v, 0..v.len(), 4, |x| x > 1.0), Some(6));
    }

    #[test]
    fn gaps_do_not_count_as_samples() {
        let v = [f64::NAN, 5.0, f64::NAN, 5.0, 0.0];
        assert_eq!(first_sustained(&v, 0..v.len(), 3, |x| x > 1.0), Some(1));
    }

    #[test]
    fn nothing_beyond_the_threshold_has_no_breach() {
        let v = [0.0; 8];
        assert_eq!(first_sustained(&v, 0..8, 4, |x| x > 1.0), None);
    }
}

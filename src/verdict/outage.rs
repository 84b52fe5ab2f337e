//! The outage record of verdict.json format 2: onset, time to detect, user impact and
//! duration, all from the timing model (`timing`), so a reliability lead can trend MTTD and
//! impact across incidents.

use serde::Serialize;

use super::timing::Timing;
use crate::evidence::Context;
use crate::model::Instant;
use crate::stats;

/// `impact` in verdict.json.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Impact {
    /// Whose error and request rates the figures are (see [`user_facing`]). Not part of
    /// verdict.json.
    #[serde(skip)]
    pub entity: String,
    /// Requests failed beyond the baseline error rate, from the onset to the end of the data
    /// (a lower bound when `ongoing`).
    pub failed_requests: Option<u64>,
    /// Baseline error ratio (errors / requests, medians). Not part of verdict.json.
    #[serde(skip)]
    pub error_ratio_base: Option<f64>,
    /// Highest per-minute error ratio after the onset.
    pub error_ratio_peak: Option<f64>,
    /// Still degraded when the data ends.
    pub ongoing: bool,
    /// When the alert's series was back within its threshold (RFC 3339 UTC), or null.
    pub recovered_at: Option<String>,
}

/// The format-2 fields of verdict.json.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Outage {
    /// When the alert's series began its sustained breach (RFC 3339 UTC), or null.
    pub onset: Option<String>,
    /// Alert time minus onset, seconds.
    pub detected_after_s: Option<i64>,
    /// What users saw.
    pub impact: Impact,
    /// Onset to recovery (or to the end of the data when ongoing), seconds.
    pub duration_s: Option<i64>,
}

impl Outage {
    /// The record for one incident.
    #[must_use]
    pub fn of(ctx: &Context, t: &Timing) -> Outage {
        Outage {
            onset: t.onset.as_ref().map(|o| Instant(o.at).rfc3339()),
            detected_after_s: t.detected_after_ms().map(|ms| ms / 1000),
            impact: impact(ctx, t),
            duration_s: t.duration_ms().map(|ms| ms / 1000),
        }
    }
}

/// Whose errors measure the impact: the alert's entity when it has error and request rates
/// (a gateway's ratio dilutes them with healthy services' traffic), else a gateway in front of
/// it that has them (the first by name), else the alert's entity.
#[must_use]
pub fn user_facing(ctx: &Context) -> String {
    let alert = ctx.spec.alert.entity.as_str();
    let has = |e: &str| {
        ctx.metric(e, "errors_per_s").is_some() && ctx.metric(e, "requests_per_s").is_some()
    };
    if has(alert) {
        return alert.to_string();
    }
    ctx.topo
        .entries
        .get(alert)
        .into_iter()
        .flatten()
        .find(|g| has(g))
        .cloned()
        .unwrap_or_else(|| alert.to_string())
}

fn impact(ctx: &Context, t: &Timing) -> Impact {
    let entity = user_facing(ctx);
    let mut out = Impact {
        entity: entity.clone(),
        ongoing: t.ongoing(),
        recovered_at: t.recovered.map(|r| Instant(r).rfc3339()),
        ..Impact::default()
    };
    let (Some(errs), Some(onset)) = (ctx.metric(&entity, "errors_per_s"), t.onset.as_ref()) else {
        return out;
    };
    let step_s = ctx.aligned.grid.step as f64 / 1000.0;
    let end = ctx
        .aligned
        .grid
        .floor_index(t.recovered.unwrap_or(t.data_end))
        .min(errs.values.len());
    let from = onset.bucket.min(end);
    let base = errs.score.base;
    let excess: f64 = errs.values[from..end]
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| (x - base).max(0.0) * step_s)
        .sum();
    out.failed_requests = Some(excess.round() as u64);
    if let Some(reqs) = ctx.metric(&entity, "requests_per_s") {
        let b = ctx.aligned.baseline.clone();
        out.error_ratio_base = match (
            stats::median(&errs.values[b.clone()]),
            stats::median(&reqs.values[b]),
        ) {
            (Some(e), Some(r)) if r > 0.0 => Some(e / r),
            _ => None,
        };
        out.error_ratio_peak = peak_ratio(ctx, errs.values, reqs.values, from, end);
    }
    out
}

/// The highest ratio of per-minute sums of errors and requests in `[from, end)`.
fn peak_ratio(ctx: &Context, errs: &[f64], reqs: &[f64], from: usize, end: usize) -> Option<f64> {
    let per_min = usize::try_from(60_000 / ctx.aligned.grid.step.max(1))
        .unwrap_or(1)
        .max(1);
    let end = end.min(reqs.len());
    let mut best: Option<f64> = None;
    let mut i = from;
    while i < end {
        let j = (i + per_min).min(end);
        let (mut e, mut r) = (0.0, 0.0);
        for k in i..j {
            if errs[k].is_finite() && reqs[k].is_finite() {
                e += errs[k];
                r += reqs[k];
            }
        }
        if r > 0.0 {
            let ratio = e / r;
            best = Some(best.map_or(ratio, |b: f64| b.max(ratio)));
        }
        i = j;
    }
    best.map(|b| (b * 10_000.0).round() / 10_000.0)
}

//! The statistical prior the ranking leans on when the baseline is too short for its own
//! measures: each entity's largest robust shift (the robust z of its series, unsaturated and
//! uncapped), which is what the naive ranker of `bench/rank.sh` orders by.
//!
//! With a baseline of a few samples the ranking's anomaly strengths run out of range for
//! nearly every entity (a median and MAD of ten samples make every move look like z ≥ 60, and
//! four samples cap every series' rarity alike), so what is left to order the entities by is
//! noise in the other parts (correlation, spread). How far each entity moved still orders
//! them: among culprits whose scores are that close, the ranking's order follows it, in
//! proportion to how short the baseline is.

use std::collections::BTreeMap;

use crate::evidence::Context;

use crate::stats;

use super::same_symptom;
use super::signals::{way_weight, wrong_way};

/// Baseline samples at or above which the ranking trusts its own measures entirely.
pub const TRUSTED_BASELINE: usize = 20;
/// Baseline samples at or below which the ranking's order is the prior's.
pub const SHORT_BASELINE: usize = 10;

/// How much the ranking's order leans on the prior, 0..1, for a baseline of `n` samples: none
/// from [`TRUSTED_BASELINE`] samples up, all at [`SHORT_BASELINE`] and below, linear between.
/// The robust σ of a short baseline is itself noisy (a MAD's relative standard error is about
/// 1.7/√n: 37 % at 20 samples, 53 % at 10).
#[must_use]
pub fn weight(n: usize) -> f64 {
    let (lo, hi) = (SHORT_BASELINE as f64, TRUSTED_BASELINE as f64);
    ((hi - n as f64) / (hi - lo)).clamp(0.0, 1.0)
}

/// Baseline samples of the grid (the baseline window's length at the grid step).
#[must_use]
pub fn baseline_samples(ctx: &Context) -> usize {
    ctx.aligned.baseline.len()
}

/// Per entity, its largest robust shift: |median of the incident − median of the baseline|
/// over the baseline's robust σ (floored at 1 % of its median), as the naive ranker measures
/// it, weighed like its own anomaly (the alert's own symptom half, a latency or error that
/// fell less; a recovery or a counter reset nothing).
pub(super) fn shifts(ctx: &Context) -> BTreeMap<String, f64> {
    let (alert_entity, alert_metric) = ctx.alert_key();
    let (base, inc) = (ctx.aligned.baseline.clone(), ctx.aligned.incident.clone());
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for v in ctx.find(|_| true) {
        if wrong_way(&v.key.metric, v.score.direction) {
            continue;
        }
        let clip =
            |r: &std::ops::Range<usize>| r.start.min(v.values.len())..r.end.min(v.values.len());
        let b = stats::finite(&v.values[clip(&base)]);
        let (Some(m), Some(level)) = (stats::median(&b), stats::median(&v.values[clip(&inc)]))
        else {
            continue;
        };
        if b.len() < 3 || !level.is_finite() {
            continue;
        }
        let sigma = stats::mad_sigma(&b, m)
            .unwrap_or(0.0)
            .max(0.01 * m.abs())
            .max(1e-9);
        let mut z = (level - m).abs() / sigma * way_weight(&v.key.metric, v.score.direction);
        if v.key.entity == alert_entity && same_symptom(alert_metric, ctx.aliased(&v.key.metric)) {
            z *= 0.5;
        }
        let e = out.entry(v.key.entity.clone()).or_insert(0.0);
        *e = e.max(z);
    }
    out
}

/// An entity's prior relative to the largest, 0..1, in proportion. Not on a log scale: the
/// prior only reorders culprits whose scores are within a band of each other, and a log scale
/// made an entity that moved half as far lose an eighth of that band, too little to order
/// culprits the evidence cannot tell apart (Sock Shop at a 60 s step: a caller whose CPU rose
/// 40 % above a service whose CPU rose sixtyfold).
pub(super) fn relative(shift: f64, largest: f64) -> f64 {
    if largest <= 0.0 {
        0.0
    } else {
        (shift / largest).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_baseline_keeps_the_ranking_and_a_short_one_leans_on_the_prior() {
        assert_eq!(weight(60), 0.0);
        assert_eq!(weight(20), 0.0);
        assert!((weight(15) - 0.5).abs() < 1e-12);
        assert_eq!(weight(10), 1.0);
        assert_eq!(weight(4), 1.0);
    }

    #[test]
    fn the_prior_is_relative_in_proportion() {
        assert_eq!(relative(0.0, 0.0), 0.0);
        assert_eq!(relative(99.0, 99.0), 1.0);
        assert!((relative(49.5, 99.0) - 0.5).abs() < 1e-12);
        assert_eq!(relative(120.0, 99.0), 1.0);
    }
}

//! The per-entity signals the culprit ranking combines: series anomaly strength, correlation
//! with the alert metric, and log surges. Each is 0..1 and works on any metric name.

use std::collections::BTreeMap;

use crate::detect::{Direction, Score, Z, stats};
use crate::evidence::Context;
use crate::logs::evidence::Severity;

/// Robust z at which a series counts as fully anomalous (log scale between `Z` and this).
const Z_FULL: f64 = 60.0;

/// How anomalous one series is, 0..1: zero below the detector's threshold or without a
/// baseline, log-saturating above it (a z of 10⁶ from a near-constant baseline is no more
/// telling than 60); halved without a sustained run, because a single spike is weak evidence.
#[must_use]
pub fn strength(s: &Score) -> f64 {
    if !s.testable() || !s.z.is_finite() {
        return 0.0;
    }
    let z = s.z.abs();
    if z < Z {
        return 0.0;
    }
    let v = ((1.0 + z - Z).ln() / (1.0 + Z_FULL - Z).ln()).min(1.0);
    if s.direction == Direction::Flat {
        0.5 * v
    } else {
        v
    }
}

/// The strongest |Pearson correlation| between an anomalous series of `entity` and the alert
/// metric, over the incident window and as many baseline buckets before it (so a flat
/// stretch anchors the comparison). 0 without an alert series.
#[must_use]
pub fn alert_correlation(ctx: &Context, entity: &str) -> f64 {
    let Some(alert) = ctx.alert_series() else {
        return 0.0;
    };
    let inc = ctx.aligned.incident.clone();
    let lead = inc
        .len()
        .max(6)
        .min(inc.start - ctx.aligned.baseline.start.min(inc.start));
    let range = (inc.start - lead)..inc.end.min(alert.values.len());
    ctx.find_entity(entity, |_| true)
        .into_iter()
        .filter(|v| strength(v.score) > 0.0)
        .filter_map(|v| {
            stats::correlation(
                &v.values[range.start.min(v.values.len())..range.end.min(v.values.len())],
                &alert.values[range.clone()],
            )
        })
        .map(f64::abs)
        .fold(0.0, f64::max)
}

/// Log surge per entity, 0..1: how much of its incident logging is notable warning or error
/// templates (new, or surging against the baseline), by share of its lines and by count.
///
/// The share says how much of what the entity logs changed (10 % of its lines being new errors
/// is strong); the count says the same for a chatty entity, where a new error template logged
/// dozens of times is a small share of many lines and still the clearest sign there is: ten
/// lines of a new error template give 0.63, thirty 0.95; surging known templates and warnings
/// count half. Entities without baseline lines get nothing: with no baseline every template
/// looks new, which says nothing.
#[must_use]
pub fn log_surge(ctx: &Context) -> BTreeMap<&str, f64> {
    let mut out = BTreeMap::new();
    for (entity, (base, inc)) in &ctx.logs.lines {
        if *base == 0 || *inc == 0 {
            continue;
        }
        let (mut bad, mut weighted) = (0usize, 0.0f64);
        for t in ctx
            .logs
            .notable_of(entity)
            .filter(|t| t.severity >= Severity::Warn)
        {
            bad += t.incident;
            let w = if t.new && t.severity >= Severity::Error {
                1.0
            } else {
                0.5
            };
            weighted += w * t.incident as f64;
        }
        let share = bad as f64 / *inc as f64;
        let count = 1.0 - (-weighted / 10.0).exp();
        let surge = (share * 5.0).max(count).min(1.0);
        if surge > 0.0 {
            out.insert(entity.as_str(), surge);
        }
    }
    out
}

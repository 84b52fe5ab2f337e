//! The per-entity signals the culprit ranking combines: series anomaly strength, correlation
//! with the alert metric, and log surges. Each is 0..1 and works on any metric name.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::detect::{Direction, Score, Z};
use crate::evidence::{Context, View};
use crate::logs::TemplateStat;
use crate::logs::evidence::Severity;
use crate::model::EntityKind;
use crate::stats;

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

/// Baseline samples a series must have held exactly constant before leaving that value counts.
pub const STILL_BASE_MIN: usize = 30;

/// Whether a metric's name says that lower is worse: such a series rising from a value it
/// held is a recovery, not a fault.
pub(super) use crate::detect::lower_is_worse;

/// Whether a metric counts up only (restarts, a Prometheus `_total` counter): such a series
/// falling is a reset (the pods that counted were replaced, the process restarted), not a
/// fault's mark.
pub(super) fn counts_up_only(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    m.contains("restart") || m.ends_with("_total")
}

/// Weight of a latency or error series that moved its good way (fell).
const GOOD_WAY: f64 = 0.3;

/// The weight left to a series' strength by the way it moved: a latency or error series that
/// fell is the service doing better, no symptom; some weight stays, since a code path failing
/// early also answers faster.
pub(super) fn way_weight(metric: &str, direction: Direction) -> f64 {
    let symptom = crate::detect::symptom_metric(metric) && !lower_is_worse(metric);
    if direction == Direction::Down && symptom {
        GOOD_WAY
    } else {
        1.0
    }
}

/// Whether a move in `direction` is one no fault makes on `metric`: an availability or success
/// rate rising (a recovery), a counter falling (a reset).
pub(super) fn wrong_way(metric: &str, direction: Direction) -> bool {
    match direction {
        Direction::Up => lower_is_worse(metric),
        Direction::Down => counts_up_only(metric),
        Direction::Flat => false,
    }
}

/// Strength of a series leaving a value it held exactly over its whole baseline (an
/// availability of 100 %, an error count of 0, a replica count): 0.8 when two or more incident
/// samples differ from it (for a metric where lower is worse, fall below it), else 0.
///
/// The robust z cannot see this: a baseline without spread gets a floor of 1 % of its level,
/// which hides an availability falling from 100 % to 96 %, yet nothing in 30 or more samples
/// ever moved that series. Two samples, not one: a single odd sample is a blip.
#[must_use]
pub fn still_break(
    metric: &str,
    values: &[f64],
    base: std::ops::Range<usize>,
    inc: std::ops::Range<usize>,
) -> f64 {
    let clip = |r: std::ops::Range<usize>| r.start.min(values.len())..r.end.min(values.len());
    let mut b = values[clip(base)].iter().copied().filter(|x| x.is_finite());
    let Some(first) = b.next() else {
        return 0.0;
    };
    let mut n = 1;
    for x in b {
        if x != first {
            return 0.0;
        }
        n += 1;
    }
    if n < STILL_BASE_MIN {
        return 0.0;
    }
    let (down_only, up_only) = (lower_is_worse(metric), counts_up_only(metric));
    let moved = values[clip(inc)]
        .iter()
        .filter(|x| {
            x.is_finite()
                && if down_only {
                    **x < first
                } else if up_only {
                    **x > first
                } else {
                    **x != first
                }
        })
        .count();
    if moved >= 2 { 0.8 } else { 0.0 }
}

/// How much a short baseline lets a series' anomaly say, 0..1. Were the incident no
/// different from the baseline (the samples exchangeable), the chance that `k` incident
/// samples all rank above all but the `j` highest of `n` baseline samples is
/// C(j + k, k) / C(n + k, k), whatever the distribution. One sample above the highest of 4
/// happens one time in 5, so a robust z of 100 on it says little; three beyond 60 is one in
/// 40 000. Full at a chance of 1 in 1 000, so a long baseline and a sustained move are never
/// capped. `j` is 0 and, so that a few baseline samples of an earlier fault do not mask this
/// one, a tenth of the baseline; the rarer reading counts. `direction` picks the side; `Flat`
/// takes the side that says more.
#[must_use]
pub fn rarity(values: &[f64], base: Range<usize>, inc: Range<usize>, direction: Direction) -> f64 {
    let clip = |r: Range<usize>| r.start.min(values.len())..r.end.min(values.len());
    let mut b: Vec<f64> = values[clip(base)]
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    let n = b.len();
    if n == 0 {
        return 0.0;
    }
    // The two order statistics each side needs, without a full sort.
    let j10 = n / 10;
    let mut at = |rank: usize| *b.select_nth_unstable_by(rank, f64::total_cmp).1;
    let (lo, hi) = ([at(0), at(j10)], [at(n - 1), at(n - 1 - j10)]);
    let inc: Vec<f64> = values[clip(inc)]
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    let log_odds = |j: usize, k: usize| -> f64 {
        // log10 of C(n + k, k) / C(j + k, k), term by term: no overflow for any window.
        (1..=k)
            .map(|i| ((n + i) as f64 / (j + i) as f64).log10())
            .sum()
    };
    let mut best = 0.0f64;
    for (i, j) in [0, j10].into_iter().enumerate() {
        let above = inc.iter().filter(|&&x| x > hi[i]).count();
        let below = inc.iter().filter(|&&x| x < lo[i]).count();
        let odds = match direction {
            Direction::Up => log_odds(j, above),
            Direction::Down => log_odds(j, below),
            Direction::Flat => log_odds(j, above).max(log_odds(j, below)),
        };
        best = best.max(odds);
    }
    (best / 3.0).min(1.0)
}

/// The most [`rarity`] allows any series with `n` baseline and `k` incident samples: every
/// incident sample beyond every baseline sample, a chance of 1 in C(n + k, k).
#[must_use]
pub fn rarity_ceiling(n: usize, k: usize) -> f64 {
    let log_odds: f64 = (1..=k).map(|i| ((n + i) as f64 / i as f64).log10()).sum();
    (log_odds / 3.0).min(1.0)
}

/// The detector's [`strength`] of a series, no more than its baseline's length lets it say
/// (see `rarity`). Rarity costs a pass over the baseline, so it is computed only for a series
/// with a strength to cap.
#[must_use]
pub fn capped_strength(ctx: &Context, v: &View<'_>) -> f64 {
    let z = strength(v.score);
    if z == 0.0 {
        return 0.0;
    }
    z.min(rarity(
        v.values,
        ctx.aligned.baseline.clone(),
        ctx.aligned.incident.clone(),
        v.score.direction,
    ))
}

/// The anomaly strength of one series for the ranking: its [`capped_strength`], or a break
/// from a value the series never left in its baseline when that says more.
#[must_use]
pub fn series_strength(ctx: &Context, v: &View<'_>) -> f64 {
    // An availability or success rate that rose is a recovery (or a series that reads 0
    // while idle), a counter that fell was reset: never a fault's mark.
    let z = if wrong_way(&v.key.metric, v.score.direction) {
        0.0
    } else {
        way_weight(&v.key.metric, v.score.direction) * capped_strength(ctx, v)
    };
    z.max(still_break(
        &v.key.metric,
        v.values,
        ctx.aligned.baseline.clone(),
        ctx.aligned.incident.clone(),
    ))
}

/// The strongest |Pearson correlation| between an anomalous series of `entity` and the alert
/// metric, over the incident window and as many baseline buckets before it (so a flat
/// stretch anchors the comparison); `None` without an alert series, where no entity can be
/// judged by it.
///
/// On the alerting entity, the series of the alert's own symptom are left out: the alert
/// series correlates with itself (and its p50 or per-pod copies nearly so) whatever caused
/// it, which would favour the alerting entity for nothing when the alert points at an
/// arbitrary series. Its other series are judged as every other entity's are.
#[must_use]
pub fn alert_correlation(ctx: &Context, entity: &str) -> Option<f64> {
    let alert = ctx.alert_series()?;
    let (alert_entity, alert_metric) = ctx.alert_key();
    let own_symptom = |v: &View<'_>| {
        entity == alert_entity && super::same_symptom(alert_metric, ctx.aliased(&v.key.metric))
    };
    let inc = ctx.aligned.incident.clone();
    let lead = inc
        .len()
        .max(6)
        .min(inc.start - ctx.aligned.baseline.start.min(inc.start));
    let range = (inc.start - lead)..inc.end.min(alert.values.len());
    let best = ctx
        .find_entity(entity, |_| true)
        .into_iter()
        .filter(|v| !own_symptom(v) && series_strength(ctx, v) > 0.0)
        .filter_map(|v| {
            stats::correlation(
                &v.values[range.start.min(v.values.len())..range.end.min(v.values.len())],
                &alert.values[range.clone()],
            )
        })
        .map(f64::abs)
        .fold(0.0, f64::max);
    Some(best)
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
///
/// A line that names another entity of the archive (`No instances available for
/// ts-payment-service`, `redis: i/o timeout`) reports a call that failed on its way to that
/// entity: client-side, like a latency to a dependency, it counts half as a mark of the
/// logging entity's own fault.
#[must_use]
pub fn log_surge(ctx: &Context) -> BTreeMap<&str, f64> {
    let mut out = BTreeMap::new();
    for (entity, (base, inc)) in &ctx.logs.lines {
        if *base == 0 || *inc == 0 {
            continue;
        }
        let others: Vec<String> = ctx
            .topo
            .entities
            .iter()
            .filter(|x| *x != entity && EntityKind::of(x) != EntityKind::Node)
            .map(|x| {
                x.split_once(':')
                    .map_or(x.as_str(), |(_, n)| n)
                    .to_ascii_lowercase()
            })
            .filter(|n| n.len() >= 3)
            .collect();
        let (mut bad, mut weighted) = (0.0f64, 0.0f64);
        for t in ctx
            .logs
            .notable_of(entity)
            .filter(|t| t.severity >= Severity::Warn)
        {
            let side = if names_any(t, &others) { 0.5 } else { 1.0 };
            bad += side * t.incident as f64;
            let w = if t.new && t.severity >= Severity::Error {
                1.0
            } else {
                0.5
            };
            weighted += side * w * t.incident as f64;
        }
        let share = bad / *inc as f64;
        let count = 1.0 - (-weighted / 10.0).exp();
        let surge = (share * 5.0).max(count).min(1.0);
        if surge > 0.0 {
            out.insert(entity.as_str(), surge);
        }
    }
    out
}

/// Whether the template, or one of its samples, names one of `names` (lowercase) as a whole
/// word: `ts-payment-service` in `for ts-payment-service]`, not in `ts-payment-service-5b6`.
fn names_any(t: &TemplateStat, names: &[String]) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
    let has = |text: &str| {
        let text = text.to_ascii_lowercase();
        let bytes = text.as_bytes();
        names.iter().any(|n| {
            text.match_indices(n.as_str()).any(|(i, _)| {
                let before = i.checked_sub(1).map(|j| bytes[j]);
                let after = bytes.get(i + n.len()).copied();
                !before.is_some_and(word) && !after.is_some_and(word)
            })
        })
    };
    has(&t.template) || t.samples.iter().any(|s| has(s))
}

/// Log fall per entity, 0..1: the strongest fall of one of its templates against its share of
/// the entity's lines (see `TemplateStat::fall`): a z-score up to 2 gives nothing (with a few
/// dozen templates per entity, chance alone reaches 1.5), 3 gives 0.49, 4 gives 0.74. A fault
/// in the entity's own code stops some of its log statements while the others go on; Nezha's
/// injected exceptions show nowhere else.
#[must_use]
pub fn log_fall(ctx: &Context) -> BTreeMap<&str, f64> {
    let mut out: BTreeMap<&str, f64> = BTreeMap::new();
    for t in ctx.logs.templates.iter().filter(|t| t.fall > 2.0) {
        let f = 1.0 - (-(t.fall - 2.0) / 1.5).exp();
        let e = out.entry(t.entity.as_str()).or_insert(0.0);
        *e = e.max(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Direction, rarity, rarity_ceiling, still_break};

    /// 40 baseline samples at `base`, then the incident samples.
    fn series(base: f64, inc: &[f64]) -> Vec<f64> {
        let mut v = vec![base; 40];
        v.extend_from_slice(inc);
        v
    }

    fn brk(metric: &str, v: &[f64]) -> f64 {
        still_break(metric, v, 0..40, 40..v.len())
    }

    #[test]
    fn leaving_a_value_never_left_before_is_strong() {
        let v = series(100.0, &[100.0, 97.1, 95.7, 100.0]);
        assert_eq!(brk("availability", &v), 0.8);
        // Errors that were always zero.
        assert_eq!(brk("errors_per_s", &series(0.0, &[0.0, 0.2, 0.4])), 0.8);
    }

    #[test]
    fn one_sample_a_moving_baseline_or_a_short_one_say_nothing() {
        assert_eq!(
            brk("availability", &series(100.0, &[100.0, 96.0, 100.0])),
            0.0
        );
        let mut moving = series(100.0, &[95.0, 94.0]);
        moving[7] = 99.0;
        assert_eq!(brk("availability", &moving), 0.0);
        let short = [100.0; 10]
            .iter()
            .chain(&[95.0, 94.0])
            .copied()
            .collect::<Vec<_>>();
        assert_eq!(still_break("availability", &short, 0..10, 10..12), 0.0);
        // Gaps are not values.
        let gaps = series(100.0, &[f64::NAN, f64::NAN, 100.0]);
        assert_eq!(brk("availability", &gaps), 0.0);
    }

    #[test]
    fn a_short_baseline_says_little_and_a_long_one_a_lot() {
        let up = |base: usize, inc: &[f64]| {
            let mut v = vec![1.0; base];
            for (i, x) in v.iter_mut().enumerate() {
                *x += (i % 7) as f64 * 0.01;
            }
            v.extend_from_slice(inc);
            rarity(&v, 0..base, base..v.len(), Direction::Up)
        };
        // One sample above the highest of 4: a chance of 1 in 5.
        assert!((up(4, &[9.0]) - 5f64.log10() / 3.0).abs() < 1e-12);
        // Three above the highest of 60: 1 in 39 711.
        assert_eq!(up(60, &[9.0, 9.0, 9.0]), 1.0);
        assert!((rarity_ceiling(4, 1) - up(4, &[9.0])).abs() < 1e-12);
        assert_eq!(rarity_ceiling(60, 3), 1.0);
        // Nothing above the baseline's range: nothing to say.
        assert_eq!(up(60, &[1.0, 1.0]), 0.0);
        // The other side only counts without a sustained direction.
        let mut v = vec![1.0; 60];
        v.extend_from_slice(&[0.0, 0.0, 0.0]);
        assert_eq!(rarity(&v, 0..60, 60..63, Direction::Up), 0.0);
        assert_eq!(rarity(&v, 0..60, 60..63, Direction::Flat), 1.0);
    }

    #[test]
    fn an_earlier_fault_in_the_baseline_does_not_mask_this_one() {
        // 30 baseline samples, two of them an earlier fault's 2 s; now three at 2 s again.
        let mut v: Vec<f64> = (0..30).map(|i| 3.0 + (i % 5) as f64 * 0.1).collect();
        v[10] = 2000.0;
        v[11] = 2010.0;
        v.extend_from_slice(&[2005.0, 2001.0, 1999.0]);
        // Beyond all but the 3 highest of 30: C(6,3) / C(33,3) = 20 / 5456.
        let r = rarity(&v, 0..30, 30..33, Direction::Up);
        assert!((r - (5456f64 / 20.0).log10() / 3.0).abs() < 1e-9, "{r}");
    }

    #[test]
    fn a_recovery_is_not_a_fault() {
        // An availability stuck at 0 that serves again, where lower is worse.
        assert_eq!(brk("availability", &series(0.0, &[100.0, 100.0])), 0.0);
        assert_eq!(brk("PodSuccessRate(%)", &series(0.0, &[100.0, 100.0])), 0.0);
        // Without a known direction, any departure counts.
        assert_eq!(brk("queue_depth", &series(0.0, &[3.0, 5.0])), 0.8);
        // A restart counter back at 0: the pods that counted were replaced.
        assert_eq!(brk("restarts", &series(2.0, &[0.0, 0.0])), 0.0);
        assert_eq!(brk("http_requests_total", &series(9.0, &[0.0, 1.0])), 0.0);
        assert_eq!(brk("restarts", &series(0.0, &[1.0, 2.0])), 0.8);
    }
}

//! Falling log statements: a template logged less in the incident than its share of the
//! entity's other steady templates predicts (see `TemplateStat::fall`).
//!
//! Fewer requests lower every template alike, so a share, not a count, is compared: a code
//! path that now fails half-way stops logging its later steps while the earlier ones go on.
//! One more case looks like a fall and is not a fault of the entity: its callers sending
//! fewer requests of one kind, so every statement of that request falls together. Statements
//! of one request move together in the baseline too (one line each per call), so a fall counts
//! only when some statement that moved with it did not fall, or when none moved with it.

use std::ops::Range;

use super::evidence::TemplateStat;
use crate::stats;

/// Correlation of baseline counts from which two templates count as steps of one request.
const PARTNER_CORRELATION: f64 = 0.9;
/// A fall below this z says nothing (chance over a few dozen templates reaches 1.5).
const FELL: f64 = 2.0;

/// Sets `fall` on every template that is not notable (new or surging): the largest Poisson z
/// of its count below the expected, over the incident window and from the `alert` bucket on
/// (a fault has begun by then; the minutes before it dilute a statement that stopped then).
pub(super) fn measure(
    stats: &mut [TemplateStat],
    baseline: &Range<usize>,
    incident: &Range<usize>,
    alert: usize,
) {
    // Lines of each template from the alert bucket on, counted once.
    let after: Vec<f64> = stats
        .iter()
        .map(|s| {
            let n = s.counts.len();
            s.counts[alert.min(n)..incident.end.min(n)]
                .iter()
                .sum::<u32>() as f64
        })
        .collect();
    // Shares are taken among the templates that did not surge: a new error logged a thousand
    // times lowers every other template's share without anything falling.
    let (steady_base, steady_inc, steady_after) = stats
        .iter()
        .zip(&after)
        .filter(|(s, _)| !s.notable())
        .fold((0.0, 0.0, 0.0), |(b, i, a), (s, after)| {
            (b + s.baseline as f64, i + s.incident as f64, a + after)
        });
    for (s, &after) in stats.iter_mut().zip(&after).filter(|(s, _)| !s.notable()) {
        // Against the other steady templates: a statement that fell takes its own lines out
        // of the total it is compared with.
        let others_base = steady_base - s.baseline as f64;
        if others_base <= 0.0 {
            continue;
        }
        for (seen, others) in [
            (s.incident as f64, steady_inc - s.incident as f64),
            (after, steady_after - after),
        ] {
            let expected = s.baseline as f64 * others / others_base;
            if expected >= 5.0 && seen < expected {
                s.fall = s.fall.max((expected - seen) / expected.sqrt());
            }
        }
    }
    let fell: Vec<bool> = stats.iter().map(|s| s.fall >= FELL).collect();
    let whole_request: Vec<bool> = {
        let stats: &[TemplateStat] = stats;
        (0..stats.len())
            .map(|i| {
                let mut partners = (0..stats.len()).filter(|&j| {
                    j != i && !stats[j].notable() && partners_of(&stats[i], &stats[j], baseline)
                });
                // Every partner fell with it (and there is one): the request came less often.
                fell[i] && partners.next().is_some_and(|j| fell[j]) && partners.all(|j| fell[j])
            })
            .collect()
    };
    for (s, whole) in stats.iter_mut().zip(whole_request) {
        if whole {
            s.fall = 0.0;
        }
    }
}

/// Whether two templates look like steps of one request: their baseline counts per bucket,
/// over the buckets where either logged, correlate at [`PARTNER_CORRELATION`] or more, with
/// totals within a factor of two.
fn partners_of(a: &TemplateStat, b: &TemplateStat, baseline: &Range<usize>) -> bool {
    let (x, y) = (a.baseline as f64, b.baseline as f64);
    if x == 0.0 || y == 0.0 || x > 2.0 * y || y > 2.0 * x {
        return false;
    }
    let r = baseline.start.min(a.counts.len())..baseline.end.min(a.counts.len());
    let (ca, cb): (Vec<f64>, Vec<f64>) = a.counts[r.clone()]
        .iter()
        .zip(&b.counts[r])
        .filter(|(p, q)| **p > 0 || **q > 0)
        .map(|(&p, &q)| (f64::from(p), f64::from(q)))
        .unzip();
    stats::correlation(&ca, &cb).is_some_and(|c| c >= PARTNER_CORRELATION)
}

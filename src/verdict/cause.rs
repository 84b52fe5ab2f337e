//! Which supported hypothesis is the root cause, and which the trigger: from the rules when
//! they single one out, else from the culprit ranking, under the conditions that keep a
//! statistical guess from overruling the evidence.

use super::capacity::{feeds, is_capacity, outgrown};
use super::{HypothesisVerdict, RootCause, Trigger, rank};
use crate::evidence::Context;
use crate::evidence::load::change_drove;
use crate::model::Kind;
use crate::rules::Status;
use crate::rules::helpers::last_change;

/// How long after the alert fired a move of its own series may begin and still be what the
/// alert saw (alerts fire on windows of a few minutes).
const ALERT_SLACK_MS: i64 = 5 * 60_000;

/// The highest confidence a root cause taken from the culprit ranking alone may claim.
const RANKED_CONFIDENCE_CAP: f64 = 0.6;

/// The supported hypotheses that may be the root cause, best first, and the trigger: a
/// surge that fed a limit. A limit the surge alone outgrew is the surge's effect.
pub(super) fn causes<'a>(
    ctx: &Context,
    hypotheses: &'a [HypothesisVerdict],
) -> (Vec<&'a HypothesisVerdict>, Option<Trigger>) {
    let supported: Vec<&HypothesisVerdict> = hypotheses
        .iter()
        .filter(|h| h.status == Status::Supported)
        .collect();
    // A limit or shared resource the surge alone ran into is the surge's effect, not a second
    // cause; the remaining limits are ones a surge can trigger.
    let outgrown: Vec<&HypothesisVerdict> = supported
        .iter()
        .copied()
        .filter(|c| {
            supported.iter().any(|t| {
                t.kind == Kind::TrafficSpike && outgrown(ctx, &t.culprit, c.kind, &c.culprit)
            })
        })
        .collect();
    let capacity: Vec<&HypothesisVerdict> = supported
        .iter()
        .copied()
        .filter(|h| is_capacity(h.kind))
        .collect();
    let limits: Vec<&HypothesisVerdict> = capacity
        .iter()
        .copied()
        .filter(|c| {
            !outgrown
                .iter()
                .any(|o| o.kind == c.kind && o.culprit == c.culprit)
        })
        .collect();
    let mut trigger: Option<(bool, f64, Trigger)> = None;
    let mut candidates: Vec<&HypothesisVerdict> = Vec::new();
    for h in &supported {
        // Hypotheses are unique by kind and culprit.
        if outgrown
            .iter()
            .any(|o| o.kind == h.kind && o.culprit == h.culprit)
        {
            continue;
        }
        if h.kind == Kind::TrafficSpike && limits.iter().any(|c| feeds(ctx, &h.culprit, &c.culprit))
        {
            // The surge at the limited service itself beats one at the gateway in front of it.
            let own = capacity.iter().any(|c| c.culprit == h.culprit);
            if trigger
                .as_ref()
                .is_none_or(|(o, s, _)| (own, h.score) > (*o, *s))
            {
                trigger = Some((
                    own,
                    h.score,
                    Trigger {
                        kind: h.kind,
                        culprit: h.culprit.clone(),
                    },
                ));
            }
            continue;
        }
        // A change that sent a storage instance more work explains its symptoms.
        if matches!(h.kind, Kind::Mysql | Kind::Redis)
            && supported
                .iter()
                .any(|o| o.kind == Kind::CodeChange && drove(ctx, &o.culprit, &h.culprit))
        {
            continue;
        }
        // A recorded failover explains the same instance's storage symptoms.
        if matches!(h.kind, Kind::Mysql | Kind::Redis)
            && supported
                .iter()
                .any(|o| o.kind == Kind::StorageFailover && o.culprit == h.culprit)
        {
            continue;
        }
        candidates.push(h);
    }
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.kind.cmp(&b.kind))
            .then(a.culprit.cmp(&b.culprit))
    });
    (candidates, trigger.map(|t| t.2))
}

/// Whether the last change of `svc` drove the load of storage instance `dep`.
fn drove(ctx: &Context, svc: &str, dep: &str) -> bool {
    last_change(ctx, svc).is_some_and(|c| change_drove(ctx, svc, dep, c.ts_ms).is_some())
}

/// The best supported candidate, with a confidence lowered by how close the runner-up came.
pub(super) fn from_rules(candidates: &[&HypothesisVerdict]) -> Option<RootCause> {
    candidates.first().and_then(|top| {
        let runner_up = candidates.get(1).map_or(0.0, |h| h.score);
        let confidence = top.score * (1.0 - 0.6 * runner_up / top.score.max(1e-9));
        (confidence >= 0.3).then(|| RootCause {
            kind: top.kind,
            culprit: top.culprit.clone(),
            confidence,
        })
    })
}

/// A root cause from the kind-agnostic culprit ranking, when the rules named none.
pub(super) fn from_statistics(
    ctx: &Context,
    culprits: &[rank::CulpritScore],
    hypotheses: &[HypothesisVerdict],
    contested: bool,
) -> Option<RootCause> {
    // A culprit picked by the kind-agnostic ranking carries a guessed kind: never one the
    // funnel eliminated, and never with the confidence of a verdict the rules support. Nor
    // without an incident to explain: when no entity degraded and the alert's own series
    // never left its baseline, the alert was noise and whatever the ranking found is too.
    // A move of the alert's series that began long after the alert fired (a daily curve
    // drifting late in the window) is not what fired it.
    let late = ctx.aligned.alert + (ALERT_SLACK_MS / ctx.aligned.grid.step.max(1)) as usize;
    let symptom = !ctx.scope.affected().is_empty()
        || ctx.alert_series().is_some_and(|v| {
            v.score.direction != crate::detect::Direction::Flat
                && v.score.onset.is_some_and(|o| o <= late)
        });
    rank::root_cause(culprits)
        .filter(|_| symptom && !contested)
        .filter(|rc| kind_evidenced(ctx, culprits, rc))
        .filter(|rc| {
            !hypotheses.iter().any(|h| {
                h.kind == rc.kind && h.culprit == rc.culprit && h.status == Status::Eliminated
            })
        })
        .map(|rc| RootCause {
            confidence: rc.confidence.min(RANKED_CONFIDENCE_CAP),
            ..rc
        })
        .filter(|rc| !outscored(hypotheses, rc))
}

/// Whether a hypothesis the rules left standing at another culprit scored above a root cause
/// the culprit ranking picked: statistics alone must not jump a candidate the evidence rates
/// higher, and with two such leads neither is the root cause.
pub(super) fn outscored(hypotheses: &[HypothesisVerdict], rc: &RootCause) -> bool {
    hypotheses.iter().any(|h| {
        h.status != Status::Eliminated && h.culprit != rc.culprit && h.score > rc.confidence
    })
}

/// Whether a root cause picked by the culprit ranking has evidence of its own kind: a code
/// change needs a change event of its culprit or log templates that are new or surging (or
/// fell silent); the other kinds come from a series of that kind that left its baseline.
pub(super) fn kind_evidenced(ctx: &Context, scores: &[rank::CulpritScore], rc: &RootCause) -> bool {
    rc.kind != Kind::CodeChange
        || rank::changed(ctx, &rc.culprit)
        || scores
            .iter()
            .any(|s| s.culprit == rc.culprit && (s.logs > 0.0 || s.fall > 0.0))
}

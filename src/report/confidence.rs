//! What the confidence and the eliminations rest on: which rules compare services, pods or
//! nodes (cross-service evidence) and which judge one service or the change log alone, and
//! which outcomes raised or lowered the root cause's confidence.

use super::narrative::{join_and, short_layer};
use crate::model::Kind;
use crate::rules::Status;
use crate::verdict::Verdict;

/// Rules whose evidence compares entities: another service, replica, node or caller.
pub const COMPARATIVE: &[&str] = &[
    "affected-pods-span-nodes",
    "all-dependencies-slow-together",
    "dependency-errors-in-logs",
    "gateway-other-services-healthy",
    "healthy-services-elsewhere",
    "most-pods-affected",
    "node-pods-degrade-together",
    "peer-sharing-storage-healthy",
    "third-party-callers",
    "traffic-surge-before-onset",
];

fn layers(v: &Verdict, comparative: bool) -> (usize, Vec<&'static str>) {
    let hs: Vec<_> = v
        .hypotheses
        .iter()
        .filter(|h| h.status == Status::Eliminated)
        .filter(|h| COMPARATIVE.contains(&h.rule.as_str()) == comparative)
        .collect();
    let mut kinds: Vec<Kind> = hs.iter().map(|h| h.kind).collect();
    kinds.sort();
    kinds.dedup();
    (hs.len(), kinds.into_iter().map(short_layer).collect())
}

/// "17 of 19 hypotheses were eliminated: 12 by cross-service evidence (...), 5 by ... alone".
#[must_use]
pub fn elimination_sentence(v: &Verdict) -> String {
    let (nc, lc) = layers(v, true);
    let (ns, ls) = layers(v, false);
    let mut parts = Vec::new();
    if nc > 0 {
        parts.push(format!(
            "{nc} by comparing services, pods or nodes ({})",
            join_and(&lc)
        ));
    }
    if ns > 0 {
        parts.push(format!(
            "{ns} by the entity's own metrics or the change log ({})",
            join_and(&ls)
        ));
    }
    let conf = v.root_cause.as_ref().map_or(String::new(), |r| {
        format!(
            "; confidence {:.2} (explained under Root cause)",
            r.confidence
        )
    });
    format!(
        "{} of {} hypotheses were eliminated{}{conf}.",
        nc + ns,
        v.hypotheses.len(),
        if parts.is_empty() {
            String::new()
        } else {
            format!(": {}", parts.join(", "))
        }
    )
}

/// Bullets explaining the root cause's confidence: its supports and eliminations with their
/// weights, and the runner-up that lowered it.
#[must_use]
pub fn explain(v: &Verdict) -> Vec<String> {
    let Some(rc) = &v.root_cause else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let Some(h) = v.hypothesis(rc.kind, &rc.culprit) else {
        out.push(format!(
            "No rule tested this culprit: it comes from the kind-agnostic ranking of how far each entity's series left their baseline, so its confidence is capped at 0.60 ({:.2}).",
            rc.confidence
        ));
        return out;
    };
    for o in &h.outcomes {
        let effect = match o.status {
            Status::Supported => "raised it",
            Status::Eliminated => "lowered it",
            Status::Inconclusive => continue,
        };
        out.push(format!("`{}` (weight {:.2}) {effect}", o.rule, o.weight));
    }
    let inconclusive: Vec<&str> = h
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Inconclusive)
        .map(|o| o.rule)
        .collect();
    if !inconclusive.is_empty() {
        out.push(format!(
            "inconclusive, no effect: {}",
            inconclusive
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push(format!(
        "score {:.2} (the supports combined, less the strongest elimination)",
        h.score
    ));
    let runner = v
        .hypotheses
        .iter()
        .filter(|o| {
            o.status == Status::Supported && !(o.kind == rc.kind && o.culprit == rc.culprit)
        })
        .filter(|o| {
            v.trigger
                .as_ref()
                .is_none_or(|t| !(t.kind == o.kind && t.culprit == o.culprit))
        })
        .max_by(|a, b| a.score.total_cmp(&b.score).then(b.culprit.cmp(&a.culprit)));
    match runner {
        Some(r) => out.push(format!(
            "runner-up `{}` `{}` (score {:.2}) lowered it to {:.2}",
            r.kind, r.culprit, r.score, rc.confidence
        )),
        None => out.push(format!(
            "no other supported hypothesis competes (a trigger is not a rival); confidence {:.2}",
            rc.confidence
        )),
    }
    out
}

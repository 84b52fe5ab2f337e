//! Verdict: combines the rules' outcomes into one status per hypothesis, ranks the survivors,
//! separates the root cause from the trigger, and computes a confidence that means something.
//!
//! Per hypothesis: the strongest elimination `E` against the noisy-or of the supports `S`.
//! Eliminated when `E ≥ 0.5` and `E ≥ S`; supported when `S ≥ 0.5`; otherwise inconclusive.
//! Score `S·(1−E)`, less for a hypothesis off the alert's call path or behind a caller that
//! stayed healthy. The root cause is the best supported hypothesis that nothing else supported
//! explains (a traffic surge is the trigger of a capacity limit it ran into, not its cause,
//! unless the surge alone outgrew the app's CPU: see `capacity`); its confidence shrinks with
//! the strength of the runner-up.

mod capacity;
mod cause;
pub mod coverage;
mod findings;
mod json;
pub mod outage;
pub mod rank;
pub mod timing;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::evidence::Context;
use crate::model::{Finding, Kind};
use crate::rules::{Hypothesis, Outcome, Status};
use cause::{causes, from_rules, from_statistics};

/// verdict.json format version: 2 adds `onset`, `detected_after_s`, `impact`, `duration_s`
/// and a `status` per `ranking` entry, which lists no eliminated hypothesis; 3 adds
/// `coverage`, what each missing or coarse input cost the analysis.
pub const FORMAT: u32 = 3;

/// The machine-readable verdict (archive spec, "Verdict").
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The verdict.json format version ([`FORMAT`]): which fields a reader can expect.
    pub format: u32,
    /// Incident id.
    pub incident: String,
    /// The root cause, or null when the evidence cannot single one out.
    pub root_cause: Option<RootCause>,
    /// What set it off, when distinct from the root cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// Onset, time to detect, impact and duration (format 2), from the timing model; filled
    /// by [`Verdict::attach_outage`].
    #[serde(flatten)]
    pub outage: outage::Outage,
    /// Hypotheses that were not eliminated, best first.
    pub ranking: Vec<Ranked>,
    /// Every hypothesis with its status, deciding rule and evidence.
    pub hypotheses: Vec<HypothesisVerdict>,
    /// Data-quality and configuration findings.
    pub findings: Vec<Finding>,
    /// What each missing or coarse input cost the analysis (format 3).
    pub coverage: Vec<coverage::Cost>,
    /// Per culprit of the culprit ranking, what weighed most in its score, in words, for the
    /// report to quote beside culprits no rule supports. Not part of verdict.json.
    #[serde(skip)]
    pub reasons: BTreeMap<String, String>,
}

/// The verdict's `root_cause`: what started the incident, and where.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RootCause {
    /// The kind of fault, as `Kind` names it in verdict.json (`cpu-saturation`, `redis`, ...).
    pub kind: Kind,
    /// The entity id the kind points at (`cart`, `redis:sessions`, a pod, `node:<name>`).
    pub culprit: String,
    /// 0..1.
    #[serde(serialize_with = "round3")]
    pub confidence: f64,
}

/// The verdict's `trigger`: what set off a root cause that was already there (a traffic surge
/// running into a capacity limit).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Trigger {
    /// The kind of fault, as `Kind` names it in verdict.json (`cpu-saturation`, `redis`, ...).
    pub kind: Kind,
    /// The entity id the kind points at (`cart`, `redis:sessions`, a pod, `node:<name>`).
    pub culprit: String,
}

/// One entry of `ranking`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ranked {
    /// The kind of fault, as `Kind` names it in verdict.json (`cpu-saturation`, `redis`, ...).
    pub kind: Kind,
    /// The entity id the kind points at (`cart`, `redis:sessions`, a pod, `node:<name>`).
    pub culprit: String,
    /// 0..1.
    #[serde(serialize_with = "round3")]
    pub score: f64,
}

/// One entry of `hypotheses`.
#[derive(Debug, Clone, Serialize)]
pub struct HypothesisVerdict {
    /// The kind of fault, as `Kind` names it in verdict.json (`cpu-saturation`, `redis`, ...).
    pub kind: Kind,
    /// The entity id the kind points at (`cart`, `redis:sessions`, a pod, `node:<name>`).
    pub culprit: String,
    /// Final status.
    pub status: Status,
    /// The rule that decided it (`none` when no rule could test it).
    pub rule: String,
    /// The deciding evidence.
    pub evidence: String,
    /// Score `S·(1−E)`.
    #[serde(serialize_with = "round3")]
    pub score: f64,
    /// Every rule's outcome, in registry order.
    pub outcomes: Vec<Outcome>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with signature"
)]
fn round3<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((v * 1000.0).round() / 1000.0)
}

fn combine(h: Hypothesis, outcomes: Vec<Outcome>) -> HypothesisVerdict {
    let strongest = |st: Status| {
        outcomes
            .iter()
            .filter(|o| o.status == st)
            .max_by(|a, b| a.weight.total_cmp(&b.weight).then(b.rule.cmp(a.rule)))
    };
    let e = strongest(Status::Eliminated).map_or(0.0, |o| o.weight);
    let s = 1.0
        - outcomes
            .iter()
            .filter(|o| o.status == Status::Supported)
            .map(|o| 1.0 - o.weight)
            .product::<f64>();
    let status = if e >= 0.5 && e >= s {
        Status::Eliminated
    } else if s >= 0.5 {
        Status::Supported
    } else {
        Status::Inconclusive
    };
    let decisive = strongest(status)
        .or_else(|| outcomes.iter().find(|o| o.status == Status::Inconclusive))
        .or_else(|| strongest(Status::Supported));
    let (rule, evidence) = decisive.map_or_else(
        || {
            (
                "none".to_string(),
                "no rule could test it with the data in the archive".to_string(),
            )
        },
        |o| (o.rule.to_string(), o.evidence.clone()),
    );
    HypothesisVerdict {
        kind: h.kind,
        culprit: h.culprit,
        status,
        rule,
        evidence,
        score: s * (1.0 - e),
        outcomes,
    }
}

/// Whether a fault at this hypothesis could produce the alert: its culprit must sit on the
/// alerting entity's call path (itself, what it calls transitively, its gateways). Without
/// any topology nothing is known, and nothing is discounted.
fn reaches_alert(ctx: &Context, reach: &BTreeSet<String>, h: &HypothesisVerdict) -> bool {
    if ctx.topo.deps.is_empty() && ctx.topo.entries.is_empty() {
        return true;
    }
    match h.kind {
        Kind::Network => true,
        Kind::Pod => ctx
            .topo
            .pod_entity
            .get(&h.culprit)
            .is_none_or(|s| reach.contains(s)),
        Kind::Node => ctx.topo.pods_on(&h.culprit).iter().any(|p| {
            ctx.topo
                .pod_entity
                .get(*p)
                .is_some_and(|s| reach.contains(s))
        }),
        _ => reach.contains(&h.culprit),
    }
}

/// What the alerting entity reaches through its dependencies and gateways, except through a
/// service that stayed healthy: a fault travels up to the alert through its callers, so one
/// behind a caller whose every symptom stayed at baseline did not get there (that caller is
/// reached, what lies behind it only by another path). An entity without testable symptoms
/// is no barrier.
/// `all` is the plain reach of the alert (`Topology::reach`), computed once by the caller.
fn sick_reach(ctx: &Context, all: &BTreeSet<String>) -> BTreeSet<String> {
    let alert = ctx.spec.alert.entity.as_str();
    let mut seen = BTreeSet::new();
    let mut stack = vec![alert.to_string()];
    while let Some(e) = stack.pop() {
        if !seen.insert(e.clone()) || (e != alert && ctx.scope.of(&e).healthy()) {
            continue;
        }
        let gateways = ctx.topo.entries.get(&e).into_iter().flatten().cloned();
        stack.extend(
            ctx.topo
                .deps_of(&e)
                .into_iter()
                .map(str::to_string)
                .chain(gateways),
        );
        if let Some(b) = ctx.topo.behind.get(&e).filter(|_| e == alert) {
            stack.extend(b.iter().cloned());
        }
    }
    // Never wider than the plain reach (a gateway alert's services come through `behind`).
    seen.retain(|e| all.contains(e));
    seen
}

/// Weight of a hypothesis that cannot reach the alert: it may be real, but it is not this
/// incident's cause.
const OFF_PATH: f64 = 0.3;

/// Weight of a hypothesis the alert reaches only through a caller that stayed healthy: the
/// fault may still have got there (in bursts too short to count as a symptom), but a rival
/// whose trouble shows all the way up is the likelier cause. Not for a failover, which is
/// such a burst by nature.
const BEHIND_HEALTHY: f64 = 0.6;

/// Builds the verdict from the rules' outcomes (indexed like `hyps`).
#[must_use]
pub fn decide(ctx: &Context, hyps: Vec<Hypothesis>, outcomes: Vec<Vec<Outcome>>) -> Verdict {
    let hypotheses = scored(ctx, hyps, outcomes);
    let (candidates, trigger) = causes(ctx, &hypotheses);
    // Supported hypotheses too close to call leave no root cause: the statistical ranking
    // must not break a tie the evidence could not.
    let contested = !candidates.is_empty();
    let root_cause = from_rules(&candidates);
    let trigger = trigger.filter(|t| {
        root_cause
            .as_ref()
            .is_none_or(|rc| t.kind != rc.kind || t.culprit != rc.culprit)
    });
    let ranking = survivors(&hypotheses, root_cause.as_ref());
    // Real archives the kind-specific rules cannot judge still get a ranked list of culprits.
    let culprits = rank::rank(ctx);
    let root_cause = root_cause.or_else(|| from_statistics(ctx, &culprits, &hypotheses, contested));
    let ranking = rank::merge(ranking, &culprits, root_cause.as_ref());
    let mut all_findings = ctx.quality.clone();
    all_findings.extend(findings::configuration(ctx));
    all_findings.extend(findings::missing(ctx));
    all_findings.extend(findings::alert_not_worse(ctx));
    Verdict {
        format: FORMAT,
        incident: ctx.id.clone(),
        root_cause,
        trigger,
        outage: outage::Outage::default(),
        ranking,
        coverage: coverage::costs(ctx, &hypotheses),
        hypotheses,
        findings: all_findings,
        reasons: rank::reasons(&culprits),
    }
}

/// Each hypothesis's outcomes combined, discounted when it cannot reach the alert or reaches
/// it only through healthy services.
fn scored(
    ctx: &Context,
    hyps: Vec<Hypothesis>,
    outcomes: Vec<Vec<Outcome>>,
) -> Vec<HypothesisVerdict> {
    let reach = ctx.topo.reach(&ctx.spec.alert.entity);
    let sick = sick_reach(ctx, &reach);
    let mut hypotheses: Vec<HypothesisVerdict> = hyps
        .into_iter()
        .zip(outcomes)
        .map(|(h, o)| combine(h, o))
        .collect();
    for h in &mut hypotheses {
        if !reaches_alert(ctx, &reach, h) {
            h.score *= OFF_PATH;
        } else if h.kind != Kind::StorageFailover && !reaches_alert(ctx, &sick, h) {
            h.score *= BEHIND_HEALTHY;
        }
    }
    hypotheses
}

/// Every hypothesis not eliminated, the root cause first even when a trigger scored higher.
fn survivors(hypotheses: &[HypothesisVerdict], root_cause: Option<&RootCause>) -> Vec<Ranked> {
    let mut ranking: Vec<Ranked> = hypotheses
        .iter()
        .filter(|h| h.status != Status::Eliminated)
        .map(|h| Ranked {
            kind: h.kind,
            culprit: h.culprit.clone(),
            score: h.score,
        })
        .collect();
    // The root cause heads the ranking even when a trigger scored higher.
    ranking.sort_by(|a, b| {
        let is_rc =
            |r: &Ranked| root_cause.is_some_and(|rc| rc.kind == r.kind && rc.culprit == r.culprit);
        is_rc(b)
            .cmp(&is_rc(a))
            .then(b.score.total_cmp(&a.score))
            .then(a.kind.cmp(&b.kind))
            .then(a.culprit.cmp(&b.culprit))
    });
    ranking
}

#[cfg(test)]
impl Verdict {
    /// A verdict naming `kind` at `culprit` and nothing else, for tests of what reads one.
    pub(crate) fn blaming(kind: Kind, culprit: &str, confidence: f64) -> Verdict {
        Verdict {
            format: FORMAT,
            incident: "fixture".into(),
            root_cause: Some(RootCause {
                kind,
                culprit: culprit.into(),
                confidence,
            }),
            trigger: None,
            outage: outage::Outage::default(),
            ranking: Vec::new(),
            hypotheses: Vec::new(),
            findings: Vec::new(),
            coverage: Vec::new(),
            reasons: BTreeMap::new(),
        }
    }
}

impl Verdict {
    /// The hypothesis entry for a kind and culprit.
    #[must_use]
    pub fn hypothesis(&self, kind: Kind, culprit: &str) -> Option<&HypothesisVerdict> {
        self.hypotheses
            .iter()
            .find(|h| h.kind == kind && h.culprit == culprit)
    }

    /// Every timed event of this incident (the one timing model the report uses).
    #[must_use]
    pub fn timing(&self, ctx: &Context) -> timing::Timing {
        timing::Timing::of(
            ctx,
            self.root_cause
                .as_ref()
                .map(|r| (r.kind, r.culprit.as_str())),
            self.trigger.as_ref().map(|t| t.culprit.as_str()),
        )
    }

    /// Fills the format-2 outage record from the timing model.
    pub fn attach_outage(&mut self, ctx: &Context) {
        self.outage = outage::Outage::of(ctx, &self.timing(ctx));
    }

    /// Pretty JSON (format 2) with a trailing newline.
    ///
    /// # Errors
    /// Serialisation fails (a non-finite number where JSON has none).
    pub fn to_json(&self) -> serde_json::Result<String> {
        json::to_json(self)
    }
}

#[cfg(test)]
mod tests;

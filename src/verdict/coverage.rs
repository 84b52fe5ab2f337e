//! What missing or coarse data cost one analysis. Per optional input of an archive (see
//! [`Input`]) that this one lacks or holds only coarsely: the rule checks that could not test
//! their hypotheses without it (from the outcomes the analysis recorded and the inputs each rule
//! declares it reads), the hypotheses those checks left untestable or inconclusive, and how the
//! analysis' own measures were limited. A limit is stated only where the code applies one; an
//! input the archive holds costs nothing and is not listed.

use serde::Serialize;

use super::HypothesisVerdict;
use super::rank::{PRIOR_BAND, STILL_BASE_MIN, late_slack, prior, rarity_ceiling};
use crate::evidence::Context;
use crate::model::Kind;
use crate::rules::{Input, RULES, Status};

/// A grid step at or above this is coarse, ms.
pub const COARSE_STEP_MS: i64 = 60_000;

/// One missing or degraded input and what it cost.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cost {
    /// The input.
    pub input: Input,
    /// What the archive holds of it, in words ("none", "a grid step of 60 s").
    pub state: String,
    /// Rule checks that read this input and could not test their hypothesis.
    pub checks: Vec<Check>,
    /// Hypotheses no rule could decide either way, among those of `checks`.
    pub untestable: Vec<String>,
    /// Hypotheses some other rule judged, still inconclusive, among those of `checks`.
    pub inconclusive: Vec<String>,
    /// How the analysis' own measures were limited, in words.
    pub limits: Vec<String>,
}

/// One rule check that could not test its hypothesis.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// Rule id.
    pub rule: &'static str,
    /// The hypothesis' kind.
    pub kind: Kind,
    /// Its culprit.
    pub culprit: String,
    /// The rule's inconclusive evidence, or `no outcome` when it did not apply.
    pub outcome: String,
}

/// The inputs this archive lacks or holds coarsely, each with what it cost the analysis.
#[must_use]
pub fn costs(ctx: &Context, hypotheses: &[HypothesisVerdict]) -> Vec<Cost> {
    let mut out = Vec::new();
    for (input, state) in degraded(ctx) {
        let checks = checks(input, hypotheses);
        let (mut untestable, mut inconclusive) = (Vec::new(), Vec::new());
        for h in hypotheses.iter().filter(|h| {
            h.status == Status::Inconclusive
                && checks
                    .iter()
                    .any(|c| c.kind == h.kind && c.culprit == h.culprit)
        }) {
            let label = format!("{} {}", h.kind, h.culprit);
            if h.outcomes.iter().all(|o| o.status == Status::Inconclusive) {
                untestable.push(label);
            } else {
                inconclusive.push(label);
            }
        }
        out.push(Cost {
            input,
            state,
            checks,
            untestable,
            inconclusive,
            limits: limits(ctx, input),
        });
    }
    out
}

/// The optional inputs this archive lacks or holds coarsely, with what it holds, in words.
fn degraded(ctx: &Context) -> Vec<(Input, String)> {
    let series = &ctx.aligned.series;
    let mut out = Vec::new();
    if ctx.topo.deps.is_empty() && ctx.topo.entries.is_empty() {
        out.push((Input::Topology, "no call graph or gateways".into()));
    }
    let limit_series = series.iter().any(|s| s.key.metric.contains("_limit"));
    if !limit_series && ctx.spec.entities.iter().all(|e| e.resources.is_none()) {
        out.push((Input::Limits, "no container limits".into()));
    }
    if ctx.logs.lines.values().all(|(b, i)| b + i == 0) {
        out.push((Input::Logs, "no log lines".into()));
    }
    if !series
        .iter()
        .any(|s| s.key.target.is_some() || s.key.source.as_deref() == Some("traces"))
    {
        out.push((
            Input::Traces,
            "no traces or client-side dependency series".into(),
        ));
    }
    if !ctx.has_events {
        out.push((Input::Events, "no events".into()));
    }
    let sources: std::collections::BTreeSet<&str> = series
        .iter()
        .filter_map(|s| s.key.source.as_deref())
        .collect();
    if sources.len() < 2 {
        out.push((Input::Collectors, "one collector".into()));
    }
    let step = ctx.aligned.grid.step;
    if step >= COARSE_STEP_MS {
        out.push((Input::Step, format!("a grid step of {} s", step / 1000)));
    }
    let n = prior::baseline_samples(ctx);
    if n < STILL_BASE_MIN {
        out.push((Input::Baseline, format!("a baseline of {n} samples")));
    }
    out
}

/// The checks of rules reading `input` that left their hypothesis untested: an inconclusive
/// outcome, or none at all for a hypothesis of a kind the rule tests.
fn checks(input: Input, hypotheses: &[HypothesisVerdict]) -> Vec<Check> {
    let mut out = Vec::new();
    for h in hypotheses {
        for r in RULES
            .iter()
            .map(|r| r.info())
            .filter(|i| i.reads.contains(&input) && i.kinds.contains(&h.kind))
        {
            let outcome = match h.outcomes.iter().find(|o| o.rule == r.id) {
                Some(o) if o.status == Status::Inconclusive => o.evidence.clone(),
                Some(_) => continue,
                None => "no outcome".into(),
            };
            out.push(Check {
                rule: r.id,
                kind: h.kind,
                culprit: h.culprit.clone(),
                outcome,
            });
        }
    }
    out
}

/// How the analysis' own measures (beyond the rules) were limited without `input`: each
/// sentence states what the code does.
fn limits(ctx: &Context, input: Input) -> Vec<String> {
    let step = ctx.aligned.grid.step.max(1);
    match input {
        Input::Topology => vec![
            "the ranking could not discount a caller for a callee that moved as far, and no hypothesis could be lowered for lying off the alert's call path".into(),
        ],
        Input::Logs => {
            let mut l = vec!["the ranking had no surging or silenced log statements to weigh".into()];
            l.push(if ctx.has_events {
                "a code change could be named from the ranking only with a change event of its culprit".into()
            } else {
                "with no change events either, no code change could be named from the ranking".into()
            });
            l
        }
        Input::Collectors => {
            vec!["no series could be checked against a second collector's copy of it".into()]
        }
        Input::Step => {
            let slack = late_slack(step);
            vec![format!(
                "onsets are known only to the step; an entity counts as having moved after the onset only when it began more than {slack} samples ({} s) after it",
                slack as i64 * step / 1000
            )]
        }
        Input::Baseline => baseline_limits(ctx),
        Input::Limits | Input::Traces | Input::Events => Vec::new(),
    }
}

fn baseline_limits(ctx: &Context) -> Vec<String> {
    let n = prior::baseline_samples(ctx);
    let k = ctx.aligned.incident.len();
    let mut l = Vec::new();
    let lean = prior::weight(n);
    if lean > 0.0 {
        l.push(format!(
            "shifts are measured against the median and spread of {n} samples, which are noisy themselves; culprits whose scores lie within {band:.0} % of the top score of each other are ordered by each entity's largest robust shift (the statistical prior), with weight {lean:.2}",
            band = PRIOR_BAND * 100.0
        ));
    }
    let ceiling = rarity_ceiling(n, k);
    if ceiling < 1.0 {
        l.push(format!(
            "no series counts for more than {ceiling:.2} of a full anomaly in the ranking: all {k} incident samples beyond all {n} baseline ones could happen by chance (1 in {:.0})",
            10f64.powf(3.0 * ceiling)
        ));
    }
    l.push(format!(
        "a series leaving a value it held through the baseline cannot count as a break from it (that needs {STILL_BASE_MIN} baseline samples)"
    ));
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k};
    use crate::rules::{Hypothesis, enumerate, run_all};

    fn verdict_costs(ctx: &Context) -> Vec<Cost> {
        let hyps: Vec<Hypothesis> = enumerate(ctx);
        let outcomes = run_all(ctx, &hyps);
        crate::verdict::decide(ctx, hyps, outcomes).coverage
    }

    #[test]
    fn missing_limits_name_the_checks_and_hypotheses_they_cost() {
        let ctx = Fixture::new("api")
            .slow_service("api")
            .step(k("api", "cpu_cores"), 0.5, 2.0)
            .build();
        let costs = verdict_costs(&ctx);
        let limits = costs.iter().find(|c| c.input == Input::Limits).unwrap();
        assert!(
            limits
                .checks
                .iter()
                .any(|c| c.rule == "app-cpu-below-limit" && c.culprit == "api"),
            "{limits:?}"
        );
        assert!(
            limits
                .untestable
                .iter()
                .chain(&limits.inconclusive)
                .any(|h| h == "cpu-saturation api"),
            "{limits:?}"
        );
        // The fixture's 20 baseline samples are fewer than a break from a held value needs,
        // and enough for the ranking's own measures.
        let base = costs.iter().find(|c| c.input == Input::Baseline).unwrap();
        assert_eq!(base.limits.len(), 1, "{base:?}");
        // The fixture's grid is one minute: coarse, and it says what that does to timing.
        let step = costs.iter().find(|c| c.input == Input::Step).unwrap();
        assert!(
            step.limits[0].contains("more than 2 samples (120 s)"),
            "{step:?}"
        );
    }

    #[test]
    fn an_input_the_archive_holds_costs_nothing() {
        let ctx = Fixture::new("api")
            .depends("api", &["db"])
            .slow_service("api")
            .events_exported()
            .build();
        let costs = verdict_costs(&ctx);
        assert!(!costs.iter().any(|c| c.input == Input::Topology));
        assert!(!costs.iter().any(|c| c.input == Input::Events));
        let logs = costs.iter().find(|c| c.input == Input::Logs).unwrap();
        assert!(logs.limits[1].starts_with("a code change"), "{logs:?}");
    }
}

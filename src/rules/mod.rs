//! The funnel's rules: the `Rule` trait, the `RULES` registry and the parallel runner.
//!
//! A rule looks at one hypothesis ("Redis `redis:live-cache` is the root cause") and returns an
//! outcome: eliminated, supported or inconclusive, with a weight and the evidence in numbers.
//! Rules are pure: `&Context` in, `Outcome` out. No I/O, no printing, no errors: missing data
//! is an inconclusive outcome that says what was missing.
//!
//! Adding a rule: copy a rule file, rename file, struct and id together, write the five doc
//! headings, implement `evaluate`, test eliminated / supported / inconclusive, register it in
//! `RULES` (sorted by id). The meta-tests below catch anything forgotten.

use std::fmt;

use rayon::prelude::*;
use serde::Serialize;

use crate::evidence::Context;
use crate::model::Kind;

pub(crate) mod helpers;
mod hypotheses;
pub(crate) use helpers::CHANGE_KINDS;
pub use hypotheses::{Hypothesis, enumerate};

mod affected_pods_span_nodes;
mod all_dependencies_slow_together;
mod app_cpu_below_limit;
mod app_memory_below_limit;
mod dependency_errors_in_logs;
mod deploy_before_onset;
mod failover_event;
mod gateway_other_services_healthy;
mod healthy_services_elsewhere;
mod most_pods_affected;
mod new_errors_after_deploy;
mod node_pods_degrade_together;
mod oom_killed_in_logs;
mod peer_sharing_storage_healthy;
mod sidecar_at_limit;
mod span_self_time_locates_latency;
mod storage_server_metrics;
mod third_party_callers;
mod traffic_surge_before_onset;

/// What a rule concluded about one hypothesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The evidence rules it out.
    Eliminated,
    /// The evidence points at it.
    Supported,
    /// The rule could not tell.
    Inconclusive,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Eliminated => "eliminated",
            Status::Supported => "supported",
            Status::Inconclusive => "inconclusive",
        })
    }
}

/// One rule's conclusion on one hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The rule id.
    pub rule: &'static str,
    /// Its conclusion.
    pub status: Status,
    /// Strength of the evidence, 0..1.
    pub weight: f64,
    /// The evidence, in numbers; lowercase, no trailing period.
    pub evidence: String,
}

impl Outcome {
    pub(crate) fn eliminated(
        rule: &'static str,
        weight: f64,
        evidence: impl Into<String>,
    ) -> Outcome {
        Outcome {
            rule,
            status: Status::Eliminated,
            weight,
            evidence: evidence.into(),
        }
    }
    pub(crate) fn supported(
        rule: &'static str,
        weight: f64,
        evidence: impl Into<String>,
    ) -> Outcome {
        Outcome {
            rule,
            status: Status::Supported,
            weight,
            evidence: evidence.into(),
        }
    }
    pub(crate) fn inconclusive(rule: &'static str, evidence: impl Into<String>) -> Outcome {
        Outcome {
            rule,
            status: Status::Inconclusive,
            weight: 0.0,
            evidence: evidence.into(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:.2}): {}", self.status, self.weight, self.evidence)
    }
}

/// Static facts about a rule: id, the kinds it tests, its documentation.
#[derive(Debug)]
pub struct RuleInfo {
    /// Kebab-case id naming the observation; stable, never reused.
    pub id: &'static str,
    /// The hypothesis kinds it evaluates.
    pub kinds: &'static [Kind],
    /// The optional inputs of an archive it reads (see [`Input`]): without one of them it
    /// cannot test its hypotheses, which the report's coverage section says.
    pub reads: &'static [Input],
    /// The doc comment (five `##` sections).
    pub doc: &'static str,
}

/// An optional input of an archive, one whose absence (or coarseness) an analysis can
/// survive at a cost the report states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Input {
    /// The call graph and gateways (`depends_on`, `entry` in incident.toml).
    Topology,
    /// Container limits (`*_limit_*` metrics or incident.toml `resources`).
    Limits,
    /// Log lines.
    Logs,
    /// Trace-derived and client-side dependency series (series with a `target`).
    Traces,
    /// Change and failover events.
    Events,
    /// A second collector of the same metrics (`source`).
    Collectors,
    /// The sampling step.
    Step,
    /// The baseline window's length in samples.
    Baseline,
}

/// A funnel rule.
pub trait Rule: fmt::Debug + Send + Sync {
    /// Id, kinds, docs.
    fn info(&self) -> &'static RuleInfo;
    /// The rule's conclusion on one hypothesis of one of its kinds; None when it does not apply
    /// to this culprit (e.g. a storage rule asked about an instance nobody calls).
    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome>;
}

macro_rules! declare_rule {
    ( $(#[doc = $doc:literal])* $vis:vis $name:ident { id: $id:literal, kinds: [$($kind:ident),+ $(,)?], reads: [$($input:ident),* $(,)?] $(,)? } ) => {
        $(#[doc = $doc])*
        #[derive(Debug)]
        $vis struct $name;
        impl $name {
            pub(crate) const INFO: $crate::rules::RuleInfo = $crate::rules::RuleInfo {
                id: $id,
                kinds: &[$($crate::model::Kind::$kind),+],
                reads: &[$($crate::rules::Input::$input),*],
                doc: concat!($($doc, "\n"),*),
            };
        }
    };
}
pub(crate) use declare_rule;

/// Every rule, sorted by id. Registry order is evaluation and report order.
pub static RULES: &[&dyn Rule] = &[
    &affected_pods_span_nodes::AffectedPodsSpanNodes,
    &all_dependencies_slow_together::AllDependenciesSlowTogether,
    &app_cpu_below_limit::AppCpuBelowLimit,
    &app_memory_below_limit::AppMemoryBelowLimit,
    &dependency_errors_in_logs::DependencyErrorsInLogs,
    &deploy_before_onset::DeployBeforeOnset,
    &failover_event::FailoverEvent,
    &gateway_other_services_healthy::GatewayOtherServicesHealthy,
    &healthy_services_elsewhere::HealthyServicesElsewhere,
    &most_pods_affected::MostPodsAffected,
    &new_errors_after_deploy::NewErrorsAfterDeploy,
    &node_pods_degrade_together::NodePodsDegradeTogether,
    &oom_killed_in_logs::OomKilledInLogs,
    &peer_sharing_storage_healthy::PeerSharingStorageHealthy,
    &sidecar_at_limit::SidecarAtLimit,
    &span_self_time_locates_latency::SpanSelfTimeLocatesLatency,
    &storage_server_metrics::StorageServerMetrics,
    &third_party_callers::ThirdPartyCallers,
    &traffic_surge_before_onset::TrafficSurgeBeforeOnset,
];

/// docs/rules.md: every rule's documentation, generated from the doc comments.
#[must_use]
pub fn docs_markdown() -> String {
    let mut md = String::from(
        "# The funnel's rules\n\nGenerated from the rules' doc comments by `funnel rules --markdown`; a test fails when this file is stale.\n\n",
    );
    for r in RULES {
        let kinds: Vec<&str> = r.info().kinds.iter().map(|k| k.as_str()).collect();
        md.push_str(&format!(
            "- [`{}`](#{}) ({})\n",
            r.info().id,
            r.info().id,
            kinds.join(", ")
        ));
    }
    for r in RULES {
        md.push_str(&format!("\n## {}\n\n", r.info().id));
        for line in r.info().doc.lines() {
            let line = line.strip_prefix(' ').unwrap_or(line);
            // Demote the rule's own headings under the rule's title.
            md.push_str(&line.replacen("## ", "### ", 1));
            md.push('\n');
        }
    }
    md
}

/// Looks a rule up by id.
#[must_use]
pub fn by_id(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.info().id == id)
}

/// Runs every rule on every hypothesis of its kinds, in parallel. The result keeps hypothesis
/// order, then registry order, whatever the thread count.
#[must_use]
pub fn run_all(ctx: &Context, hyps: &[Hypothesis]) -> Vec<Vec<Outcome>> {
    hyps.par_iter()
        .map(|h| {
            RULES
                .iter()
                .filter(|r| r.info().kinds.contains(&h.kind))
                .filter_map(|r| r.evaluate(ctx, h))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod meta_tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_kebab_case() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.info().id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            ids, sorted,
            "RULES must be sorted by id, without duplicates"
        );
        for id in ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id} is not kebab-case"
            );
        }
    }

    #[test]
    fn every_rule_file_is_registered_and_named_after_its_id() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(stem) = name.strip_suffix(".rs") else {
                continue;
            };
            if stem == "mod" || stem == "hypotheses" || stem == "helpers" {
                continue;
            }
            let id = stem.replace('_', "-");
            assert!(
                by_id(&id).is_some(),
                "src/rules/{name} is not registered as `{id}`"
            );
        }
    }

    #[test]
    fn rules_md_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == docs_markdown(),
            "docs/rules.md is stale: run `cargo run -- rules --markdown > docs/rules.md`"
        );
    }

    #[test]
    fn docs_have_the_five_headings_in_order() {
        for r in RULES {
            let doc = r.info().doc;
            let mut at = 0;
            for h in [
                "## What it rules out",
                "## Evidence used",
                "## Why this is sound",
                "## Inconclusive when",
                "## Example",
            ] {
                let pos = doc[at..]
                    .find(h)
                    .unwrap_or_else(|| panic!("{}: missing or misplaced `{h}`", r.info().id));
                at += pos + h.len();
            }
        }
    }
}

//! verdict.json, format 3: the verdict as written, with each `ranking` entry's status and no
//! eliminated hypothesis in `ranking` (an eliminated hypothesis is no lead, whatever its score).

use serde::Serialize;

use super::outage::Outage;
use super::{HypothesisVerdict, RootCause, Trigger, Verdict};
use crate::model::{Finding, Kind};
use crate::rules::Status;

#[derive(Serialize)]
struct Json<'a> {
    format: u32,
    incident: &'a str,
    root_cause: &'a Option<RootCause>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger: &'a Option<Trigger>,
    #[serde(flatten)]
    outage: &'a Outage,
    ranking: Vec<Ranked<'a>>,
    hypotheses: &'a [HypothesisVerdict],
    findings: &'a [Finding],
    coverage: &'a [super::coverage::Cost],
}

#[derive(Serialize)]
struct Ranked<'a> {
    kind: Kind,
    culprit: &'a str,
    score: f64,
    /// `supported` or `inconclusive` for a hypothesis; `lead` for a culprit only the
    /// kind-agnostic ranking proposes (no rule tested it).
    status: &'static str,
}

fn status(v: &Verdict, kind: Kind, culprit: &str) -> Option<&'static str> {
    match v.hypothesis(kind, culprit).map(|h| h.status) {
        Some(Status::Eliminated) => None,
        Some(Status::Supported) => Some("supported"),
        Some(Status::Inconclusive) => Some("inconclusive"),
        None => Some("lead"),
    }
}

/// Pretty JSON with a trailing newline.
pub(super) fn to_json(v: &Verdict) -> serde_json::Result<String> {
    let ranking = v
        .ranking
        .iter()
        .filter_map(|r| {
            Some(Ranked {
                kind: r.kind,
                culprit: &r.culprit,
                score: (r.score * 1000.0).round() / 1000.0,
                status: status(v, r.kind, &r.culprit)?,
            })
        })
        .collect();
    let j = Json {
        format: v.format,
        incident: &v.incident,
        root_cause: &v.root_cause,
        trigger: &v.trigger,
        outage: &v.outage,
        ranking,
        hypotheses: &v.hypotheses,
        findings: &v.findings,
        coverage: &v.coverage,
    };
    let mut s = serde_json::to_string_pretty(&j)?;
    s.push('\n');
    Ok(s)
}

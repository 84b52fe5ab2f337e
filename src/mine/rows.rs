//! The mined rows: one [`IncidentRow`] per archive, one [`HypothesisRow`] per hypothesis, and
//! their extraction from an [`Analysis`]. Rows are all that survives an analysis, so they carry
//! everything the trends need (scope counts included): trends and merges work on rows alone.

use std::collections::BTreeSet;

use crate::model::IncidentSpec;
use crate::pipeline::Analysis;
use crate::rules::Status;

/// The analyzer version written into every row.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `ok` or `error`.
pub const OK: &str = "ok";
/// See [`OK`].
pub const ERROR: &str = "error";

/// One incident: its verdict in brief, or the error that stopped its analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRow {
    /// Incident id.
    pub id: String,
    /// Archive folder relative to the mined root, `/`-separated.
    pub path: String,
    /// Alert time, epoch ms UTC (None when incident.toml is unreadable).
    pub fired_at: Option<i64>,
    /// Alerting entity.
    pub alert_entity: Option<String>,
    /// Alerting metric.
    pub alert_metric: Option<String>,
    /// Root-cause kind (None: not determined, or an error).
    pub root_cause_kind: Option<String>,
    /// Root-cause culprit (an entity id); None with `root_cause_kind`.
    pub root_cause_culprit: Option<String>,
    /// Root-cause confidence, 0..1.
    pub confidence: Option<f64>,
    /// Trigger kind, when distinct from the root cause.
    pub trigger_kind: Option<String>,
    /// Trigger culprit; None with `trigger_kind`.
    pub trigger_culprit: Option<String>,
    /// Number of data-quality and configuration findings.
    pub findings: Option<i64>,
    /// Ids of the rules that supported or eliminated something, sorted, comma-separated.
    pub rules_fired: String,
    /// Degraded services and gateways.
    pub affected_entities: Option<i64>,
    /// Degraded pods.
    pub affected_pods: Option<i64>,
    /// Pods tested.
    pub total_pods: Option<i64>,
    /// [`OK`] or [`ERROR`].
    pub status: String,
    /// The error, for status `error`.
    pub error: Option<String>,
    /// Analyzer version.
    pub version: String,
    /// `[expected].kind` (`none` expects no root cause).
    pub expected_kind: Option<String>,
    /// `[expected].culprit`.
    pub expected_culprit: Option<String>,
    /// Onset of the alert's series (timing model), epoch ms UTC.
    pub onset: Option<i64>,
    /// Alert time minus onset, seconds: the time to detect.
    pub detected_after_s: Option<i64>,
    /// Requests failed beyond the baseline error rate (a lower bound when `ongoing`).
    pub failed_requests: Option<i64>,
    /// Highest one-minute error ratio after the onset.
    pub error_ratio_peak: Option<f64>,
    /// Still degraded when the data ends.
    pub ongoing: Option<bool>,
    /// When the alert's series recovered, epoch ms UTC.
    pub recovered_at: Option<i64>,
    /// Onset to recovery or to the end of the data, seconds.
    pub duration_s: Option<i64>,
    /// Entities with a configuration finding, sorted, comma-separated (for "Seen before").
    pub config_findings: String,
}

/// One hypothesis of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct HypothesisRow {
    /// Incident id.
    pub incident: String,
    /// Hypothesis kind (`Kind` as text, e.g. `cpu-saturation`).
    pub kind: String,
    /// The entity the hypothesis blames.
    pub culprit: String,
    /// `eliminated`, `supported` or `inconclusive`.
    pub status: String,
    /// The deciding rule (`none` when no rule could test it).
    pub rule: String,
    /// Score `S·(1−E)`.
    pub score: f64,
}

/// Everything mined from one archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Mined {
    /// The incident's row: its verdict, or its error when the analysis failed.
    pub incident: IncidentRow,
    /// Its hypotheses, in verdict order.
    pub hypotheses: Vec<HypothesisRow>,
}

impl IncidentRow {
    /// Whether the analysis failed.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.status != OK
    }

    /// The fired rules as a list.
    #[must_use]
    pub fn fired(&self) -> Vec<&str> {
        self.rules_fired
            .split(',')
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn blank(id: &str, path: &str, spec: Option<&IncidentSpec>) -> IncidentRow {
        IncidentRow {
            id: id.into(),
            path: path.into(),
            fired_at: spec.map(|s| s.alert.fired_at.0),
            alert_entity: spec.map(|s| s.alert.entity.clone()),
            alert_metric: spec.map(|s| s.alert.metric.clone()),
            root_cause_kind: None,
            root_cause_culprit: None,
            confidence: None,
            trigger_kind: None,
            trigger_culprit: None,
            findings: None,
            rules_fired: String::new(),
            affected_entities: None,
            affected_pods: None,
            total_pods: None,
            status: OK.into(),
            error: None,
            version: VERSION.into(),
            expected_kind: spec
                .and_then(|s| s.expected.as_ref())
                .map(|e| e.kind.clone()),
            expected_culprit: spec
                .and_then(|s| s.expected.as_ref())
                .map(|e| e.culprit.clone()),
            onset: None,
            detected_after_s: None,
            failed_requests: None,
            error_ratio_peak: None,
            ongoing: None,
            recovered_at: None,
            duration_s: None,
            config_findings: String::new(),
        }
    }

    /// The row of an archive that could not be analysed; whatever incident.toml still tells
    /// (alert, expected verdict) is kept.
    #[must_use]
    pub fn failure(
        id: &str,
        path: &str,
        spec: Option<&IncidentSpec>,
        error: String,
    ) -> IncidentRow {
        IncidentRow {
            status: ERROR.into(),
            error: Some(error),
            ..IncidentRow::blank(id, path, spec)
        }
    }
}

fn count(n: usize) -> Option<i64> {
    Some(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The rows of one analysis. `path` is the archive relative to the mined root.
#[must_use]
pub fn extract(an: &Analysis, path: &str) -> Mined {
    let v = &an.verdict;
    let mut row = IncidentRow::blank(&an.ctx.id, path, Some(&an.ctx.spec));
    row.fired_at = Some(an.ctx.windows.fired_at);
    if let Some(rc) = &v.root_cause {
        row.root_cause_kind = Some(rc.kind.as_str().into());
        row.root_cause_culprit = Some(rc.culprit.clone());
        row.confidence = Some(rc.confidence);
    }
    if let Some(t) = &v.trigger {
        row.trigger_kind = Some(t.kind.as_str().into());
        row.trigger_culprit = Some(t.culprit.clone());
    }
    row.findings = count(v.findings.len());
    let t = v.timing(&an.ctx);
    row.onset = t.onset.as_ref().map(|o| o.at);
    row.detected_after_s = v.outage.detected_after_s;
    row.failed_requests = v
        .outage
        .impact
        .failed_requests
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    row.error_ratio_peak = v.outage.impact.error_ratio_peak;
    row.ongoing = t.onset.is_some().then_some(v.outage.impact.ongoing);
    row.recovered_at = t.recovered;
    row.duration_s = v.outage.duration_s;
    let config: BTreeSet<&str> = v
        .findings
        .iter()
        .filter(|f| f.kind == "configuration")
        .map(|f| f.entity.as_str())
        .collect();
    row.config_findings = config.into_iter().collect::<Vec<_>>().join(",");
    let fired: BTreeSet<&str> = v
        .hypotheses
        .iter()
        .flat_map(|h| &h.outcomes)
        .filter(|o| matches!(o.status, Status::Supported | Status::Eliminated))
        .map(|o| o.rule)
        .collect();
    row.rules_fired = fired.into_iter().collect::<Vec<_>>().join(",");
    row.affected_entities = count(an.ctx.scope.affected().len());
    row.affected_pods = count(an.ctx.scope.affected_pods().len());
    row.total_pods = count(an.ctx.scope.pods.len());
    let hypotheses = v
        .hypotheses
        .iter()
        .map(|h| HypothesisRow {
            incident: an.ctx.id.clone(),
            kind: h.kind.as_str().into(),
            culprit: h.culprit.clone(),
            status: h.status.to_string(),
            rule: h.rule.clone(),
            score: h.score,
        })
        .collect();
    Mined {
        incident: row,
        hypotheses,
    }
}

/// Incident rows and hypothesis rows in their canonical order: incidents by (id, path);
/// hypotheses grouped by incident in that order, each group in verdict order. A single run and
/// a merge of shards both end here, which is what makes their outputs byte-identical.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// One per incident.
    pub incidents: Vec<IncidentRow>,
    /// One per hypothesis per incident.
    pub hypotheses: Vec<HypothesisRow>,
}

impl Rows {
    /// Sorts into canonical order. Hypotheses sort stably by incident id, which keeps verdict
    /// order inside an incident (rows of one id always come from one shard: shards hash ids).
    pub fn canonicalize(&mut self) {
        self.incidents
            .sort_by(|a, b| (&a.id, &a.path).cmp(&(&b.id, &b.path)));
        self.hypotheses.sort_by(|a, b| a.incident.cmp(&b.incident));
    }

    /// Rows from per-archive results, in canonical order.
    #[must_use]
    pub fn from_mined(mined: Vec<Mined>) -> Rows {
        let mut rows = Rows::default();
        for m in mined {
            rows.incidents.push(m.incident);
            rows.hypotheses.extend(m.hypotheses);
        }
        rows.canonicalize();
        rows
    }

    /// Number of failed incidents.
    #[must_use]
    pub fn failures(&self) -> usize {
        self.incidents.iter().filter(|r| r.failed()).count()
    }
}

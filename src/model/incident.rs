//! incident.toml: the alert, the windows, the topology, metric aliases and an expected verdict.
//!
//! Parsing is strict (unknown keys are errors) because a typo such as `[alret]` must not
//! silently fall back to defaults; every error names the file and the key.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::time::{Instant, MINUTE_MS};
use super::vocab;

/// The parsed incident.toml, as written by a person or the simulator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IncidentSpec {
    /// Incident id; defaults to the directory name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// One-line title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Free text: where the archive came from, what it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The alert that opened the incident.
    pub alert: Alert,
    /// The incident window and the baseline before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSpec>,
    /// Metric aliases onto the vocabulary; see [`AliasSpec`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metric_aliases: BTreeMap<String, AliasSpec>,
    /// The verdict a regression run expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    /// Topology: one table per entity worth describing.
    #[serde(default, rename = "entity", skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<EntitySpec>,
    /// What only people know, for the postmortem's header and impact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmortem: Option<PostmortemSpec>,
}

/// `[postmortem]`; every field is optional (the report marks what is missing as a placeholder).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostmortemSpec {
    /// Document status, e.g. `draft`, `in review`, `final`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Severity in the organisation's scale, e.g. `SEV-2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Who wrote the postmortem.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// Who owns the follow-up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// Availability objective of the alert's service: the share of requests that must
    /// succeed (e.g. 0.999), for error-budget figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<f64>,
}

/// incident.toml's `[alert]`: what fired, on which entity, and when; the analysis starts
/// from it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// The alerting entity.
    pub entity: String,
    /// The alerting metric (vocabulary name or an alias).
    pub metric: String,
    /// When the alert fired.
    pub fired_at: Instant,
}

/// `[window]`; every field is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Incident window start (default fired_at − 15 min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Instant>,
    /// Incident window end (default fired_at + 15 min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Instant>,
    /// Baseline start (default start − 60 min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_start: Option<Instant>,
    /// Baseline end (default start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_end: Option<Instant>,
}

/// `[[entity]]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EntitySpec {
    /// Entity id.
    pub id: String,
    /// Entities it calls (storage, third parties, other services).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Gateways its traffic comes through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<String>,
    /// Whether its pods run a mesh proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<bool>,
    /// Configured container limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// Container limits as configured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// App container CPU limit, cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_cpu: Option<f64>,
    /// App container memory limit, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_mem_bytes: Option<f64>,
    /// Sidecar CPU limit, cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar_cpu: Option<f64>,
    /// Sidecar memory limit, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar_mem_bytes: Option<f64>,
}

/// An alias: either a vocabulary name, or a table with the unit the exported values are in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum AliasSpec {
    /// `"http_server_duration_p99" = "latency_p99_ms"`.
    Name(String),
    /// `"http_p99_seconds" = { metric = "latency_p99_ms", unit = "s" }`.
    WithUnit {
        /// The vocabulary name.
        metric: String,
        /// The unit of the exported values, converted to the vocabulary's.
        unit: String,
    },
}

impl AliasSpec {
    /// The vocabulary name this alias maps to.
    #[must_use]
    pub fn metric(&self) -> &str {
        match self {
            AliasSpec::Name(m) | AliasSpec::WithUnit { metric: m, .. } => m,
        }
    }
}

/// `[expected]`: `kind = "none"` expects `root_cause: null`; `kind = "any"` compares the
/// culprit only (labels of real incidents name a culprit, not a kind).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Root-cause kind, or `none`.
    pub kind: String,
    /// The culprit (ignored for `none`).
    #[serde(default)]
    pub culprit: String,
}

/// The resolved windows, epoch ms: baseline `[baseline_start, baseline_end)`, incident `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Baseline start (inclusive).
    pub baseline_start: i64,
    /// Baseline end (exclusive); at or before `start`.
    pub baseline_end: i64,
    /// Incident start.
    pub start: i64,
    /// Incident end.
    pub end: i64,
    /// Alert time.
    pub fired_at: i64,
}

/// A metric alias resolved to its vocabulary name and unit factor.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedAlias {
    /// Vocabulary name.
    pub metric: String,
    /// Multiply exported values by this.
    pub factor: f64,
}

impl IncidentSpec {
    /// Parses incident.toml text.
    ///
    /// # Errors
    /// A message naming the key, where it is, and what was expected.
    pub fn parse(text: &str) -> Result<IncidentSpec, String> {
        let spec: IncidentSpec = toml::from_str(text).map_err(|e| {
            e.to_string()
                .trim_end()
                .replace('\n', " ")
                .replace("  ", " ")
        })?;
        spec.validate()?;
        Ok(spec)
    }

    fn validate(&self) -> Result<(), String> {
        if self.alert.entity.trim().is_empty() {
            return Err("alert.entity is empty (expected an entity id such as `live-api`)".into());
        }
        if let Some(e) = &self.expected {
            if e.kind != "none" && e.kind != "any" && super::Kind::parse(&e.kind).is_none() {
                let kinds: Vec<&str> = super::Kind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!(
                    "expected.kind `{}` is not a root-cause kind (expected `none`, `any` or one of: {})",
                    e.kind,
                    kinds.join(", ")
                ));
            }
            // `any`: real collections label a culprit, not a kind; the culprit is then required.
            if e.kind == "any" && e.culprit.trim().is_empty() {
                return Err(
                    "expected.kind `any` needs a culprit (it compares the culprit only)".into(),
                );
            }
        }
        self.aliases()?;
        self.windows()?;
        Ok(())
    }

    /// The aliases, checked against the vocabulary and resolved to unit factors.
    ///
    /// # Errors
    /// An alias onto a name outside the vocabulary, or an unknown unit.
    pub fn aliases(&self) -> Result<BTreeMap<String, ResolvedAlias>, String> {
        let mut out = BTreeMap::new();
        for (from, alias) in &self.metric_aliases {
            let metric = alias.metric();
            if vocab::dimension(metric).is_none() {
                return Err(format!(
                    "metric_aliases.\"{from}\" maps to `{metric}`, which is not a vocabulary metric"
                ));
            }
            let factor = match alias {
                AliasSpec::Name(_) => 1.0,
                AliasSpec::WithUnit { unit, .. } => vocab::unit_factor(metric, unit)
                    .map_err(|e| format!("metric_aliases.\"{from}\": {e}"))?,
            };
            out.insert(
                from.clone(),
                ResolvedAlias {
                    metric: metric.to_string(),
                    factor,
                },
            );
        }
        Ok(out)
    }

    /// The windows with the spec's defaults applied.
    ///
    /// # Errors
    /// Windows that are empty or out of order.
    pub fn windows(&self) -> Result<Windows, String> {
        let w = self.window.clone().unwrap_or_default();
        let fired = self.alert.fired_at.0;
        let start = w.start.map_or(fired - 15 * MINUTE_MS, |i| i.0);
        let end = w.end.map_or(fired + 15 * MINUTE_MS, |i| i.0);
        let baseline_start = w.baseline_start.map_or(start - 60 * MINUTE_MS, |i| i.0);
        let baseline_end = w.baseline_end.map_or(start, |i| i.0);
        if end <= start {
            return Err(
                "window.end must be after window.start (the incident window is empty)".into(),
            );
        }
        if baseline_end <= baseline_start {
            return Err(
                "window.baseline_end must be after window.baseline_start (the baseline is empty)"
                    .into(),
            );
        }
        if baseline_end > start {
            return Err("window.baseline_end must not be after window.start (the baseline overlaps the incident)".into());
        }
        Ok(Windows {
            baseline_start,
            baseline_end,
            start,
            end,
            fired_at: fired,
        })
    }

    /// The topology entry for an entity id.
    #[must_use]
    pub fn entity(&self, id: &str) -> Option<&EntitySpec> {
        self.entities.iter().find(|e| e.id == id)
    }

    /// Serialises to TOML in the spec's layout.
    ///
    /// # Errors
    /// Only if a value cannot be represented in TOML.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
id = "live-rt-jitter"
[alert]
entity = "live-api"
metric = "latency_p99_ms"
fired_at = 2024-05-01T14:02:00Z

[[entity]]
id = "live-api"
depends_on = ["redis:live-cache"]
sidecar = true
resources = { app_cpu = 4.0, sidecar_cpu = 2.0 }

[metric_aliases]
"http_p99" = "latency_p99_ms"
"http_p99_seconds" = { metric = "latency_p99_ms", unit = "s" }
"#;

    #[test]
    fn defaults_fill_the_windows() {
        let s = IncidentSpec::parse(SPEC).unwrap();
        let w = s.windows().unwrap();
        assert_eq!(w.start, w.fired_at - 15 * MINUTE_MS);
        assert_eq!(w.end, w.fired_at + 15 * MINUTE_MS);
        assert_eq!(w.baseline_start, w.start - 60 * MINUTE_MS);
        assert_eq!(s.aliases().unwrap()["http_p99_seconds"].factor, 1000.0);
    }

    #[test]
    fn round_trips_through_toml() {
        let s = IncidentSpec::parse(SPEC).unwrap();
        let again = IncidentSpec::parse(&s.to_toml().unwrap()).unwrap();
        assert_eq!(s, again);
        assert!(
            s.to_toml()
                .unwrap()
                .contains("fired_at = 2024-05-01T14:02:00Z")
        );
    }

    #[test]
    fn typos_and_bad_values_are_named() {
        let e = IncidentSpec::parse("[alret]\nentity='x'").unwrap_err();
        assert!(e.contains("alret"), "{e}");
        let bad = SPEC.replace(
            "\"latency_p99_ms\", unit = \"s\"",
            "\"latency_p99_ms\", unit = \"parsecs\"",
        );
        let e = IncidentSpec::parse(&bad).unwrap_err();
        assert!(e.contains("parsecs"), "{e}");
        let e = IncidentSpec::parse(&SPEC.replace("2024-05-01T14:02:00Z", "\"soon\"")).unwrap_err();
        assert!(e.contains("soon"), "{e}");
    }

    #[test]
    fn expected_any_needs_a_culprit() {
        let any = format!("{SPEC}\n[expected]\nkind = \"any\"\nculprit = \"live-api\"\n");
        assert_eq!(
            IncidentSpec::parse(&any).unwrap().expected.map(|e| e.kind),
            Some("any".into())
        );
        let e = IncidentSpec::parse(&format!("{SPEC}\n[expected]\nkind = \"any\"\n")).unwrap_err();
        assert!(e.contains("needs a culprit"), "{e}");
    }
}

//! Export profiles: TOML files mapping PromQL onto archive series, events and topology.
//! `kube-prometheus` is built in (docs/export.md prints it in full); users copy and edit it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The built-in profile's text.
pub const KUBE_PROMETHEUS: &str = include_str!("kube-prometheus.toml");

/// A parsed profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name (written into incident.toml's description).
    pub name: String,
    /// A raw series whose sample spacing gives the scrape interval.
    pub scrape_probe: String,
    /// Labels naming an alert's entity, first set wins (`--incidents`).
    #[serde(default)]
    pub alert_entity_labels: Vec<String>,
    /// The archive metric of an alert whose name is not in `alert_metrics`.
    #[serde(default = "default_metric")]
    pub default_alert_metric: String,
    /// alertname → archive metric.
    #[serde(default)]
    pub alert_metrics: BTreeMap<String, String>,
    /// Topology queries.
    pub topology: Topology,
    /// Metric series.
    #[serde(default, rename = "series")]
    pub series: Vec<SeriesRule>,
    /// Event rules.
    #[serde(default, rename = "event")]
    pub events: Vec<EventRule>,
}

fn default_metric() -> String {
    "latency_p99_ms".into()
}

/// The profile's `[topology]` table: the queries that tell which pod runs where and which
/// services sit behind each gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Series with `namespace`, `pod` and `workload` labels: run once, and `{workload}` of a
    /// series without that label is its pod's (joined in funnel, not inside every query).
    /// `$pod_workload` in a query still expands to it, for profiles that join in PromQL.
    pub pod_workload: String,
    /// Series with `pod` and `node` labels.
    pub pod_node: String,
    /// Series naming a gateway and a service behind it.
    #[serde(default)]
    pub entry: Option<String>,
    /// Template of the gateway's entity id.
    #[serde(default)]
    pub entry_gateway: String,
    /// Template of the service's entity id.
    #[serde(default)]
    pub entry_service: String,
}

/// `[[series]]`: one PromQL query whose result series become archive series.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesRule {
    /// Archive metric name.
    pub metric: String,
    /// The collector, written into the `source` column.
    pub source: String,
    /// PromQL with placeholders.
    pub query: String,
    /// Entity template.
    pub entity: String,
    /// Pod template (absent: entity-level rows).
    #[serde(default)]
    pub pod: Option<String>,
    /// Container (`app`, `sidecar`).
    #[serde(default)]
    pub container: Option<String>,
    /// Target template for dependency series.
    #[serde(default)]
    pub target: Option<String>,
    /// Multiplier into the archive's unit (seconds → ms: 1000).
    #[serde(default)]
    pub scale: Option<f64>,
    /// With `pod`: also write the entity's series, the sum of its pods' series at each time
    /// (one query instead of a second one summed by entity).
    #[serde(default)]
    pub entity_sum: bool,
}

/// When an event rule emits a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum On {
    /// The value rises (a counter incremented, or a series appeared with a positive value).
    Increase,
    /// The value changes.
    Change,
    /// `label` takes a value the entity had not had.
    NewLabel,
}

/// One `[[event]]` table of a profile: a query whose label changes become archive events.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRule {
    /// Event kind (`restart`, `deploy`, `scale`, `failover`, …).
    pub kind: String,
    /// When to emit.
    pub on: On,
    /// For `new-label`: the label whose new values are events.
    #[serde(default)]
    pub label: Option<String>,
    /// Entity template.
    pub entity: String,
    /// Detail template; `{old}` and `{new}` as well as labels.
    #[serde(default)]
    pub detail: Option<String>,
    /// PromQL with placeholders.
    pub query: String,
}

impl Profile {
    /// `kube-prometheus` or a path to a TOML file.
    ///
    /// # Errors
    /// The file cannot be read or parsed, or a rule is inconsistent; the message names it.
    pub fn load(name: &str) -> Result<Profile, String> {
        let (text, origin) = if name == "kube-prometheus" {
            (
                KUBE_PROMETHEUS.to_string(),
                "built-in profile kube-prometheus".to_string(),
            )
        } else {
            let p = Path::new(name);
            let t = std::fs::read_to_string(p).map_err(|e| {
                format!("profile {name}: {e} (expected `kube-prometheus` or a TOML file)")
            })?;
            (t, format!("profile {name}"))
        };
        let p: Profile = toml::from_str(&text).map_err(|e| format!("{origin}: {e}"))?;
        if let Some(s) = p.series.iter().find(|s| s.entity_sum && s.pod.is_none()) {
            return Err(format!(
                "{origin}: series `{}` with entity_sum = true needs `pod`",
                s.metric
            ));
        }
        for e in &p.events {
            if e.on == On::NewLabel && e.label.is_none() {
                return Err(format!(
                    "{origin}: event `{}` with on = \"new-label\" needs `label`",
                    e.kind
                ));
            }
        }
        Ok(p)
    }
}

/// What the placeholders of a query stand for.
#[derive(Debug, Clone)]
pub struct Vars {
    /// `$namespace`: a regex.
    pub namespace: String,
    /// `$window` in ms: the `rate()` range, the larger of the step and four scrape intervals,
    /// so every window holds several samples.
    pub window_ms: i64,
    /// `$stale` in ms: one and a half scrape intervals; a series whose last sample is older
    /// counts as gone.
    pub stale_ms: i64,
    /// `$pod_workload`: the topology query, already expanded.
    pub pod_workload: String,
}

/// Expands `@rate(…)`, `@fresh(…)` and the `$` placeholders.
///
/// # Errors
/// An unbalanced `@rate(` or `@fresh(`.
pub fn expand(query: &str, v: &Vars) -> Result<String, String> {
    let q = expand_macros(query.trim())?;
    Ok(q.replace("$pod_workload", &v.pod_workload)
        .replace("$namespace", &v.namespace)
        .replace("$window", &format!("{}ms", v.window_ms))
        .replace("$stale", &format!("{}ms", v.stale_ms)))
}

fn expand_macros(q: &str) -> Result<String, String> {
    let mut out = String::with_capacity(q.len() * 2);
    let mut rest = q;
    loop {
        let at = [("@rate(", true), ("@fresh(", false)]
            .iter()
            .filter_map(|(m, r)| rest.find(m).map(|i| (i, *m, *r)))
            .min_by_key(|x| x.0);
        let Some((i, m, is_rate)) = at else {
            out.push_str(rest);
            return Ok(out);
        };
        out.push_str(&rest[..i]);
        let body_start = i + m.len();
        let end = closing_paren(&rest[body_start..])
            .ok_or_else(|| format!("unbalanced `{m}` in query `{q}`"))?;
        let sel = expand_macros(&rest[body_start..body_start + end])?;
        // `last_over_time(SEL[$stale])` keeps a series only while its last sample is fresh.
        // It replaced `time() - timestamp(SEL) < $stale`, whose arithmetic on every raw series
        // at every step made the histogram queries 8× slower on Prometheus 2.42.
        let fresh = format!("last_over_time({sel}[$stale])");
        if is_rate {
            out.push_str(&format!("(rate({sel}[$window]) and {fresh})"));
        } else {
            out.push_str(&fresh);
        }
        rest = &rest[body_start + end + 1..];
    }
}

/// Index of the `)` closing an already opened `(`, skipping quoted strings.
fn closing_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(qc) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == qc {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Fills `{label}` / `{a|b}` from `labels`; `None` when a named label is absent or empty.
#[must_use]
pub fn fill(template: &str, labels: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}')? + i;
        let names = &rest[i + 1..end];
        let v = names
            .split('|')
            .find_map(|n| labels(n.trim()).filter(|v| !v.is_empty()))?;
        out.push_str(&v);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            namespace: ".*".into(),
            window_ms: 60_000,
            stale_ms: 22_500,
            pod_workload: "PW".into(),
        }
    }

    #[test]
    fn the_built_in_profile_parses_and_expands() {
        let p = Profile::load("kube-prometheus").unwrap();
        assert!(p.series.len() > 30);
        for s in &p.series {
            let q = expand(&s.query, &vars()).unwrap();
            assert!(
                !q.contains('@') && !q.contains("$w") && !q.contains("$n"),
                "{q}"
            );
        }
    }

    #[test]
    fn rate_and_fresh_keep_only_fresh_samples() {
        let q = expand(r#"sum(@rate(x{a=~"(b)"})) + @fresh(y)"#, &vars()).unwrap();
        assert_eq!(
            q,
            r#"sum((rate(x{a=~"(b)"}[60000ms]) and last_over_time(x{a=~"(b)"}[22500ms]))) + last_over_time(y[22500ms])"#
        );
        assert!(expand("@rate(x", &vars()).is_err());
    }

    #[test]
    fn templates_take_the_first_label_set() {
        let l = |n: &str| match n {
            "pod_name" => Some("p-1".to_string()),
            "pod" => Some(String::new()),
            _ => None,
        };
        assert_eq!(fill("{pod|pod_name}", &l).as_deref(), Some("p-1"));
        assert_eq!(fill("http:{svc}", &l), None);
        assert_eq!(fill("plain", &l).as_deref(), Some("plain"));
    }
}

//! Query results → archive rows: metric rows from `[[series]]`, event rows from `[[event]]`,
//! and the topology (`depends_on`, `entry`, `sidecar`, `resources`) read off the rows.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{EntityKind, EntitySpec, EventRow, MetricRow, Resources, SIDECAR};

use super::client::Series;
use super::profile::{EventRule, On, SeriesRule, fill};

fn label_fn(s: &Series) -> impl Fn(&str) -> Option<String> + '_ {
    |n: &str| s.labels.get(n).cloned()
}

/// Rows of one rule's result; series whose templates cannot be filled are counted in `skipped`.
pub fn metric_rows(
    rule: &SeriesRule,
    result: &[Series],
    pod_node: &BTreeMap<String, String>,
    skipped: &mut usize,
) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    let scale = rule.scale.unwrap_or(1.0);
    for s in result {
        let l = label_fn(s);
        let Some(entity) = fill(&rule.entity, &l) else {
            *skipped += 1;
            continue;
        };
        let pod = match &rule.pod {
            Some(t) => match fill(t, &l) {
                Some(p) => Some(p),
                None => {
                    *skipped += 1;
                    continue;
                }
            },
            None => None,
        };
        let target = match &rule.target {
            Some(t) => match fill(t, &l) {
                Some(p) => Some(p),
                None => {
                    *skipped += 1;
                    continue;
                }
            },
            None => None,
        };
        let node = pod.as_ref().and_then(|p| pod_node.get(p).cloned());
        for &(ts, v) in &s.points {
            rows.push(MetricRow {
                ts_ms: ts,
                entity: entity.clone(),
                metric: rule.metric.clone(),
                value: v * scale,
                pod: pod.clone(),
                node: node.clone(),
                container: rule.container.clone(),
                target: target.clone(),
                source: Some(rule.source.clone()),
            });
        }
    }
    rows
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn event(rule: &EventRule, s: &Series, ts: i64, old: &str, new: &str) -> Option<EventRow> {
    let l = |n: &str| match n {
        "old" => Some(old.to_string()),
        "new" => Some(new.to_string()),
        _ => s.labels.get(n).cloned(),
    };
    Some(EventRow {
        ts_ms: ts,
        entity: fill(&rule.entity, &l)?,
        kind: rule.kind.clone(),
        detail: rule.detail.as_ref().and_then(|d| fill(d, &l)),
    })
}

/// Event rows of one rule's result; `first_ts` is the first evaluation time of the range (a
/// series present from it has no "appearance" event).
pub fn event_rows(rule: &EventRule, result: &[Series], first_ts: i64) -> Vec<EventRow> {
    let mut out = Vec::new();
    match rule.on {
        On::Increase | On::Change => {
            for s in result {
                let mut prev: Option<f64> = None;
                for &(ts, v) in &s.points {
                    let hit = match (rule.on, prev) {
                        (On::Increase, Some(p)) => v > p,
                        (On::Increase, None) => ts > first_ts && v > 0.0,
                        (_, Some(p)) => v != p,
                        (_, None) => false,
                    };
                    if hit {
                        let old = prev.map_or_else(|| "0".into(), num);
                        out.extend(event(rule, s, ts, &old, &num(v)));
                    }
                    prev = Some(v);
                }
            }
        }
        On::NewLabel => new_label_events(rule, result, first_ts, &mut out),
    }
    out
}

fn new_label_events(rule: &EventRule, result: &[Series], first_ts: i64, out: &mut Vec<EventRow>) {
    let label = rule.label.as_deref().unwrap_or_default();
    // entity → (first time a value is seen, value, its series)
    let mut seen: BTreeMap<String, Vec<(i64, String, &Series)>> = BTreeMap::new();
    for s in result {
        let (Some(first), Some(value)) = (s.points.first(), s.labels.get(label)) else {
            continue;
        };
        let Some(entity) = fill(&rule.entity, &label_fn(s)) else {
            continue;
        };
        seen.entry(entity)
            .or_default()
            .push((first.0, value.clone(), s));
    }
    for (_, mut values) in seen {
        values.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for w in values.windows(2) {
            let (ts, new, s) = &w[1];
            if *ts > first_ts {
                out.extend(event(rule, s, *ts, &w[0].1, new));
            }
        }
    }
}

/// Topology read off the rows: dependencies that carried traffic, gateways, sidecars, limits.
pub fn topology(rows: &[MetricRow], entry: &BTreeMap<String, BTreeSet<String>>) -> Vec<EntitySpec> {
    let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut sidecar: BTreeSet<&str> = BTreeSet::new();
    let mut limits: BTreeMap<(&str, &str, bool), f64> = BTreeMap::new();
    let mut entities: BTreeSet<&str> = BTreeSet::new();
    for r in rows {
        entities.insert(&r.entity);
        if let Some(t) = &r.target {
            if r.value.is_finite() {
                deps.entry(&r.entity).or_default().insert(t);
            }
        }
        let is_sidecar = r.container.as_deref() == Some(SIDECAR);
        if is_sidecar {
            sidecar.insert(&r.entity);
        }
        if matches!(r.metric.as_str(), "cpu_limit_cores" | "mem_limit_bytes") && r.value > 0.0 {
            let e = limits
                .entry((&r.entity, &r.metric, is_sidecar))
                .or_insert(0.0);
            *e = e.max(r.value);
        }
    }
    for t in deps.values().flatten() {
        entities.insert(t);
    }
    for g in entry.keys() {
        entities.insert(g);
    }
    let mut out = Vec::new();
    for id in entities {
        let mut spec = EntitySpec {
            id: id.to_string(),
            ..EntitySpec::default()
        };
        if EntityKind::of(id) == EntityKind::Service {
            spec.depends_on = deps
                .get(id)
                .map(|d| d.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            spec.entry = entry
                .iter()
                .filter(|(_, svcs)| svcs.contains(id))
                .map(|(g, _)| g.clone())
                .collect();
            spec.sidecar = sidecar.contains(id).then_some(true);
            let lim = |m: &str, sc: bool| limits.get(&(id, m, sc)).copied();
            let res = Resources {
                app_cpu: lim("cpu_limit_cores", false),
                app_mem_bytes: lim("mem_limit_bytes", false),
                sidecar_cpu: lim("cpu_limit_cores", true),
                sidecar_mem_bytes: lim("mem_limit_bytes", true),
            };
            if res != Resources::default() {
                spec.resources = Some(res);
            }
        }
        out.push(spec);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)], points: &[(i64, f64)]) -> Series {
        Series {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points: points.to_vec(),
        }
    }

    fn rule(on: On, label: Option<&str>) -> EventRule {
        EventRule {
            kind: "deploy".into(),
            on,
            label: label.map(Into::into),
            entity: "{workload}".into(),
            detail: Some("{old} -> {new}".into()),
            query: String::new(),
        }
    }

    #[test]
    fn a_new_replicaset_is_a_rollout_but_the_first_one_is_not() {
        let r = vec![
            series(
                &[("workload", "api"), ("replicaset", "api-1")],
                &[(0, 1.0), (60, 1.0)],
            ),
            series(
                &[("workload", "api"), ("replicaset", "api-2")],
                &[(60, 1.0), (120, 1.0)],
            ),
        ];
        let ev = event_rows(&rule(On::NewLabel, Some("replicaset")), &r, 0);
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (ev[0].ts_ms, ev[0].detail.as_deref()),
            (60, Some("api-1 -> api-2"))
        );
    }

    #[test]
    fn counters_rising_and_values_changing_are_events() {
        let s = [series(
            &[("workload", "api")],
            &[(0, 2.0), (15, 2.0), (30, 3.0)],
        )];
        let inc = event_rows(&rule(On::Increase, None), &s, 0);
        assert_eq!(inc.iter().map(|e| e.ts_ms).collect::<Vec<_>>(), [30]);
        let ch = event_rows(&rule(On::Change, None), &s, 0);
        assert_eq!(ch[0].detail.as_deref(), Some("2 -> 3"));
    }
}

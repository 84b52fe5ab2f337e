//! Query results → archive rows: metric rows from `[[series]]`, event rows from `[[event]]`,
//! and the topology (`depends_on`, `entry`, `sidecar`, `resources`) read off the rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::archive::stream::SeriesRef;
use crate::model::{EntityKind, EntitySpec, EventRow, Resources, SIDECAR};

use super::client::Series;
use super::profile::{self, EventRule, On, Profile, SeriesRule, fill};
use super::store::{RowKey, Store};

/// Pod facts resolved once per export and joined here, instead of a PromQL join inside every
/// query: the node of a pod and the workload owning it.
#[derive(Debug, Default)]
pub struct Joins {
    /// pod → node.
    pub pod_node: BTreeMap<String, String>,
    /// (namespace, pod) → workload.
    pub workload: HashMap<(String, String), String>,
    /// pod → workload, for series without a `namespace` label.
    pub workload_by_pod: HashMap<String, String>,
}

impl Joins {
    /// Records the workload of a pod.
    pub fn add_workload(&mut self, namespace: Option<&str>, pod: &str, workload: &str) {
        let ns = namespace.unwrap_or_default().to_string();
        self.workload
            .insert((ns, pod.to_string()), workload.to_string());
        self.workload_by_pod
            .entry(pod.to_string())
            .or_insert_with(|| workload.to_string());
    }

    /// `{workload}` of a series without that label: the owner of its `namespace` and `pod`.
    fn workload_of(&self, s: &Series) -> Option<String> {
        let pod = s.labels.get("pod")?;
        match s.labels.get("namespace") {
            Some(ns) => self.workload.get(&(ns.clone(), pod.clone())).cloned(),
            None => self.workload_by_pod.get(pod).cloned(),
        }
    }
}

/// The joins and entry points from the topology answers (pod_node, pod_workload[, entry]);
/// and how many entry series named no gateway or service the templates know.
pub fn resolve(
    p: &Profile,
    answers: Vec<Vec<Series>>,
) -> (Joins, BTreeMap<String, BTreeSet<String>>, usize) {
    let mut it = answers.into_iter();
    let mut joins = Joins::default();
    for s in it.next().unwrap_or_default() {
        if let (Some(pod), Some(node)) = (s.labels.get("pod"), s.labels.get("node")) {
            joins.pod_node.insert(pod.clone(), node.clone());
        }
    }
    for s in it.next().unwrap_or_default() {
        let l = &s.labels;
        if let (Some(pod), Some(wl)) = (l.get("pod"), l.get("workload")) {
            joins.add_workload(l.get("namespace").map(String::as_str), pod, wl);
        }
    }
    let mut entry: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unmapped = 0;
    let topo = &p.topology;
    for s in it.next().unwrap_or_default() {
        let l = |n: &str| s.labels.get(n).cloned();
        if let (Some(g), Some(svc)) = (
            profile::fill(&topo.entry_gateway, &l),
            profile::fill(&topo.entry_service, &l),
        ) {
            entry.entry(g).or_default().insert(svc);
        } else {
            unmapped += 1;
        }
    }
    (joins, entry, unmapped)
}

fn label_fn<'a>(s: &'a Series, joins: &'a Joins) -> impl Fn(&str) -> Option<String> + 'a {
    move |n: &str| match s.labels.get(n) {
        Some(v) => Some(v.clone()),
        None if n == "workload" => joins.workload_of(s),
        None => None,
    }
}

fn fill_opt(t: Option<&String>, l: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, ()> {
    match t {
        Some(t) => fill(t, l).map(Some).ok_or(()),
        None => Ok(None),
    }
}

/// Adds one rule's result to `store`; series whose templates cannot be filled are counted in
/// `skipped`. With `entity_sum`, the entity's series is the sum of its pods' at each time.
pub fn metric_rows(
    rule: &SeriesRule,
    result: &[Series],
    joins: &Joins,
    store: &mut Store,
    skipped: &mut usize,
) {
    let scale = rule.scale.unwrap_or(1.0);
    let mut sums: BTreeMap<(String, Option<String>), BTreeMap<i64, f64>> = BTreeMap::new();
    for s in result {
        let l = label_fn(s, joins);
        let (Some(entity), Ok(pod), Ok(target)) = (
            fill(&rule.entity, &l),
            fill_opt(rule.pod.as_ref(), &l),
            fill_opt(rule.target.as_ref(), &l),
        ) else {
            *skipped += 1;
            continue;
        };
        let node = pod.as_ref().and_then(|p| joins.pod_node.get(p));
        let key = RowKey {
            entity: &entity,
            metric: &rule.metric,
            pod: pod.as_deref(),
            container: rule.container.as_deref(),
            target: target.as_deref(),
            source: Some(&rule.source),
        };
        let points = s.points.iter().map(|&(t, v)| (t, v * scale));
        store.add(key, node.map(String::as_str), points.clone());
        if rule.entity_sum && pod.is_some() {
            let sum = sums.entry((entity.clone(), target.clone())).or_default();
            for (t, v) in points {
                *sum.entry(t).or_insert(0.0) += v;
            }
        }
    }
    for ((entity, target), points) in sums {
        let key = RowKey {
            entity: &entity,
            metric: &rule.metric,
            pod: None,
            container: rule.container.as_deref(),
            target: target.as_deref(),
            source: Some(&rule.source),
        };
        store.add(key, None, points);
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn event(
    rule: &EventRule,
    (s, joins): (&Series, &Joins),
    ts: i64,
    old: &str,
    new: &str,
) -> Option<EventRow> {
    let labels = label_fn(s, joins);
    let l = |n: &str| match n {
        "old" => Some(old.to_string()),
        "new" => Some(new.to_string()),
        _ => labels(n),
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
pub fn event_rows(
    rule: &EventRule,
    result: &[Series],
    first_ts: i64,
    joins: &Joins,
) -> Vec<EventRow> {
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
                        out.extend(event(rule, (s, joins), ts, &old, &num(v)));
                    }
                    prev = Some(v);
                }
            }
        }
        On::NewLabel => new_label_events(rule, result, first_ts, joins, &mut out),
    }
    out
}

fn new_label_events(
    rule: &EventRule,
    result: &[Series],
    first_ts: i64,
    joins: &Joins,
    out: &mut Vec<EventRow>,
) {
    let label = rule.label.as_deref().unwrap_or_default();
    // entity → (first time a value is seen, value, its series)
    let mut seen: BTreeMap<String, Vec<(i64, String, &Series)>> = BTreeMap::new();
    for s in result {
        let (Some(first), Some(value)) = (s.points.first(), s.labels.get(label)) else {
            continue;
        };
        let Some(entity) = fill(&rule.entity, &label_fn(s, joins)) else {
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
                out.extend(event(rule, (s, joins), *ts, &w[0].1, new));
            }
        }
    }
}

/// Topology read off the series: dependencies that carried traffic, gateways, sidecars, limits.
pub fn topology(
    series: &[SeriesRef<'_>],
    entry: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<EntitySpec> {
    let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut sidecar: BTreeSet<&str> = BTreeSet::new();
    let mut limits: BTreeMap<(&str, &str, bool), f64> = BTreeMap::new();
    let mut entities: BTreeSet<&str> = BTreeSet::new();
    for r in series.iter().filter(|r| !r.points.is_empty()) {
        entities.insert(r.entity);
        if let Some(t) = r.target {
            if r.points.iter().any(|p| p.1.is_finite()) {
                deps.entry(r.entity).or_default().insert(t);
            }
        }
        let is_sidecar = r.container == Some(SIDECAR);
        if is_sidecar {
            sidecar.insert(r.entity);
        }
        if matches!(r.metric, "cpu_limit_cores" | "mem_limit_bytes") {
            for &(_, v) in r.points.iter().filter(|p| p.1 > 0.0) {
                let e = limits
                    .entry((r.entity, r.metric, is_sidecar))
                    .or_insert(0.0);
                *e = e.max(v);
            }
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
        let ev = event_rows(
            &rule(On::NewLabel, Some("replicaset")),
            &r,
            0,
            &Joins::default(),
        );
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
        let inc = event_rows(&rule(On::Increase, None), &s, 0, &Joins::default());
        assert_eq!(inc.iter().map(|e| e.ts_ms).collect::<Vec<_>>(), [30]);
        let ch = event_rows(&rule(On::Change, None), &s, 0, &Joins::default());
        assert_eq!(ch[0].detail.as_deref(), Some("2 -> 3"));
    }
}

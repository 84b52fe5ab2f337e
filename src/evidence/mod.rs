//! Evidence: everything a rule may read, computed once per incident. Rules never touch the
//! archive or polars; they ask this context for series (one trusted source per series), scores,
//! scope, topology and events, which keeps them pure and testable on tiny in-memory incidents.

pub mod load;
mod network;
mod placement;
pub mod resources;
pub mod scope;
pub mod sources;
#[cfg(test)]
pub(crate) mod testing;
mod topology;

use std::collections::BTreeMap;

use crate::align::{Aligned, Series};
use crate::detect::{self, Score};
use crate::logs::LogEvidence;
use crate::model::{EventRow, Finding, IncidentSpec, SIDECAR, SeriesKey, Windows};
pub use scope::{Health, Scope};
pub use topology::Topology;

/// A series as a rule sees it: key, values on the grid, and its score.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Identity (with the trusted source).
    pub key: &'a SeriesKey,
    /// Values on the grid (NaN = gap).
    pub values: &'a [f64],
    /// Anomaly score.
    pub score: &'a Score,
}

/// The facts of one incident.
#[derive(Debug)]
pub struct Context {
    /// Incident id.
    pub id: String,
    /// incident.toml.
    pub spec: IncidentSpec,
    /// Baseline and incident windows, resolved to epoch ms.
    pub windows: Windows,
    /// Every series on the grid (all sources).
    pub aligned: Aligned,
    /// Scores, indexed like `aligned.series`.
    pub scores: Vec<Score>,
    /// Who calls what.
    pub topo: Topology,
    /// Events, sorted by time.
    pub events: Vec<EventRow>,
    /// Whether the archive exported events at all (no file means deploys cannot be ruled out).
    pub has_events: bool,
    /// Degraded and healthy entities and pods.
    pub scope: Scope,
    /// Data-quality findings (sources that disagree).
    pub quality: Vec<Finding>,
    /// Template statistics of the logs.
    pub logs: LogEvidence,
    trusted: BTreeMap<SeriesKey, usize>,
}

fn logical(k: &SeriesKey) -> SeriesKey {
    SeriesKey {
        source: None,
        ..k.clone()
    }
}

impl Context {
    /// Builds the context: scores every series, resolves sources, computes scope. `events` is
    /// `None` when the archive has no events folder (so no event can be expected in it).
    #[must_use]
    pub fn build(
        id: String,
        spec: IncidentSpec,
        windows: Windows,
        aligned: Aligned,
        pod_nodes: &BTreeMap<String, String>,
        events: Option<Vec<EventRow>>,
        logs: LogEvidence,
    ) -> Context {
        let has_events = events.is_some();
        let events = events.unwrap_or_default();
        let scores = detect::score_all(&aligned);
        let topo = Topology::build(&spec, &aligned.series, pod_nodes);
        // Provisional symptoms over every source, to judge which source of a resource series
        // agrees with them; the latency series themselves rarely come from two sources.
        let symptomatic = |entity: &str| {
            aligned.series.iter().zip(&scores).any(|(s, sc)| {
                s.key.entity == entity
                    && s.key.pod.is_none()
                    && s.key.target.is_none()
                    && crate::model::vocab::is_latency(&s.key.metric)
                    && sc.up(scope::LATENCY_RISE)
            })
        };
        let requests = |entity: &str| {
            aligned
                .series
                .iter()
                .find(|s| {
                    s.key.entity == entity
                        && s.key.metric == "requests_per_s"
                        && s.key.pod.is_none()
                        && s.key.target.is_none()
                })
                .map(|s| s.values.as_slice())
        };
        let choices = sources::resolve(&aligned.series, &scores, &symptomatic, &requests);
        let mut quality: Vec<Finding> = choices.iter().filter_map(|c| c.finding.clone()).collect();
        quality.sort();
        let trusted = choices.into_iter().map(|c| (c.key, c.trusted)).collect();
        let mut ctx = Context {
            id,
            spec,
            windows,
            aligned,
            scores,
            topo,
            events,
            has_events,
            scope: Scope::default(),
            quality,
            logs,
            trusted,
        };
        ctx.scope = ctx.compute_scope();
        ctx
    }

    fn view(&self, i: usize) -> View<'_> {
        View {
            key: &self.aligned.series[i].key,
            values: &self.aligned.series[i].values,
            score: &self.scores[i],
        }
    }

    /// The trusted series for a logical key (its `source` is ignored).
    #[must_use]
    pub fn get(&self, key: &SeriesKey) -> Option<View<'_>> {
        self.trusted.get(&logical(key)).map(|&i| self.view(i))
    }

    /// An entity-level app metric (no pod, no target).
    #[must_use]
    pub fn metric(&self, entity: &str, metric: &str) -> Option<View<'_>> {
        self.get(&SeriesKey::entity(entity, metric))
    }

    /// A client-side dependency metric of `entity` towards `target`.
    #[must_use]
    pub fn dep(&self, entity: &str, target: &str, metric: &str) -> Option<View<'_>> {
        self.get(&SeriesKey {
            target: Some(target.into()),
            ..SeriesKey::entity(entity, metric)
        })
    }

    /// A per-container metric of one pod.
    #[must_use]
    pub fn pod_metric(
        &self,
        entity: &str,
        pod: &str,
        container: &str,
        metric: &str,
    ) -> Option<View<'_>> {
        self.get(&SeriesKey {
            pod: Some(pod.into()),
            container: container.into(),
            ..SeriesKey::entity(entity, metric)
        })
    }

    /// Every trusted series matching a predicate on its logical key, in key order.
    pub fn find(&self, pred: impl Fn(&SeriesKey) -> bool) -> Vec<View<'_>> {
        self.trusted
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, &i)| self.view(i))
            .collect()
    }

    /// Every trusted series of one entity matching a predicate, in key order. Keys sort by
    /// entity first, so this reads one range of the index instead of scanning every series
    /// (per-entity and per-pod lookups would otherwise cost entities × series).
    pub fn find_entity(&self, entity: &str, pred: impl Fn(&SeriesKey) -> bool) -> Vec<View<'_>> {
        let from = SeriesKey {
            entity: entity.to_string(),
            metric: String::new(),
            pod: None,
            container: String::new(),
            target: None,
            source: None,
        };
        self.trusted
            .range(from..)
            .take_while(|(k, _)| k.entity == entity)
            .filter(|(k, _)| pred(k))
            .map(|(_, &i)| self.view(i))
            .collect()
    }

    /// A container's limit for `resource` (`cpu` or `mem`) in one pod, else the entity's
    /// configured limit from incident.toml.
    #[must_use]
    pub fn limit(
        &self,
        entity: &str,
        pod: Option<&str>,
        container: &str,
        resource: &str,
    ) -> Option<f64> {
        let metric = if resource == "cpu" {
            "cpu_limit_cores"
        } else {
            "mem_limit_bytes"
        };
        let from_data = pod
            .and_then(|p| self.pod_metric(entity, p, container, metric))
            .or_else(|| {
                self.get(&SeriesKey {
                    container: container.into(),
                    ..SeriesKey::entity(entity, metric)
                })
            })
            .and_then(|v| crate::stats::median(v.values))
            .filter(|l| *l > 0.0);
        from_data.or_else(|| {
            let r = self.spec.entity(entity)?.resources.as_ref()?;
            match (container == SIDECAR, resource == "cpu") {
                (false, true) => r.app_cpu,
                (false, false) => r.app_mem_bytes,
                (true, true) => r.sidecar_cpu,
                (true, false) => r.sidecar_mem_bytes,
            }
        })
    }

    /// Epoch ms of a grid bucket.
    #[must_use]
    pub fn time(&self, bucket: usize) -> i64 {
        self.aligned.grid.time(bucket)
    }

    /// The incident onset bucket (the alert bucket when nothing moved).
    #[must_use]
    pub fn onset(&self) -> usize {
        self.scope.onset.unwrap_or(self.aligned.alert)
    }

    /// The vocabulary name for a metric that may be an alias.
    #[must_use]
    pub fn aliased<'a>(&'a self, metric: &'a str) -> &'a str {
        self.spec
            .metric_aliases
            .get(metric)
            .map_or(metric, crate::model::AliasSpec::metric)
    }

    /// The alert's entity and metric, the metric under its vocabulary name.
    #[must_use]
    pub fn alert_key(&self) -> (&str, &str) {
        (
            self.spec.alert.entity.as_str(),
            self.aliased(&self.spec.alert.metric),
        )
    }

    /// Whether the alert saw a symptom: its own series moved the bad way (see
    /// [`crate::detect::worsened`]), or its entity is affected or has a symptom series that
    /// moved the bad way.
    #[must_use]
    pub fn alert_worsened(&self) -> bool {
        self.alert_series()
            .is_some_and(|v| crate::detect::worsened(&v.key.metric, v.score.direction))
            || self.scope.of(&self.spec.alert.entity).affected
            || self.symptom_worsened(&self.spec.alert.entity)
    }

    /// Whether any latency, error or availability series of `entity` moved the bad way, even
    /// below the bar for calling the entity affected: a mild slow-down is still one.
    #[must_use]
    pub fn symptom_worsened(&self, entity: &str) -> bool {
        self.find_entity(entity, |k| crate::detect::symptom_metric(&k.metric))
            .iter()
            .any(|v| crate::detect::worsened(&v.key.metric, v.score.direction))
    }

    /// The series of the alert itself.
    #[must_use]
    pub fn alert_series(&self) -> Option<View<'_>> {
        let (entity, metric) = self.alert_key();
        self.metric(entity, metric)
    }

    /// Events of an entity in `[from, to)`, epoch ms.
    pub fn events_of<'a>(
        &'a self,
        entity: &'a str,
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = &'a EventRow> + 'a {
        self.events
            .iter()
            .filter(move |e| e.entity == entity && e.ts_ms >= from && e.ts_ms < to)
    }

    /// All series of the grid, for charts.
    #[must_use]
    pub fn series(&self) -> &[Series] {
        &self.aligned.series
    }
}

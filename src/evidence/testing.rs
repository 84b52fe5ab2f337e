//! Builders for tiny in-memory incidents, so every rule is tested on its own evidence without
//! Parquet or polars. Grid: 40 one-minute buckets; baseline 0..20, incident 20..40, alert at 32.

use std::collections::BTreeMap;

use super::Context;
use crate::align::{Aligned, Grid, Series};
use crate::model::{
    Alert, EntitySpec, EventRow, IncidentSpec, Instant, Resources, SIDECAR, SeriesKey, Windows,
};

const MIN: i64 = 60_000;
/// Bucket where step changes start by default.
pub(crate) const ONSET: usize = 26;

pub(crate) fn k(entity: &str, metric: &str) -> SeriesKey {
    SeriesKey::entity(entity, metric)
}

pub(crate) fn kd(entity: &str, target: &str, metric: &str) -> SeriesKey {
    SeriesKey {
        target: Some(target.into()),
        ..k(entity, metric)
    }
}

pub(crate) fn kp(entity: &str, pod: &str, container: &str, metric: &str) -> SeriesKey {
    SeriesKey {
        pod: Some(pod.into()),
        container: container.into(),
        ..k(entity, metric)
    }
}

/// A small deterministic wobble (±2 %) so MAD is not zero.
fn wobble(i: usize) -> f64 {
    1.0 + 0.02 * (((i * 7) % 5) as f64 - 2.0) / 2.0
}

#[derive(Debug)]
pub(crate) struct Fixture {
    series: Vec<Series>,
    spec: IncidentSpec,
    pod_nodes: BTreeMap<String, String>,
    events: Vec<EventRow>,
    has_events: bool,
    logs: Vec<crate::model::LogRow>,
}

impl Fixture {
    pub(crate) fn new(alert_entity: &str) -> Fixture {
        let spec = IncidentSpec {
            id: Some("fixture".into()),
            title: None,
            description: None,
            alert: Alert {
                entity: alert_entity.into(),
                metric: "latency_p99_ms".into(),
                fired_at: Instant(32 * MIN),
            },
            window: None,
            metric_aliases: BTreeMap::new(),
            expected: None,
            entities: Vec::new(),
            postmortem: None,
        };
        Fixture {
            series: Vec::new(),
            spec,
            pod_nodes: BTreeMap::new(),
            events: Vec::new(),
            has_events: false,
            logs: Vec::new(),
        }
    }

    /// The alert fires on `metric` of the alerting entity instead of its p99 latency.
    pub(crate) fn alert_metric(mut self, metric: &str) -> Fixture {
        self.spec.alert.metric = metric.into();
        self
    }

    /// A series whose bucket `i` holds `value(i)`, with the fixture's wobble.
    pub(crate) fn shaped(mut self, key: SeriesKey, value: impl Fn(usize) -> f64) -> Fixture {
        let values = (0..40).map(|i| value(i) * wobble(i)).collect();
        self.series.retain(|s| s.key != key);
        self.series.push(Series { key, values });
        self
    }

    /// A series at `base` in the baseline that moves to `inc` from bucket `from` on.
    pub(crate) fn step_at(self, key: SeriesKey, base: f64, inc: f64, from: usize) -> Fixture {
        self.shaped(key, |i| if i >= from { inc } else { base })
    }

    pub(crate) fn step(self, key: SeriesKey, base: f64, inc: f64) -> Fixture {
        self.step_at(key, base, inc, ONSET)
    }

    /// A series at `base` with a short burst to `peak` over buckets `from..from + len`.
    pub(crate) fn burst(
        self,
        key: SeriesKey,
        base: f64,
        peak: f64,
        from: usize,
        len: usize,
    ) -> Fixture {
        self.shaped(key, |i| {
            if (from..from + len).contains(&i) {
                peak
            } else {
                base
            }
        })
    }

    pub(crate) fn flat(self, key: SeriesKey, v: f64) -> Fixture {
        self.step_at(key, v, v, ONSET)
    }

    /// A healthy service: flat latency, errors and requests.
    pub(crate) fn healthy_service(self, entity: &str) -> Fixture {
        self.flat(k(entity, "latency_p99_ms"), 100.0)
            .flat(k(entity, "errors_per_s"), 0.1)
            .flat(k(entity, "requests_per_s"), 50.0)
    }

    /// A degraded service: p99 latency ×5 from the onset.
    pub(crate) fn slow_service(self, entity: &str) -> Fixture {
        self.step(k(entity, "latency_p99_ms"), 100.0, 500.0)
            .flat(k(entity, "errors_per_s"), 0.1)
            .flat(k(entity, "requests_per_s"), 50.0)
    }

    pub(crate) fn place(mut self, pod: &str, node: &str) -> Fixture {
        self.pod_nodes.insert(pod.into(), node.into());
        self
    }

    fn entity_mut(&mut self, id: &str) -> &mut EntitySpec {
        if self.spec.entity(id).is_none() {
            self.spec.entities.push(EntitySpec {
                id: id.into(),
                ..EntitySpec::default()
            });
        }
        self.spec
            .entities
            .iter_mut()
            .find(|e| e.id == id)
            .expect("just inserted")
    }

    pub(crate) fn depends(mut self, entity: &str, deps: &[&str]) -> Fixture {
        self.entity_mut(entity)
            .depends_on
            .extend(deps.iter().map(|d| (*d).to_string()));
        self
    }

    pub(crate) fn entry(mut self, entity: &str, gateway: &str) -> Fixture {
        self.entity_mut(entity).entry.push(gateway.into());
        self
    }

    pub(crate) fn sidecar(mut self, entity: &str, app_cpu: f64, sidecar_cpu: f64) -> Fixture {
        let e = self.entity_mut(entity);
        e.sidecar = Some(true);
        e.resources = Some(Resources {
            app_cpu: Some(app_cpu),
            app_mem_bytes: Some(2_147_483_648.0),
            sidecar_cpu: Some(sidecar_cpu),
            sidecar_mem_bytes: Some(1_073_741_824.0),
        });
        self
    }

    pub(crate) fn event(mut self, bucket: i64, entity: &str, kind: &str, detail: &str) -> Fixture {
        self.has_events = true;
        self.events.push(EventRow {
            ts_ms: bucket * MIN,
            entity: entity.into(),
            kind: kind.into(),
            detail: Some(detail.into()),
        });
        self
    }

    /// Declares that the archive has an events file, even an empty one.
    pub(crate) fn events_exported(mut self) -> Fixture {
        self.has_events = true;
        self
    }

    /// `n` log lines of `entity` at `level`, one per minute from `from` (bucket).
    pub(crate) fn log(
        mut self,
        entity: &str,
        from: usize,
        n: usize,
        level: &str,
        message: &str,
    ) -> Fixture {
        for i in 0..n {
            let ts_ms = i64::try_from(from + i).unwrap_or(0) * MIN + 1000;
            self.logs.push(crate::model::LogRow {
                ts_ms,
                entity: entity.into(),
                message: message.replace("{i}", &i.to_string()),
                pod: None,
                node: None,
                level: Some(level.into()),
                template: None,
            });
        }
        self
    }

    pub(crate) fn build(mut self) -> Context {
        self.series.sort_by(|a, b| a.key.cmp(&b.key));
        let grid = Grid {
            t0: 0,
            step: MIN,
            len: 40,
        };
        let mut aligned = Aligned {
            grid,
            baseline: 0..20,
            incident: 20..40,
            alert: 32,
            series: self.series,
        };
        crate::align::add_entity_rollups(&mut aligned);
        let windows = Windows {
            baseline_start: 0,
            baseline_end: 20 * MIN,
            start: 20 * MIN,
            end: 40 * MIN,
            fired_at: 32 * MIN,
        };
        let lines: Vec<_> = self.logs.iter().map(crate::model::LogRow::line).collect();
        let logs = crate::logs::evidence::analyze(
            &lines,
            &grid,
            &aligned.baseline,
            &aligned.incident,
            aligned.alert,
        );
        Context::build(
            "fixture".into(),
            self.spec,
            windows,
            aligned,
            &self.pod_nodes,
            self.has_events.then_some(self.events),
            logs,
        )
    }
}

/// Sidecar container key helper.
pub(crate) fn sidecar_cpu(entity: &str, pod: &str) -> SeriesKey {
    kp(entity, pod, SIDECAR, "cpu_cores")
}

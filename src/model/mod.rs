//! polars-free domain types shared by every stage: entity ids, incident.toml, rows, series keys.
//!
//! Nothing here does I/O; `archive` reads and writes these, `align` onwards computes on them.

mod entity;
mod incident;
mod time;
pub mod vocab;

pub use entity::{EntityKind, Kind, service_of_pod};
pub use incident::{
    Alert, AliasSpec, EntitySpec, Expected, IncidentSpec, PostmortemSpec, ResolvedAlias, Resources,
    WindowSpec, Windows,
};
pub use time::{
    Instant, MINUTE_MS, buckets, clock, clock_s, fmt_ms, gaps, human_duration, step_ms,
};

/// Which container of a pod a series describes. `None` in the data means the app.
pub const APP: &str = "app";
/// The mesh proxy container.
pub const SIDECAR: &str = "sidecar";

/// Identifies one time series: everything but the timestamp and the value.
///
/// `node` is not part of the key: it is an attribute of the pod, kept in the pod→node map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// Entity id.
    pub entity: String,
    /// Metric name (after aliasing).
    pub metric: String,
    /// Pod, or None for an entity-level aggregate.
    pub pod: Option<String>,
    /// `app`, `sidecar`, or another container name.
    pub container: String,
    /// The dependency called, for client-side dependency metrics.
    pub target: Option<String>,
    /// The collector that produced the samples.
    pub source: Option<String>,
}

/// One series as read from an archive: samples sorted by time, duplicates not yet averaged.
/// The hand-off from the archive reader to alignment, so neither depends on the other.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    /// Identity.
    pub key: SeriesKey,
    /// Epoch ms, ascending.
    pub ts: Vec<i64>,
    /// Values, same length as `ts`, never NaN.
    pub values: Vec<f64>,
}

impl SeriesKey {
    /// An entity-level app series with no pod, target or source.
    #[must_use]
    pub fn entity(entity: &str, metric: &str) -> SeriesKey {
        SeriesKey {
            entity: entity.into(),
            metric: metric.into(),
            pod: None,
            container: APP.into(),
            target: None,
            source: None,
        }
    }

    /// A short label for charts and evidence: `live-api/pod-1 sidecar cpu_cores [cadvisor]`.
    #[must_use]
    pub fn label(&self) -> String {
        let mut s = self.pod.clone().unwrap_or_else(|| self.entity.clone());
        if self.container != APP {
            s.push(' ');
            s.push_str(&self.container);
        }
        s.push(' ');
        s.push_str(&self.metric);
        if let Some(t) = &self.target {
            s.push_str(" → ");
            s.push_str(t);
        }
        if let Some(src) = &self.source {
            s.push_str(" [");
            s.push_str(src);
            s.push(']');
        }
        s
    }
}

/// One metric sample as the archive stores it (long format).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Epoch milliseconds.
    pub ts_ms: i64,
    /// Entity id.
    pub entity: String,
    /// Metric name.
    pub metric: String,
    /// Value; NaN is a missing sample.
    pub value: f64,
    /// Pod name; None for an entity-level series (a service total, a node, a store).
    pub pod: Option<String>,
    /// Node hosting the pod.
    pub node: Option<String>,
    /// Container (`app` when None).
    pub container: Option<String>,
    /// Dependency called.
    pub target: Option<String>,
    /// Collector.
    pub source: Option<String>,
}

impl MetricRow {
    /// An entity-level sample with no pod, container, target or source.
    #[must_use]
    pub fn new(ts_ms: i64, entity: &str, metric: &str, value: f64) -> MetricRow {
        MetricRow {
            ts_ms,
            entity: entity.into(),
            metric: metric.into(),
            value,
            pod: None,
            node: None,
            container: None,
            target: None,
            source: None,
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    /// Epoch milliseconds.
    pub ts_ms: i64,
    /// Entity id.
    pub entity: String,
    /// The line's text; log templates are mined from it.
    pub message: String,
    /// The pod that logged it; None for an entity-level log.
    pub pod: Option<String>,
    /// The node hosting that pod, when the collector recorded it.
    pub node: Option<String>,
    /// Level, lowercased (`error`, `warn`, `info`, `debug`).
    pub level: Option<String>,
    /// The line's pattern as grouped upstream (a log platform, or `funnel import`); `None`
    /// leaves the grouping to the analysis.
    pub template: Option<String>,
}

impl LogRow {
    /// The line as the analysis reads it.
    #[must_use]
    pub fn line(&self) -> LogLine<'_> {
        LogLine {
            ts_ms: self.ts_ms,
            entity: &self.entity,
            message: &self.message,
            level: self.level.as_deref(),
            template: self.template.as_deref(),
        }
    }
}

/// One log line as the analysis reads it, borrowed from wherever the lines are kept (an
/// archive's decoded columns, or [`LogRow`]s built in memory).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogLine<'a> {
    /// Epoch milliseconds.
    pub ts_ms: i64,
    /// Entity id.
    pub entity: &'a str,
    /// The message; empty when the archive's lines carry templates and the messages were
    /// left on disk (see `archive::LogTable`).
    pub message: &'a str,
    /// Level as written (any case).
    pub level: Option<&'a str>,
    /// The pattern grouped upstream, when the archive carries one.
    pub template: Option<&'a str>,
}

/// One change event: deploy, failover, scale, config, restart, ...
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Epoch milliseconds.
    pub ts_ms: i64,
    /// Who changed.
    pub entity: String,
    /// `deploy`, `failover`, `scale`, `config`, `restart`, or another word.
    pub kind: String,
    /// Free text.
    pub detail: Option<String>,
}

/// A whole archive in memory: what `simulate` and `import` produce and `archive::write` stores.
#[derive(Debug, Clone)]
pub struct ArchiveData {
    /// incident.toml.
    pub spec: IncidentSpec,
    /// Metric samples, any order.
    pub metrics: Vec<MetricRow>,
    /// Log lines, any order.
    pub logs: Vec<LogRow>,
    /// Events, any order.
    pub events: Vec<EventRow>,
}

/// A finding about the data or the configuration, reported beside the verdict.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// `metric-disagreement`, `configuration`, `missing-data`, ...
    pub kind: String,
    /// The entity it is about.
    pub entity: String,
    /// What was found, with numbers.
    pub detail: String,
}

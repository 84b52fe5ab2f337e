//! Renders an archive's series as the raw metrics a kube-prometheus-stack + Istio cluster
//! would have scraped, with the names and labels of the built-in export profile: counters
//! cumulative, Istio histograms with Istio's buckets, kube-state-metrics info series for the
//! topology. Output as OpenMetrics text (for `promtool tsdb create-blocks-from openmetrics`)
//! or VictoriaMetrics' `/api/v1/import` JSON lines. Tests and the export benchmark load these
//! into real servers and export them back.
//!
//! What the raw data cannot carry is left out: logs, `config` events, storage CPU, sources
//! other than the primary one (a second collector's view). The dependency call rate is the
//! caller pod's request rate (one call per request; 10/s for pods without one), and storage
//! servers run a nominal 500 commands/s: the archive keeps only latencies for those.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::model::{ArchiveData, EntityKind, MetricRow};

mod points;
mod render;
mod render_state;

pub use points::{ISTIO_BUCKETS_MS, NGINX_BUCKETS_S, bucket_masses};

/// The namespace every pod is rendered in.
pub const NAMESPACE: &str = "prod";

/// One raw series.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    /// Metric name.
    pub name: String,
    /// Labels, sorted.
    pub labels: BTreeMap<String, String>,
    /// (epoch ms, value), in time order.
    pub points: Vec<(i64, f64)>,
}

impl RawSeries {
    /// A series named `name` with the non-empty `labels` (an empty label is no label in
    /// Prometheus).
    fn new(name: &str, labels: &[(&str, &str)], points: Vec<(i64, f64)>) -> RawSeries {
        RawSeries {
            name: name.into(),
            labels: labels
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points,
        }
    }

    fn labels_text(&self) -> String {
        let mut s = String::new();
        for (i, (k, v)) in self.labels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            s.push_str(&format!("{k}=\"{v}\""));
        }
        s
    }
}

/// The series the renderers (`render`, `render_state`) produce, in the order they push them.
struct Out(Vec<RawSeries>);

impl Out {
    fn push(&mut self, name: &str, labels: &[(&str, &str)], points: Vec<(i64, f64)>) {
        self.0.push(RawSeries::new(name, labels, points));
    }
}

/// The raw series of an archive, sorted by name then labels.
#[must_use]
pub fn series(data: &ArchiveData) -> Vec<RawSeries> {
    let rows: Vec<&MetricRow> = data
        .metrics
        .iter()
        .filter(|r| r.source.as_deref().is_none_or(|s| s == "cadvisor"))
        .collect();
    let mut out = render::render(data, &rows);
    out.retain(|s| !s.points.is_empty());
    out.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    out
}

/// Total samples of `series`.
#[must_use]
pub fn sample_count(series: &[RawSeries]) -> usize {
    series.iter().map(|s| s.points.len()).sum()
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Writes OpenMetrics text: one line per sample, seconds timestamps, `# EOF` at the end.
///
/// # Errors
/// The writer fails.
pub fn write_openmetrics(series: &[RawSeries], w: &mut dyn Write) -> io::Result<()> {
    let mut w = io::BufWriter::new(w);
    for s in series {
        let head = format!("{}{{{}}}", s.name, s.labels_text());
        for &(t, v) in &s.points {
            writeln!(
                w,
                "{head} {} {}.{:03}",
                num(v),
                t.div_euclid(1000),
                t.rem_euclid(1000)
            )?;
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()
}

/// Writes VictoriaMetrics import JSON lines (values numbers, timestamps ms).
///
/// # Errors
/// The writer fails.
pub fn write_vm_jsonl(series: &[RawSeries], w: &mut dyn Write) -> io::Result<()> {
    let mut w = io::BufWriter::new(w);
    for s in series {
        let mut metric = serde_json::Map::new();
        metric.insert("__name__".into(), s.name.clone().into());
        for (k, v) in &s.labels {
            metric.insert(k.clone(), v.clone().into());
        }
        let line = serde_json::json!({
            "metric": metric,
            "values": s.points.iter().map(|p| p.1).collect::<Vec<_>>(),
            "timestamps": s.points.iter().map(|p| p.0).collect::<Vec<_>>(),
        });
        writeln!(w, "{line}")?;
    }
    w.flush()
}

/// Whether an entity is a service (pods, Istio) rather than infrastructure.
fn is_service(e: &str) -> bool {
    EntityKind::of(e) == EntityKind::Service
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_renders_cumulative_counters_and_valid_text() {
        let data = crate::sim::simulate("live-rt-jitter", 1).unwrap();
        let s = series(&data);
        let cpu = s
            .iter()
            .find(|s| s.name == "container_cpu_usage_seconds_total")
            .unwrap();
        assert!(
            cpu.points
                .windows(2)
                .all(|w| w[1].1 >= w[0].1 && w[1].0 > w[0].0)
        );
        for name in [
            "istio_request_duration_milliseconds_bucket",
            "kube_pod_info",
            "kube_replicaset_owner",
            "node_cpu_seconds_total",
            "redis_commands_total",
            "nginx_ingress_controller_requests",
            "db_client_operation_duration_seconds_count",
        ] {
            assert!(s.iter().any(|x| x.name == name), "{name} missing");
        }
        let mut text = Vec::new();
        write_openmetrics(&s[..3], &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.ends_with("# EOF\n"));
        assert_eq!(text.lines().count(), sample_count(&s[..3]) + 1);
    }
}

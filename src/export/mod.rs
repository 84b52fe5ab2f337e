//! `funnel export prometheus`: an archive v1 straight from a Prometheus-compatible HTTP API
//! (Prometheus, VictoriaMetrics, Thanos Query, Mimir/Cortex), for one alert or for every firing
//! episode of an alert series. A profile (`profile`) maps PromQL onto archive series; `client`
//! talks HTTP; `rows` turns answers into rows, events and topology; `incidents` finds episodes.
//!
//! The output is written into a temporary folder beside `--out` and renamed at the end, so an
//! archive at its final path is always complete.

pub mod client;
pub mod incidents;
pub mod profile;
mod rows;
mod run;
mod store;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant as Clock;

use crate::archive::stream::{SeriesRef, write_metric_series};
use crate::model::{Alert, ArchiveData, EntityKind, IncidentSpec, Instant, WindowSpec};

use client::Client;
use profile::{Profile, Vars};
use run::Query;

/// Everything that can go wrong; the binary maps all of it to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Bad arguments or profile.
    #[error("{0}")]
    Input(String),
    /// The server could not be reached or answered an error.
    #[error("{url}: query `{query}`: {message}")]
    Server {
        /// The endpoint.
        url: String,
        /// The PromQL sent.
        query: String,
        /// What went wrong, with the server's own words.
        message: String,
    },
    /// 401 / 403.
    #[error(
        "{url}: authentication failed (HTTP {status}); set {} or {} and {} (their values are never printed)",
        client::ENV_TOKEN,
        client::ENV_USER,
        client::ENV_PASSWORD
    )]
    Auth {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// A series the alert needs came back empty.
    #[error(
        "{url}: no data for the alert's series {entity}/{metric} in the incident window; the profile's query was `{query}`"
    )]
    Empty {
        /// The endpoint.
        url: String,
        /// The alert entity.
        entity: String,
        /// The alert metric.
        metric: String,
        /// The PromQL of the profile rule that should produce it.
        query: String,
    },
    /// Writing the archive failed.
    #[error(transparent)]
    Archive(#[from] crate::Error),
}

/// How to reach the server and what to ask it.
#[derive(Debug, Clone)]
pub struct Source {
    /// The client.
    pub client: Client,
    /// The profile.
    pub profile: Profile,
    /// Where the profile came from (`kube-prometheus` or a path), for the description.
    pub profile_name: String,
    /// `--namespace` (a regex); None: every namespace.
    pub namespace: Option<String>,
    /// `--step` in ms; None: the scrape interval found in the data.
    pub step_ms: Option<i64>,
    /// Queries in flight at once.
    pub concurrency: usize,
}

/// What one export did, for the summary line and the benchmark.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Queries run (one per profile rule and topology query; chunks are counted as requests).
    pub queries: usize,
    /// HTTP requests.
    pub requests: u64,
    /// Result series.
    pub series: usize,
    /// Metric rows written.
    pub samples: usize,
    /// Event rows written.
    pub events: usize,
    /// Response bytes.
    pub bytes: u64,
    /// Wall ms of the query phase (requests in flight, their parsing included).
    pub server_ms: u64,
    /// ms waiting for responses, summed over concurrent requests.
    pub wait_ms: u64,
    /// Wall ms turning result series into rows and topology.
    pub rows_ms: u64,
    /// ms spent parsing JSON (summed over threads).
    pub parse_ms: u64,
    /// ms spent writing the archive.
    pub write_ms: u64,
    /// The step used, ms.
    pub step_ms: i64,
    /// Series of the profile's entry query whose labels fill no gateway or service template
    /// (a gateway the profile does not know): left out of the topology, and said so.
    pub unmapped_entries: usize,
    /// The slowest queries: (wall ms, what the query produces), slowest first.
    pub slowest: Vec<(u64, String)>,
}

/// One alert to export.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRequest {
    /// Entity id.
    pub entity: String,
    /// Archive metric.
    pub metric: String,
    /// Firing time.
    pub fired_at: Instant,
    /// Overrides of the default windows.
    pub window: WindowSpec,
    /// Archive id (defaults to the folder name).
    pub id: Option<String>,
}

fn runtime() -> Result<tokio::runtime::Runtime, ExportError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ExportError::Input(format!("starting the async runtime: {e}")))
}

/// Exports one alert into `out` (replaced if it exists).
///
/// # Errors
/// See [`ExportError`]; nothing is left at `out` on failure.
pub fn export_alert(
    src: &Source,
    alert: &AlertRequest,
    out: &Path,
) -> Result<Summary, ExportError> {
    runtime()?.block_on(export_alert_async(src, alert, out))
}

async fn export_alert_async(
    src: &Source,
    alert: &AlertRequest,
    out: &Path,
) -> Result<Summary, ExportError> {
    let mut spec = alert_spec(alert);
    let w = spec.windows().map_err(ExportError::Input)?;
    let (step, vars) = step_and_vars(src, alert).await?;
    let start = w.baseline_start.div_euclid(step) * step;
    let end = (w.end + step - 1).div_euclid(step) * step;
    let clock = Clock::now();
    let (topo_queries, data_queries, ev_start) = plan(&src.profile, &vars, (start, end, step))?;
    let mut f = run::fetch(src, topo_queries, data_queries, ev_start).await?;
    let server_ms = clock.elapsed().as_millis() as u64;
    let clock = Clock::now();
    f.store.finish();
    let mut refs = f.store.series();
    let has_alert = refs.iter().any(|r| {
        r.entity == alert.entity
            && r.metric == alert.metric
            && r.pod.is_none()
            && r.points.iter().any(|p| p.0 >= w.start && p.0 <= w.end)
    });
    if !has_alert {
        return Err(no_alert_data(src, alert, &vars));
    }
    spec.entities = rows::topology(&refs, &f.entry);
    spec.description = Some(format!(
        "Exported by funnel {} from {} with profile {} (step {} s).",
        env!("CARGO_PKG_VERSION"),
        src.client.url(),
        src.profile_name,
        step as f64 / 1000.0
    ));
    let mut summary = Summary {
        queries: f.queries.len(),
        series: f.series,
        step_ms: step,
        server_ms,
        unmapped_entries: f.unmapped_entries,
        slowest: run::slowest(&f.queries, &f.ms, 3),
        samples: f.store.samples(),
        events: f.events.len(),
        ..Summary::default()
    };
    let data = ArchiveData {
        spec,
        metrics: Vec::new(),
        logs: Vec::new(),
        events: f.events,
    };
    summary.rows_ms = clock.elapsed().as_millis() as u64;
    let clock = Clock::now();
    write_atomic(&data, &mut refs, out)?;
    summary.write_ms = clock.elapsed().as_millis() as u64;
    add_client_stats(&mut summary, &src.client.stats);
    Ok(summary)
}

/// The incident.toml of an exported alert, before its topology and description are known.
fn alert_spec(alert: &AlertRequest) -> IncidentSpec {
    IncidentSpec {
        id: alert.id.clone(),
        title: Some(format!("{} {} alert", alert.entity, alert.metric)),
        description: None,
        alert: Alert {
            entity: alert.entity.clone(),
            metric: alert.metric.clone(),
            fired_at: alert.fired_at,
        },
        window: (alert.window != WindowSpec::default()).then(|| alert.window.clone()),
        metric_aliases: BTreeMap::new(),
        expected: None,
        entities: Vec::new(),
        postmortem: None,
    }
}

/// The export's step (`--step`, else the scrape interval found in the data, else 15 s) and the
/// variables the profile's queries are expanded with: rate windows of at least four scrapes,
/// and samples counted fresh for one and a half scrape intervals.
async fn step_and_vars(src: &Source, alert: &AlertRequest) -> Result<(i64, Vars), ExportError> {
    let scrape = run::scrape_interval(src, alert.fired_at.0).await?;
    let step = src.step_ms.or(scrape).unwrap_or(15_000);
    let scrape = scrape.unwrap_or(step);
    let mut vars = Vars {
        namespace: src.namespace.clone().unwrap_or_else(|| ".*".into()),
        window_ms: step.max(4 * scrape),
        stale_ms: scrape + scrape / 2,
        pod_workload: String::new(),
    };
    vars.pod_workload = profile::expand(&src.profile.topology.pod_workload, &vars)?;
    Ok((step, vars))
}

fn add_client_stats(summary: &mut Summary, st: &client::Stats) {
    summary.requests = st.requests.load(Ordering::Relaxed);
    summary.bytes = st.bytes.load(Ordering::Relaxed);
    summary.parse_ms = st.parse_us.load(Ordering::Relaxed) / 1000;
    summary.wait_ms = st.wait_us.load(Ordering::Relaxed) / 1000;
}

/// How far before the baseline event queries look for the state a change starts from.
const EVENT_LOOKBACK_MS: i64 = 6 * 3_600_000;

/// The topology queries (pod → node, pod → workload, entry points) and the data queries
/// (one per `[[series]]`, then one per `[[event]]`), and the events' first time.
fn plan(
    p: &Profile,
    vars: &Vars,
    (start, end, step): (i64, i64, i64),
) -> Result<(Vec<Query>, Vec<Query>, i64), ExportError> {
    let q = |name: String, text: &str, start: i64, step: i64| -> Result<Query, ExportError> {
        Ok(Query {
            name,
            promql: profile::expand(text, vars)?,
            start,
            end,
            step,
        })
    };
    let topo = &p.topology;
    let mut t = vec![
        q("pod_node".into(), &topo.pod_node, start, step)?,
        q("pod_workload".into(), &topo.pod_workload, start, step)?,
    ];
    if let Some(e) = &topo.entry {
        t.push(q("entry".into(), e, start, step)?);
    }
    let mut d = Vec::new();
    for s in &p.series {
        let by = match (&s.pod, &s.target) {
            (Some(_), Some(t)) => format!(" by pod to {t}"),
            (Some(_), None) => " by pod".into(),
            (None, Some(t)) => format!(" to {t}"),
            (None, None) => String::new(),
        };
        let c = s
            .container
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        d.push(q(format!("{}{by}{c}", s.metric), &s.query, start, step)?);
    }
    // Rollouts and failovers show as a change of label: look back far enough to see the old one.
    let ev_step = step.max(60_000);
    let ev_start = (start - EVENT_LOOKBACK_MS).div_euclid(ev_step) * ev_step;
    for e in &p.events {
        d.push(q(format!("event {}", e.kind), &e.query, ev_start, ev_step)?);
    }
    Ok((t, d, ev_start))
}

/// The error for an alert series with no data, naming the profile's query for it.
fn no_alert_data(src: &Source, alert: &AlertRequest, vars: &Vars) -> ExportError {
    let rule = src.profile.series.iter().find(|r| {
        r.metric == alert.metric && (r.pod.is_none() || r.entity_sum) && r.target.is_none()
    });
    let query = match rule.map(|r| profile::expand(&r.query, vars)) {
        Some(Ok(q)) => q,
        Some(Err(e)) => return ExportError::Input(e),
        None => "(the profile has no rule for this metric)".into(),
    };
    ExportError::Empty {
        url: src.client.url().to_string(),
        entity: alert.entity.clone(),
        metric: alert.metric.clone(),
        query,
    }
}

/// Writes the archive beside `out` and swaps it in whole once complete (see
/// [`crate::output`]): a failed or killed export leaves the previous archive, if any. The
/// metric series are written in batches, services and infrastructure in two files as
/// `archive::write` splits them.
fn write_atomic(
    data: &ArchiveData,
    series: &mut [SeriesRef<'_>],
    out: &Path,
) -> Result<(), ExportError> {
    let staged = crate::output::Staged::dir(out).map_err(|e| crate::Error::io(out, e))?;
    crate::archive::write(data, staged.path())?;
    let (mut services, mut infra): (Vec<SeriesRef<'_>>, Vec<SeriesRef<'_>>) = series
        .iter()
        .filter(|s| !s.points.is_empty())
        .partition(|s| EntityKind::of(s.entity) == EntityKind::Service);
    let dir = staged.path().join("metrics");
    for (name, part) in [
        ("services.parquet", &mut services),
        ("infrastructure.parquet", &mut infra),
    ] {
        if !part.is_empty() {
            write_metric_series(&dir.join(name), part)?;
        }
    }
    staged.commit().map_err(|e| crate::Error::io(out, e))?;
    Ok(())
}

impl From<String> for ExportError {
    fn from(s: String) -> Self {
        ExportError::Input(s)
    }
}

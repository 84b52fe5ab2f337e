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

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant as Clock;

use crate::model::{Alert, ArchiveData, IncidentSpec, Instant, WindowSpec};

use client::{Client, Series};
use profile::{Profile, Vars};

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
    /// The HTTP client, with the server's URL and credentials.
    pub client: Client,
    /// Which PromQL produces which archive series and events.
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
    /// Queries run (one per profile rule; chunks are counted as requests).
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
    let scrape = scrape_interval(src, alert.fired_at.0).await?;
    let plan = plan_queries(
        &src.profile,
        src.namespace.as_deref(),
        &w,
        src.step_ms,
        scrape,
    )?;
    let clock = Clock::now();
    let results = run_all(src, &plan.queries).await?;
    let server_ms = clock.elapsed().as_millis() as u64;
    let clock = Clock::now();
    let mut it = results.into_iter();
    let topo = topology_labels(&src.profile.topology, &mut it);
    let mut summary = Summary {
        queries: plan.queries.len(),
        step_ms: plan.step,
        server_ms,
        unmapped_entries: topo.unmapped_entries,
        ..Summary::default()
    };
    let rows = rows_of(src, alert, &plan, &topo, &mut it);
    summary.series += rows.series;
    let (metrics, events) = (rows.metrics, rows.events);
    let has_alert = metrics.iter().any(|r| {
        r.entity == alert.entity
            && r.metric == alert.metric
            && r.pod.is_none()
            && r.ts_ms >= w.start
            && r.ts_ms <= w.end
    });
    if !has_alert {
        return Err(ExportError::Empty {
            url: src.client.url().to_string(),
            entity: alert.entity.clone(),
            metric: alert.metric.clone(),
            query: rows
                .alert_query
                .transpose()?
                .unwrap_or_else(|| "(the profile has no rule for this metric)".into()),
        });
    }
    spec.entities = rows::topology(&metrics, &topo.entry);
    spec.description = Some(format!(
        "Exported by funnel {} from {} with profile {} (step {} s).",
        env!("CARGO_PKG_VERSION"),
        src.client.url(),
        src.profile_name,
        plan.step as f64 / 1000.0
    ));
    summary.samples = metrics.len();
    summary.events = events.len();
    let data = ArchiveData {
        spec,
        metrics,
        logs: Vec::new(),
        events,
    };
    summary.rows_ms = clock.elapsed().as_millis() as u64;
    let clock = Clock::now();
    write_atomic(&data, out)?;
    summary.write_ms = clock.elapsed().as_millis() as u64;
    add_client_stats(&mut summary, &src.client);
    Ok(summary)
}

/// The archive's incident.toml for one alert: windows default unless overridden; entities
/// and description are filled in once the data is in.
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

/// The range queries of one export, in the order the results are read back: the pod → node
/// map, the entry query (if the profile has one), every series rule, every event rule.
struct QueryPlan {
    /// (PromQL, start ms, end ms, step ms).
    queries: Vec<(String, i64, i64, i64)>,
    /// The grid step of the series queries, ms.
    step: i64,
    /// Where the event queries start: before the baseline, on their own coarser grid.
    event_start: i64,
    vars: Vars,
}

fn plan_queries(
    p: &Profile,
    namespace: Option<&str>,
    w: &crate::model::Windows,
    step_ms: Option<i64>,
    scrape: Option<i64>,
) -> Result<QueryPlan, ExportError> {
    let step = step_ms.or(scrape).unwrap_or(15_000);
    let scrape = scrape.unwrap_or(step);
    let start = w.baseline_start.div_euclid(step) * step;
    let end = (w.end + step - 1).div_euclid(step) * step;
    let mut vars = Vars {
        namespace: namespace.unwrap_or(".*").to_string(),
        window_ms: step.max(4 * scrape),
        stale_ms: scrape + scrape / 2,
        pod_workload: String::new(),
    };
    vars.pod_workload = profile::expand(&p.topology.pod_workload, &vars)?;
    let mut queries: Vec<(String, i64, i64, i64)> = Vec::new();
    let topo = &p.topology;
    queries.push((profile::expand(&topo.pod_node, &vars)?, start, end, step));
    if let Some(e) = &topo.entry {
        queries.push((profile::expand(e, &vars)?, start, end, step));
    }
    for s in &p.series {
        queries.push((profile::expand(&s.query, &vars)?, start, end, step));
    }
    // Rollouts and failovers show as a change of label: look back far enough to see the old one.
    let ev_step = step.max(60_000);
    let event_start = (start - EVENT_LOOKBACK_MS).div_euclid(ev_step) * ev_step;
    for e in &p.events {
        queries.push((profile::expand(&e.query, &vars)?, event_start, end, ev_step));
    }
    Ok(QueryPlan {
        queries,
        step,
        event_start,
        vars,
    })
}

/// What the topology queries said: which node runs each pod, which services each gateway
/// fronts, and how many entry series fit no gateway or service template.
struct TopologyLabels {
    pod_node: BTreeMap<String, String>,
    entry: BTreeMap<String, BTreeSet<String>>,
    unmapped_entries: usize,
}

/// Reads the pod → node results and, when the profile has an entry query, its results off the
/// front of `results`.
fn topology_labels(
    topo: &profile::Topology,
    results: &mut impl Iterator<Item = Vec<Series>>,
) -> TopologyLabels {
    let mut pod_node = BTreeMap::new();
    for s in results.next().unwrap_or_default() {
        if let (Some(pod), Some(node)) = (s.labels.get("pod"), s.labels.get("node")) {
            pod_node.insert(pod.clone(), node.clone());
        }
    }
    let mut entry: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unmapped_entries = 0;
    if topo.entry.is_some() {
        for s in results.next().unwrap_or_default() {
            let l = |n: &str| s.labels.get(n).cloned();
            if let (Some(g), Some(svc)) = (
                profile::fill(&topo.entry_gateway, &l),
                profile::fill(&topo.entry_service, &l),
            ) {
                entry.entry(g).or_default().insert(svc);
            } else {
                unmapped_entries += 1;
            }
        }
    }
    TopologyLabels {
        pod_node,
        entry,
        unmapped_entries,
    }
}

/// The archive rows of the series and event results, in profile order.
struct ExportRows {
    metrics: Vec<crate::model::MetricRow>,
    events: Vec<crate::model::EventRow>,
    /// Result series read.
    series: usize,
    /// The PromQL of the first rule producing the alert's own series, for the error when it
    /// came back empty (expanded only then).
    alert_query: Option<Result<String, String>>,
}

/// Turns the remaining results (one per series rule, then one per event rule) into rows.
fn rows_of(
    src: &Source,
    alert: &AlertRequest,
    plan: &QueryPlan,
    topo: &TopologyLabels,
    results: &mut impl Iterator<Item = Vec<Series>>,
) -> ExportRows {
    let mut out = ExportRows {
        metrics: Vec::new(),
        events: Vec::new(),
        series: 0,
        alert_query: None,
    };
    let mut skipped = 0;
    for rule in &src.profile.series {
        let res = results.next().unwrap_or_default();
        out.series += res.len();
        if rule.metric == alert.metric && rule.pod.is_none() && rule.target.is_none() {
            out.alert_query
                .get_or_insert_with(|| profile::expand(&rule.query, &plan.vars));
        }
        out.metrics
            .extend(rows::metric_rows(rule, &res, &topo.pod_node, &mut skipped));
    }
    for rule in &src.profile.events {
        let res = results.next().unwrap_or_default();
        out.series += res.len();
        out.events
            .extend(rows::event_rows(rule, &res, plan.event_start));
    }
    out
}

/// Copies the client's request counters into the summary.
fn add_client_stats(summary: &mut Summary, client: &Client) {
    let st = &client.stats;
    summary.requests = st.requests.load(Ordering::Relaxed);
    summary.bytes = st.bytes.load(Ordering::Relaxed);
    summary.parse_ms = st.parse_us.load(Ordering::Relaxed) / 1000;
    summary.wait_ms = st.wait_us.load(Ordering::Relaxed) / 1000;
}

/// How far before the baseline event queries look for the state a change starts from.
const EVENT_LOOKBACK_MS: i64 = 6 * 3_600_000;

/// Runs every query with at most `concurrency` in flight; results in query order.
async fn run_all(
    src: &Source,
    queries: &[(String, i64, i64, i64)],
) -> Result<Vec<Vec<Series>>, ExportError> {
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(src.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, (q, s, e, st)) in queries.iter().enumerate() {
        let (client, q, s, e, st, sem) = (src.client.clone(), q.clone(), *s, *e, *st, sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            (i, client.query_range(&q, s, e, st).await)
        });
    }
    let mut out: Vec<Option<Vec<Series>>> = vec![None; queries.len()];
    while let Some(r) = set.join_next().await {
        let (i, res) = r.map_err(|e| ExportError::Input(format!("query task failed: {e}")))?;
        out[i] = Some(res?);
    }
    Ok(out.into_iter().map(Option::unwrap_or_default).collect())
}

/// The median spacing of the probe series' raw samples in the 10 minutes before `t`.
async fn scrape_interval(src: &Source, t: i64) -> Result<Option<i64>, ExportError> {
    let q = format!("{}[10m]", src.profile.scrape_probe);
    let res = src.client.query(&q, t).await?;
    let mut gaps: Vec<i64> = res
        .iter()
        .take(20)
        .flat_map(|s| s.points.windows(2).map(|w| w[1].0 - w[0].0))
        .filter(|&g| g > 0)
        .collect();
    gaps.sort_unstable();
    Ok(gaps.get(gaps.len() / 2).copied())
}

/// Writes the archive beside `out` and swaps it in whole once complete (see
/// [`crate::output`]): a failed or killed export leaves the previous archive, if any.
fn write_atomic(data: &ArchiveData, out: &Path) -> Result<(), ExportError> {
    let staged = crate::output::Staged::dir(out).map_err(|e| crate::Error::io(out, e))?;
    crate::archive::write(data, staged.path())?;
    staged.commit().map_err(|e| crate::Error::io(out, e))?;
    Ok(())
}

impl From<String> for ExportError {
    fn from(s: String) -> Self {
        ExportError::Input(s)
    }
}

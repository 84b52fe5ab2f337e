//! Running an export's queries: at most `--concurrency` in flight, each answer handed over as
//! soon as it arrives (so only the answers in flight are held, not all of them), each query
//! timed for the summary's "slowest queries".

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant as Clock;

use super::client::Series;
use super::rows;
use super::store::Store;
use super::{ExportError, Source};
use crate::model::gaps;

/// One range query: a name for the summary, PromQL, start, end and step in ms.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub(crate) name: String,
    pub(crate) promql: String,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) step: i64,
}

/// Runs `queries` with at most `src.concurrency` in flight and calls `each(i, answer)` in the
/// order answers arrive. Returns each query's wall time in ms (its chunks included), in
/// query order.
pub(crate) async fn run_each(
    src: &Source,
    queries: &[Query],
    mut each: impl FnMut(usize, Vec<Series>),
) -> Result<Vec<u64>, ExportError> {
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(src.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, q) in queries.iter().enumerate() {
        let (client, q, sem) = (src.client.clone(), q.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let clock = Clock::now();
            let res = client.query_range(&q.promql, q.start, q.end, q.step).await;
            (i, res, clock.elapsed().as_millis() as u64)
        });
    }
    let mut ms = vec![0; queries.len()];
    while let Some(r) = set.join_next().await {
        let (i, res, took) =
            r.map_err(|e| ExportError::Input(format!("query task failed: {e}")))?;
        ms[i] = took;
        each(i, res?);
    }
    Ok(ms)
}

/// Runs `queries` and returns every answer, in query order (for the few small ones).
pub(crate) async fn run_all(
    src: &Source,
    queries: &[Query],
) -> Result<(Vec<Vec<Series>>, Vec<u64>), ExportError> {
    let mut out = vec![Vec::new(); queries.len()];
    let ms = run_each(src, queries, |i, r| out[i] = r).await?;
    Ok((out, ms))
}

/// The `n` slowest queries: (ms, name), slowest first.
pub(crate) fn slowest(queries: &[Query], ms: &[u64], n: usize) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = ms
        .iter()
        .zip(queries)
        .map(|(&t, q)| (t, q.name.clone()))
        .collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    v.truncate(n);
    v
}

/// The median spacing of the probe series' raw samples in the 10 minutes before `t`.
pub(crate) async fn scrape_interval(src: &Source, t: i64) -> Result<Option<i64>, ExportError> {
    let q = format!("{}[10m]", src.profile.scrape_probe);
    let res = src.client.query(&q, t).await?;
    let pooled = res
        .iter()
        .take(20)
        .flat_map(|s| gaps(s.points.iter().map(|p| p.0)))
        .collect();
    Ok(crate::stats::middle_of(pooled))
}

/// What the server answered: every series' samples (compact), the events, and per query its
/// time, for the summary.
pub(crate) struct Fetched {
    pub(crate) store: Store,
    pub(crate) events: Vec<crate::model::EventRow>,
    /// Per entry point, the services that come through it.
    pub(crate) entry: BTreeMap<String, BTreeSet<String>>,
    pub(crate) unmapped_entries: usize,
    pub(crate) series: usize,
    pub(crate) queries: Vec<Query>,
    pub(crate) ms: Vec<u64>,
}

/// Runs the topology queries (pod → node, pod → workload, entry points), resolves pods to workloads and nodes once, then runs the data
/// queries, turning each answer into rows as it arrives.
pub(crate) async fn fetch(
    src: &Source,
    topo_queries: Vec<Query>,
    data_queries: Vec<Query>,
    ev_start: i64,
) -> Result<Fetched, ExportError> {
    let (topo, mut ms) = run_all(src, &topo_queries).await?;
    let (joins, entry, unmapped_entries) = rows::resolve(&src.profile, topo);
    let mut store = Store::default();
    let mut events = Vec::new();
    let (mut skipped, mut series) = (0, 0);
    let (n_series, p) = (src.profile.series.len(), &src.profile);
    ms.extend(
        run_each(src, &data_queries, |i, res| {
            series += res.len();
            if i < n_series {
                rows::metric_rows(&p.series[i], &res, &joins, &mut store, &mut skipped);
            } else {
                events.extend(rows::event_rows(
                    &p.events[i - n_series],
                    &res,
                    ev_start,
                    &joins,
                ));
            }
        })
        .await?,
    );
    Ok(Fetched {
        store,
        events,
        entry,
        unmapped_entries,
        series,
        queries: topo_queries.into_iter().chain(data_queries).collect(),
        ms,
    })
}

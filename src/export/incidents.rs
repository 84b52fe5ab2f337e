//! `--incidents QUERY --from --to`: every firing episode of an alert series becomes one
//! archive. An episode ends after [`EPISODE_GAP_MS`] without the series; archives already at
//! their final path are complete (they are renamed into place) and are skipped on a re-run.

use std::path::Path;

use crate::model::{Instant, WindowSpec, fmt_ms};

use super::client::Series;
use super::{AlertRequest, ExportError, Source, Summary};

/// A firing episode ends after this long without a sample of its series.
pub const EPISODE_GAP_MS: i64 = 5 * 60_000;

/// One firing episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// Archive folder name (alertname, entity, start time).
    pub name: String,
    /// What to export.
    pub alert: AlertRequest,
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Splits alert series into episodes, sorted by start time then name.
#[must_use]
pub fn episodes(src: &Source, series: &[Series]) -> Vec<Episode> {
    let p = &src.profile;
    let mut out = Vec::new();
    for s in series {
        let entity = p
            .alert_entity_labels
            .iter()
            .find_map(|l| s.labels.get(l).filter(|v| !v.is_empty()));
        let Some(entity) = entity else { continue };
        let alertname = s.labels.get("alertname").cloned().unwrap_or_default();
        let metric = p
            .alert_metrics
            .get(&alertname)
            .cloned()
            .unwrap_or_else(|| p.default_alert_metric.clone());
        let mut starts = Vec::new();
        let mut prev: Option<i64> = None;
        for &(ts, _) in &s.points {
            if prev.is_none_or(|p| ts - p > EPISODE_GAP_MS) {
                starts.push(ts);
            }
            prev = Some(ts);
        }
        for t in starts {
            let name = slug(&format!(
                "{}-{}-{}",
                if alertname.is_empty() {
                    "alert"
                } else {
                    &alertname
                },
                entity,
                fmt_ms(t, "%Y%m%dT%H%M%SZ")
            ));
            out.push(Episode {
                alert: AlertRequest {
                    entity: entity.clone(),
                    metric: metric.clone(),
                    fired_at: Instant(t),
                    window: WindowSpec::default(),
                    id: Some(name.clone()),
                },
                name,
            });
        }
    }
    out.sort_by(|a, b| (a.alert.fired_at, &a.name).cmp(&(b.alert.fired_at, &b.name)));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// What `export_incidents` did.
#[derive(Debug, Default)]
pub struct IncidentsSummary {
    /// Archives written.
    pub written: Vec<String>,
    /// Archives already complete.
    pub skipped: Vec<String>,
    /// Episodes that failed, with the error.
    pub failed: Vec<(String, String)>,
    /// Totals over the written archives.
    pub totals: Summary,
}

/// Finds the episodes of `query` in [from, to] and exports each into `root/<name>`.
/// `progress` is called after each episode with (done, total).
///
/// # Errors
/// The alert query itself fails; an episode's failure is recorded and the run goes on.
pub fn export_incidents(
    src: &Source,
    query: &str,
    from: Instant,
    to: Instant,
    root: &Path,
    progress: &dyn Fn(usize, usize),
) -> Result<IncidentsSummary, ExportError> {
    let step = src.step_ms.unwrap_or(60_000);
    // `timestamp()` gives each evaluation the time of the sample it used, so episodes come
    // from the alert's own samples, not from the server's 5-minute lookback after them.
    let q = format!("timestamp({query})");
    let mut series = super::runtime()?.block_on(src.client.query_range(&q, from.0, to.0, step))?;
    for s in &mut series {
        let mut ts: Vec<i64> = s
            .points
            .iter()
            .map(|p| (p.1 * 1000.0).round() as i64)
            .collect();
        ts.sort_unstable();
        ts.dedup();
        s.points = ts.into_iter().map(|t| (t, 1.0)).collect();
    }
    let eps = episodes(src, &series);
    let mut sum = IncidentsSummary::default();
    for (i, ep) in eps.iter().enumerate() {
        let out = root.join(&ep.name);
        if out.join("incident.toml").is_file() {
            sum.skipped.push(ep.name.clone());
        } else {
            match super::export_alert(src, &ep.alert, &out) {
                Ok(s) => {
                    sum.totals.samples += s.samples;
                    sum.totals.series += s.series;
                    sum.totals.queries += s.queries;
                    sum.written.push(ep.name.clone());
                }
                Err(e) => sum.failed.push((ep.name.clone(), e.to_string())),
            }
        }
        progress(i + 1, eps.len());
    }
    Ok(sum)
}

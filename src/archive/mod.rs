//! Ingest: reads an incident archive (format v1, docs/archive-format.md) from disk.
//!
//! The only module besides `write` that touches polars. Everything it returns is polars-free,
//! so the stages after it can be tested on small in-memory data.

pub mod budget;
mod columns;
mod decode;
mod events;
pub mod guard;
mod keys;
mod logs;
mod metrics;
mod pages;
pub mod rows;
pub mod stream;
pub mod traces;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use logs::LogTable;
pub use metrics::MetricSet;
pub(crate) use write::write_parquet;
pub use write::{write, write_metrics};

use crate::error::Error;
use crate::model::{EventRow, IncidentSpec, ResolvedAlias, Windows};

/// A loaded archive: the spec, the resolved windows, and the data inside them.
#[derive(Debug)]
pub struct Archive {
    /// The archive folder.
    pub dir: PathBuf,
    /// Incident id (incident.toml `id`, else the folder name).
    pub id: String,
    /// incident.toml as parsed.
    pub spec: IncidentSpec,
    /// Baseline and incident windows.
    pub windows: Windows,
    /// Aliases resolved against the vocabulary.
    pub aliases: BTreeMap<String, ResolvedAlias>,
    /// Metric series in `[baseline_start, end)`.
    pub metrics: MetricSet,
    /// Log lines in `[baseline_start, end)`.
    pub logs: LogTable,
    /// All events; `None` when the archive has no `events/` folder (nothing was exported, so
    /// an absent event proves nothing).
    pub events: Option<Vec<EventRow>>,
}

/// Reads and validates incident.toml alone.
///
/// # Errors
/// A missing, unreadable or invalid incident.toml, with the file and key named.
pub fn read_spec(dir: &Path) -> Result<IncidentSpec, Error> {
    let path = dir.join("incident.toml");
    if !dir.is_dir() {
        return Err(Error::input(
            dir,
            "not an incident archive folder (it does not exist)",
        ));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    IncidentSpec::parse(&text).map_err(|m| Error::input(&path, m))
}

/// Loads a whole archive: incident.toml, then metrics, logs and events inside the windows.
///
/// # Errors
/// Bad input of any kind, named by file and column; an incident window without samples.
pub fn load(dir: &Path) -> Result<Archive, Error> {
    let spec = read_spec(dir)?;
    let toml_path = dir.join("incident.toml");
    let windows = spec.windows().map_err(|m| Error::input(&toml_path, m))?;
    let aliases = spec.aliases().map_err(|m| Error::input(&toml_path, m))?;
    let metrics = metrics::load(
        &dir.join("metrics"),
        windows.baseline_start,
        windows.end,
        &aliases,
    )?;
    let in_incident = metrics
        .series
        .iter()
        .any(|s| s.ts.iter().any(|&t| t >= windows.start && t < windows.end));
    if !in_incident {
        return Err(Error::input(
            dir.join("metrics"),
            format!(
                "no metric sample inside the incident window {} .. {} (check [window] and [alert].fired_at in incident.toml against the data's timestamps)",
                crate::model::Instant(windows.start),
                crate::model::Instant(windows.end)
            ),
        ));
    }
    let logs = logs::load_logs(&dir.join("logs"), windows.baseline_start, windows.end)?;
    let events = events::load_events(&dir.join("events"))?;
    let id = spec.id.clone().unwrap_or_else(|| {
        dir.file_name()
            .map_or_else(|| "incident".into(), |n| n.to_string_lossy().into_owned())
    });
    Ok(Archive {
        dir: dir.to_path_buf(),
        id,
        spec,
        windows,
        aliases,
        metrics,
        logs,
        events,
    })
}

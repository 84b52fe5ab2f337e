//! `funnel attach`: add logs, Kubernetes events, traces and Kubernetes objects to an archive,
//! from the files the tools that keep them write (Loki, logcli, kubectl, OpenTelemetry,
//! Jaeger, Tempo).
//!
//! Formats are detected from content ([`detect`]) unless forced. Rows are keyed, so
//! attaching a file twice adds nothing: logs by (time, entity, pod, node, level, message),
//! events by (time, entity, kind, detail), spans by (trace, span). Attaching is atomic: the
//! new part is written whole into `<archive>/.funnel-attach/` and moved into place at the
//! end (see [`commit`]); any failure before that leaves the archive as it was.

mod buckets;
pub(crate) mod call_gap;
mod commit;
mod dedup;
mod derive;
mod events;
mod format;
mod input;
mod k8s;
mod logs;
mod spans;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use derive::{Derived, derive};
pub use format::{Detected, Format, detect};
pub use k8s::Workload;

use crate::archive::traces::Span;
use crate::error::Error;
use crate::model::{ArchiveData, EntitySpec, IncidentSpec};
use dedup::{dedup, log_key};

/// What is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Log lines → `logs/`.
    Logs,
    /// Kubernetes events → `events/`.
    Events,
    /// Spans → `traces/`, `metrics/traces.parquet` and `depends_on`.
    Traces,
    /// Pods and workloads → `[[entity]]` resources and sidecars.
    K8s,
}

/// Which labels name a log line's entity, pod and node: the first present wins.
#[derive(Debug, Clone)]
pub struct Labels {
    /// Entity labels.
    pub entity: Vec<String>,
    /// Pod labels.
    pub pod: Vec<String>,
    /// Node labels.
    pub node: Vec<String>,
}

impl Default for Labels {
    fn default() -> Labels {
        let v = |s: &[&str]| s.iter().map(|x| (*x).to_string()).collect();
        Labels {
            entity: v(&[
                "app",
                "app_kubernetes_io_name",
                "service_name",
                "container",
                "job",
            ]),
            pod: v(&["pod", "pod_name"]),
            node: v(&["node_name", "node", "host"]),
        }
    }
}

/// What one attach did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Each file and the format read from it.
    pub files: Vec<(PathBuf, &'static str)>,
    /// Rows read from the files.
    pub read: usize,
    /// Rows new to the archive.
    pub added: usize,
    /// Rows already there (or repeated in the files).
    pub duplicates: usize,
    /// Skipped input, by reason, with counts.
    pub skipped: BTreeMap<String, usize>,
    /// Other notes (orphan spans, cut cycles, edges added).
    pub notes: Vec<String>,
    /// Wall time per phase in ms (read, merge, derive or mine, write), for `FUNNEL_TIMINGS`.
    pub timings: Vec<(&'static str, f64)>,
    started: Option<std::time::Instant>,
}

impl Summary {
    /// Ends the phase `name`: the time since the previous phase ended (or the summary began).
    pub(crate) fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        let since = self.started.replace(now).unwrap_or(now);
        self.timings
            .push((name, now.duration_since(since).as_secs_f64() * 1e3));
    }

    pub(crate) fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_string()).or_default() += 1;
    }
}

/// Options of one attach.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A forced format; `None` detects each file's.
    pub format: Option<Format>,
    /// Label mapping for logs.
    pub labels: Labels,
}

/// Attaches `files` to the archive at `dir`.
///
/// # Errors
/// The archive's incident.toml or an existing part is unreadable; an input file is not in the
/// expected format (named with its line); the new part cannot be written. The archive is then
/// unchanged.
pub fn attach(dir: &Path, part: Part, files: &[PathBuf], opts: &Options) -> Result<Summary, Error> {
    let spec = crate::archive::read_spec(dir)?;
    commit::recover(dir)?;
    let mut sum = Summary {
        started: Some(std::time::Instant::now()),
        ..Summary::default()
    };
    let mut formats = Vec::new();
    for f in files {
        let found = detect(f, part, opts.format.as_ref())?;
        sum.files.push((f.clone(), found.format.name()));
        formats.push(found);
    }
    let stage = commit::Stage::new(dir)?;
    let result = match part {
        Part::Logs => attach_logs(dir, &stage, spec, files, &formats, opts, &mut sum),
        Part::Events => attach_events(dir, &stage, spec, files, &formats, &mut sum),
        Part::Traces => attach_traces(dir, &stage, spec, files, &formats, &mut sum),
        Part::K8s => attach_k8s(&stage, spec, files, &formats, &mut sum),
    };
    match result {
        Ok(moves) => {
            stage.commit(&moves)?;
            sum.lap("commit");
        }
        Err(e) => {
            stage.abandon();
            return Err(e);
        }
    }
    Ok(sum)
}

fn data(spec: IncidentSpec) -> ArchiveData {
    ArchiveData {
        spec,
        metrics: Vec::new(),
        logs: Vec::new(),
        events: Vec::new(),
    }
}

fn attach_logs(
    dir: &Path,
    stage: &commit::Stage,
    spec: IncidentSpec,
    files: &[PathBuf],
    formats: &[Detected],
    opts: &Options,
    sum: &mut Summary,
) -> Result<Vec<&'static str>, Error> {
    let mut rows = Vec::new();
    for (f, format) in files.iter().zip(formats) {
        logs::read(f, format, &opts.labels, &mut rows, sum)?;
    }
    sum.read = rows.len();
    sum.lap("read");
    let mut all = crate::archive::rows::all_logs(&dir.join("logs"))?;
    let before = all.len();
    all.append(&mut rows);
    for r in &mut all {
        r.template = None;
    }
    sum.duplicates = dedup(&mut all, |a, b| log_key(a).cmp(&log_key(b)));
    sum.added = all.len().saturating_sub(before);
    sum.lap("merge");
    // Templates are mined over the whole part, as `funnel import` does, so attached lines and
    // lines already there share one grouping.
    crate::logs::label::label(&mut all);
    sum.lap("mine");
    let mut d = data(spec);
    d.logs = all;
    crate::archive::write(&d, stage.path())?;
    sum.lap("write");
    Ok(vec!["logs"])
}

fn attach_events(
    dir: &Path,
    stage: &commit::Stage,
    spec: IncidentSpec,
    files: &[PathBuf],
    formats: &[Detected],
    sum: &mut Summary,
) -> Result<Vec<&'static str>, Error> {
    let mut raw = Vec::new();
    for (f, format) in files.iter().zip(formats) {
        events::read(f, format, &mut raw, sum)?;
    }
    let mut rows = events::rows(&raw);
    sum.read = rows.len();
    let mut all = crate::archive::rows::all_events(&dir.join("events"))?;
    let before = all.len();
    all.append(&mut rows);
    sum.duplicates = dedup(&mut all, |a, b| {
        (a.ts_ms, &a.entity, &a.kind, &a.detail).cmp(&(b.ts_ms, &b.entity, &b.kind, &b.detail))
    });
    sum.added = all.len().saturating_sub(before);
    let mut d = data(spec);
    d.events = all;
    crate::archive::write(&d, stage.path())?;
    Ok(vec!["events"])
}

/// The metrics file trace-derived series go to (rewritten whole by each attach).
pub const TRACE_METRICS: &str = "traces.parquet";

fn attach_traces(
    dir: &Path,
    stage: &commit::Stage,
    mut spec: IncidentSpec,
    files: &[PathBuf],
    formats: &[Detected],
    sum: &mut Summary,
) -> Result<Vec<&'static str>, Error> {
    let mut new: Vec<Span> = Vec::new();
    for (f, format) in files.iter().zip(formats) {
        spans::read(f, format, &mut new, sum)?;
    }
    sum.read = new.len();
    sum.lap("read");
    let mut all = crate::archive::traces::read_spans(&dir.join("traces"))?;
    let before = all.len();
    all.append(&mut new);
    sum.duplicates = dedup(&mut all, |a, b| {
        (&a.trace_id, &a.span_id).cmp(&(&b.trace_id, &b.span_id))
    });
    sum.added = all.len().saturating_sub(before);
    let (have, step) = crate::archive::rows::metric_index(&dir.join("metrics"), TRACE_METRICS)?;
    let mut known: BTreeSet<String> = have.iter().map(|(e, _)| e.clone()).collect();
    known.extend(spec.entities.iter().map(|e| e.id.clone()));
    sum.lap("merge");
    let d = derive(&all, &known, &have, step.unwrap_or(60_000).max(1_000));
    sum.lap("derive");
    if d.orphans > 0 {
        sum.notes.push(format!(
            "{} spans whose parent is missing were kept as roots",
            d.orphans
        ));
    }
    if d.cycles > 0 {
        sum.notes.push(format!(
            "{} parent links that closed a cycle were cut",
            d.cycles
        ));
    }
    let added = add_edges(&mut spec, &d.edges);
    sum.notes.push(format!(
        "{added} dependencies added to incident.toml; {} series rows derived",
        d.rows.len()
    ));
    let traces = stage.path().join("traces");
    std::fs::create_dir_all(&traces).map_err(|e| Error::io(&traces, e))?;
    crate::archive::traces::write_spans(&traces.join("spans.parquet"), &all)?;
    let metrics = stage.path().join("metrics");
    std::fs::create_dir_all(&metrics).map_err(|e| Error::io(&metrics, e))?;
    crate::archive::write_metrics(&metrics.join(TRACE_METRICS), &d.rows)?;
    commit::write_spec(&spec, stage.path())?;
    sum.lap("write");
    Ok(vec!["traces", "metrics/traces.parquet", "incident.toml"])
}

/// Adds every edge to the callers' `depends_on`; returns how many were new.
fn add_edges(spec: &mut IncidentSpec, edges: &BTreeMap<String, BTreeSet<String>>) -> usize {
    let mut added = 0;
    for (caller, callees) in edges {
        let e = entity_mut(spec, caller);
        for c in callees {
            if !e.depends_on.contains(c) {
                e.depends_on.push(c.clone());
                added += 1;
            }
        }
    }
    added
}

fn entity_mut<'a>(spec: &'a mut IncidentSpec, id: &str) -> &'a mut EntitySpec {
    let i = match spec.entities.iter().position(|e| e.id == id) {
        Some(i) => i,
        None => {
            spec.entities.push(EntitySpec {
                id: id.to_string(),
                ..EntitySpec::default()
            });
            spec.entities.len() - 1
        }
    };
    &mut spec.entities[i]
}

fn attach_k8s(
    stage: &commit::Stage,
    mut spec: IncidentSpec,
    files: &[PathBuf],
    formats: &[Detected],
    sum: &mut Summary,
) -> Result<Vec<&'static str>, Error> {
    let mut w: BTreeMap<String, Workload> = BTreeMap::new();
    for (f, found) in files.iter().zip(formats) {
        k8s::read(f, found.lines, &mut w, sum)?;
    }
    sum.read = w.len();
    for (id, wl) in &w {
        let e = entity_mut(&mut spec, id);
        let before = e.clone();
        if wl.sidecar {
            e.sidecar = Some(true);
        }
        // Only the limits the objects state replace the configured ones.
        let r = e.resources.get_or_insert_with(Default::default);
        let w = &wl.resources;
        r.app_cpu = w.app_cpu.or(r.app_cpu);
        r.app_mem_bytes = w.app_mem_bytes.or(r.app_mem_bytes);
        r.sidecar_cpu = w.sidecar_cpu.or(r.sidecar_cpu);
        r.sidecar_mem_bytes = w.sidecar_mem_bytes.or(r.sidecar_mem_bytes);
        if e.resources == Some(crate::model::Resources::default()) {
            e.resources = None;
        }
        if *e != before {
            sum.added += 1;
        } else {
            sum.duplicates += 1;
        }
        if !wl.pods.is_empty() {
            let pods: Vec<String> = wl.pods.iter().map(|(p, n)| format!("{p} on {n}")).collect();
            sum.notes.push(format!("{id}: {}", pods.join(", ")));
        }
    }
    commit::write_spec(&spec, stage.path())?;
    Ok(vec!["incident.toml"])
}

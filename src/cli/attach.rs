//! `funnel attach`: logs, events, traces and Kubernetes objects into an existing archive.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};

use super::Exit;
use funnel::attach::{self, Format, Labels, Options, Part};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum What {
    /// Log lines: Loki query_range JSON, logcli --output=jsonl, or plain text with --format.
    Logs,
    /// Kubernetes events: kubectl get events -o json, kubernetes-event-exporter JSON lines.
    Events,
    /// Spans: OTLP JSON, Jaeger JSON, Tempo JSON.
    Traces,
    /// kubectl get pods,deployments -o json: resources, limits, sidecars.
    K8s,
}

#[derive(Debug, Args)]
pub(crate) struct AttachArgs {
    /// What the files hold.
    #[arg(value_enum)]
    what: What,
    /// The archive folder (with incident.toml).
    archive: PathBuf,
    /// The files to attach.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Force a format instead of detecting it: loki, logcli, kubectl, event-exporter, otlp,
    /// jaeger, tempo, k8s; for plain-text logs, a header format ending in <Content>, such as
    /// '<Date> <Time> <Level>: <Content>' (then --entity is required).
    #[arg(long)]
    format: Option<String>,
    /// Plain-text logs: the entity every line belongs to.
    #[arg(long)]
    entity: Option<String>,
    /// Log labels naming the entity, first present wins (repeatable; default app,
    /// app_kubernetes_io_name, service_name, container, job).
    #[arg(long = "entity-label")]
    entity_labels: Vec<String>,
    /// Log labels naming the pod (repeatable; default pod, pod_name).
    #[arg(long = "pod-label")]
    pod_labels: Vec<String>,
    /// Log labels naming the node (repeatable; default node_name, node, host).
    #[arg(long = "node-label")]
    node_labels: Vec<String>,
}

fn forced(a: &AttachArgs) -> anyhow::Result<Option<Format>> {
    let Some(f) = a.format.as_deref() else {
        return Ok(None);
    };
    if let Some(format) = Format::named(f) {
        return Ok(Some(format));
    }
    if !f.contains("<Content>") {
        bail!(
            "--format `{f}`: not a format name (loki, logcli, kubectl, event-exporter, otlp, jaeger, tempo, k8s) nor a plain-text header format with <Content>"
        );
    }
    if !matches!(a.what, What::Logs) {
        bail!("--format with a header format is for `attach logs` only");
    }
    let Some(entity) = a.entity.clone() else {
        bail!("plain-text logs need --entity (the service the lines belong to)");
    };
    Ok(Some(Format::Plain {
        header: f.to_string(),
        entity,
    }))
}

pub(crate) fn run(a: &AttachArgs) -> anyhow::Result<Exit> {
    let part = match a.what {
        What::Logs => Part::Logs,
        What::Events => Part::Events,
        What::Traces => Part::Traces,
        What::K8s => Part::K8s,
    };
    let mut labels = Labels::default();
    for (given, into) in [
        (&a.entity_labels, &mut labels.entity),
        (&a.pod_labels, &mut labels.pod),
        (&a.node_labels, &mut labels.node),
    ] {
        if !given.is_empty() {
            into.clone_from(given);
        }
    }
    let opts = Options {
        format: forced(a)?,
        labels,
    };
    let how = if opts.format.is_some() {
        "forced"
    } else {
        "detected"
    };
    let sum = attach::attach(&a.archive, part, &a.files, &opts)
        .with_context(|| format!("attaching to {}", a.archive.display()))?;
    for (f, format) in &sum.files {
        say!("{}: {format} ({how})", f.display())?;
    }
    for (why, n) in &sum.skipped {
        say!("warning: skipped {n} {why}")?;
    }
    for note in &sum.notes {
        say!("{note}")?;
    }
    if std::env::var_os("FUNNEL_TIMINGS").is_some() {
        let laps: Vec<String> = sum
            .timings
            .iter()
            .map(|(n, ms)| format!("{n} {ms:.1} ms"))
            .collect();
        say!("timings: {}", laps.join(", "))?;
    }
    say!(
        "read {} rows: {} added, {} already in {}",
        sum.read,
        sum.added,
        sum.duplicates,
        a.archive.display()
    )?;
    Ok(Exit::Ok)
}

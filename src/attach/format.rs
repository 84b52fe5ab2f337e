//! Input formats: their `--format` names, and detection from a file's first bytes when none
//! is forced.

use std::path::Path;

use super::{Part, events, input, k8s, logs, spans};
use crate::error::Error;

/// An input format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Loki `query_range` JSON.
    Loki,
    /// `logcli --output=jsonl`.
    Logcli,
    /// Plain text with a `<Content>` header format, all lines of one entity.
    Plain {
        /// The header format (`<Date> <Time> <Level>: <Content>`).
        header: String,
        /// The entity every line belongs to.
        entity: String,
    },
    /// `kubectl get events -o json` (core/v1 or events.k8s.io/v1).
    Kubectl,
    /// kubernetes-event-exporter JSON lines.
    EventLines,
    /// OTLP JSON.
    Otlp,
    /// Jaeger JSON.
    Jaeger,
    /// Tempo JSON.
    Tempo,
    /// `kubectl get pods,deployments -o json`.
    K8sObjects,
}

impl Format {
    /// The name `--format` takes.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Format::Loki => "loki",
            Format::Logcli => "logcli",
            Format::Plain { .. } => "plain",
            Format::Kubectl => "kubectl",
            Format::EventLines => "event-exporter",
            Format::Otlp => "otlp",
            Format::Jaeger => "jaeger",
            Format::Tempo => "tempo",
            Format::K8sObjects => "k8s",
        }
    }

    /// The format a `--format` name forces (plain text takes a header format instead).
    #[must_use]
    pub fn named(name: &str) -> Option<Format> {
        [
            Format::Loki,
            Format::Logcli,
            Format::Kubectl,
            Format::EventLines,
            Format::Otlp,
            Format::Jaeger,
            Format::Tempo,
            Format::K8sObjects,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }
}

/// A file's format and the layout of its JSON, both read from one peek at its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The format, forced or detected.
    pub format: Format,
    /// Whether its JSON is read a line at a time ([`input::one_value_per_line`]).
    pub lines: bool,
}

/// The format of `path` for `part` (forced, or detected from content) and its layout.
///
/// # Errors
/// The file cannot be read or its format is not recognised.
pub fn detect(path: &Path, part: Part, forced: Option<&Format>) -> Result<Detected, Error> {
    let head = input::peek(path)?;
    let lines = input::one_value_per_line(&head);
    let format = match forced {
        Some(f) => f.clone(),
        None => detected(path, part, &head)?,
    };
    Ok(Detected { format, lines })
}

fn detected(path: &Path, part: Part, head: &str) -> Result<Format, Error> {
    let found = match part {
        Part::Logs => logs::detect(head),
        Part::Events => events::detect(head),
        Part::Traces => spans::detect(head),
        Part::K8s => k8s::detect(head),
    };
    found.ok_or_else(|| {
        let expected = match part {
            Part::Logs => "Loki query_range JSON or logcli JSON lines; for plain text give --format '<Date> <Time> <Level>: <Content>' and --entity",
            Part::Events => "kubectl get events -o json, or kubernetes-event-exporter JSON lines",
            Part::Traces => "OTLP JSON (resourceSpans), Jaeger JSON (data[].spans) or Tempo JSON (batches)",
            Part::K8s => "kubectl get pods,deployments -o json",
        };
        let start: String = head.trim_start().chars().take(60).collect();
        Error::input(
            path,
            format!("format not recognised (starts with `{start}`); expected {expected}, or force one with --format"),
        )
    })
}

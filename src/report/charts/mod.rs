//! Chart models: what each chart shows, decided from the evidence. Rendering is `svg`'s job,
//! so the choice of series can be tested without reading SVG.

use crate::evidence::Context;
use crate::model::{Kind, SeriesKey};
use crate::verdict::Verdict;

mod root_cause;
pub use root_cause::root_cause;

/// Line style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// Solid: the series the chart is about.
    Solid,
    /// Dashed (a second source, a reference).
    Dashed,
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Legend text.
    pub label: String,
    /// (epoch ms, value); NaN breaks the line.
    pub points: Vec<(i64, f64)>,
    /// Style.
    pub dash: Dash,
    /// Palette index; lines of one entity share a colour.
    pub color: Option<usize>,
}

/// A time-series chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name under `charts/`.
    pub file: String,
    /// The caption drawn above the plot.
    pub title: String,
    /// Y axis label with unit.
    pub y_label: String,
    /// X range, epoch ms.
    pub x_range: (i64, i64),
    /// Baseline window.
    pub baseline: (i64, i64),
    /// Incident window.
    pub incident: (i64, i64),
    /// Series on the left axis, drawn (and listed in the legend) in this order.
    pub lines: Vec<Line>,
    /// Horizontal references (limits).
    pub hlines: Vec<(f64, String)>,
    /// Vertical markers (alert, onset, trigger, events).
    pub markers: Vec<(i64, String)>,
    /// A note in the corner (the data ends while the incident is ongoing).
    pub note: Option<String>,
    /// A line on its own right-hand axis, with that axis's title: the request rate beside a
    /// resource that tracks it.
    pub right: Option<(String, Line)>,
}

impl Chart {
    /// The y range covering every finite point and reference.
    #[must_use]
    pub fn y_range(&self) -> (f64, f64) {
        let ys = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .chain(self.hlines.iter().map(|h| h.0))
            .filter(|y| y.is_finite());
        ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        })
    }
}

/// A human axis title with its unit: `p99 latency (ms)`, `CPU (cores)`.
fn y_label(metric: &str) -> String {
    use crate::model::vocab::Dimension;
    let unit = match crate::model::vocab::dimension(metric) {
        Some(Dimension::Rate) => "per second",
        Some(Dimension::Bytes) => "bytes",
        Some(Dimension::Ratio) => "share, 0–1",
        Some(d) => d.unit(),
        None => "value",
    };
    format!(
        "{} ({unit})",
        crate::evidence::sources::metric_label(metric)
    )
}

fn base(ctx: &Context, file: &str, title: String, metric: &str) -> Chart {
    let g = ctx.aligned.grid;
    let w = ctx.windows;
    Chart {
        file: file.into(),
        title,
        y_label: y_label(metric),
        x_range: (g.t0, g.time(g.len)),
        baseline: (w.baseline_start, w.baseline_end),
        incident: (w.start, w.end),
        lines: Vec::new(),
        hlines: Vec::new(),
        markers: vec![(w.fired_at, "alert".into())],
        note: None,
        right: None,
    }
}

/// The trusted series of `key` (sources resolved, see `evidence::sources`) as a line.
fn line(
    ctx: &Context,
    key: &SeriesKey,
    label: String,
    dash: Dash,
    color: Option<usize>,
) -> Option<Line> {
    Some(line_of(ctx, ctx.get(key)?.values, label, dash, color))
}

fn line_of(ctx: &Context, values: &[f64], label: String, dash: Dash, color: Option<usize>) -> Line {
    let points = values
        .iter()
        .enumerate()
        .map(|(i, y)| (ctx.time(i), *y))
        .collect();
    Line {
        label,
        points,
        dash,
        color,
    }
}

/// The alert metric with the windows shaded and the alert marked.
#[must_use]
pub fn alert(ctx: &Context) -> Option<Chart> {
    let a = &ctx.spec.alert;
    let metric = ctx.aliased(&a.metric);
    let mut c = base(
        ctx,
        "alert.svg",
        format!(
            "{} {} (the alert)",
            a.entity,
            crate::evidence::sources::metric_label(metric)
        ),
        metric,
    );
    c.lines.push(line(
        ctx,
        &SeriesKey::entity(&a.entity, metric),
        format!("{} {metric}", a.entity),
        Dash::Solid,
        Some(1),
    )?);
    if let Some(onset) = ctx.scope.onset {
        c.markers.push((ctx.time(onset), "onset".into()));
    }
    Some(c)
}

/// Per-pod usage of one container against its limit, every source drawn (a second source
/// dashed), so a disagreement is visible.
fn container_vs_limit(
    ctx: &Context,
    svc: &str,
    container: &str,
    metric: &str,
    resource: &str,
    title: String,
) -> Option<Chart> {
    let mut c = base(ctx, "root-cause.svg", title, metric);
    let mut sources: Vec<Option<String>> = ctx
        .series()
        .iter()
        .filter(|s| {
            s.key.entity == svc
                && s.key.container == container
                && s.key.metric == metric
                && s.key.pod.is_some()
        })
        .map(|s| s.key.source.clone())
        .collect();
    sources.sort();
    sources.dedup();
    for (pi, pod) in ctx.topo.pods_of(svc).into_iter().enumerate() {
        for (si, src) in sources.iter().enumerate() {
            let key = SeriesKey {
                pod: Some(pod.into()),
                container: container.into(),
                source: src.clone(),
                ..SeriesKey::entity(svc, metric)
            };
            let label = format!(
                "{pod}{}",
                src.as_ref().map(|s| format!(" [{s}]")).unwrap_or_default()
            );
            // The exact series (its source named), not the trusted one: every collector drawn.
            if let Some(series) = ctx.series().iter().find(|s| s.key == key) {
                let dash = if si == 0 { Dash::Solid } else { Dash::Dashed };
                c.lines
                    .push(line_of(ctx, &series.values, label, dash, Some(pi)));
            }
        }
    }
    if c.lines.is_empty() {
        c.lines.push(line(
            ctx,
            &SeriesKey {
                container: container.into(),
                ..SeriesKey::entity(svc, metric)
            },
            format!("{svc} {container}"),
            Dash::Solid,
            None,
        )?);
    }
    if let Some(l) = ctx.limit(svc, None, container, resource) {
        c.hlines.push((
            l,
            format!("limit {}", crate::evidence::sources::fmt_val(metric, l)),
        ));
    }
    Some(c)
}

/// Client-side latency of every user of `dep` towards it: the peer comparison.
#[must_use]
pub fn peers(ctx: &Context, dep: &str, file: &str) -> Option<Chart> {
    let mut c = base(
        ctx,
        file,
        format!("Client-side latency to {dep}, per service"),
        "dep_latency_ms",
    );
    for (i, u) in ctx.topo.users_of(dep).into_iter().enumerate() {
        if let Some(l) = line(
            ctx,
            &SeriesKey {
                target: Some(dep.into()),
                ..SeriesKey::entity(u, "dep_latency_ms")
            },
            format!("{u} → {dep}"),
            Dash::Solid,
            Some(i),
        ) {
            c.lines.push(l);
        }
    }
    if let Some(l) = line(
        ctx,
        &SeriesKey::entity(dep, "server_latency_ms"),
        format!("{dep} server side"),
        Dash::Dashed,
        Some(7),
    ) {
        c.lines.push(l);
    }
    (!c.lines.is_empty()).then_some(c)
}

fn entity_lines(
    ctx: &Context,
    file: &str,
    title: String,
    metric: &str,
    entities: &[&str],
) -> Option<Chart> {
    let mut c = base(ctx, file, title, metric);
    for (i, e) in entities.iter().enumerate() {
        if let Some(l) = line(
            ctx,
            &SeriesKey::entity(e, metric),
            e.to_string(),
            Dash::Solid,
            Some(i),
        ) {
            c.lines.push(l);
        }
    }
    (!c.lines.is_empty()).then_some(c)
}

/// The peer comparisons that eliminated a storage or third-party hypothesis, one chart per
/// shared dependency the alert's service calls (else every one): the first is `peers.svg`, the
/// others `peers-<name>.svg`.
#[must_use]
pub fn eliminated_storage(ctx: &Context, verdict: &Verdict) -> Vec<Chart> {
    let called = ctx.topo.deps_of(&ctx.spec.alert.entity);
    let all: Vec<&str> = verdict
        .hypotheses
        .iter()
        .filter(|h| {
            h.status == crate::rules::Status::Eliminated
                && match h.kind {
                    Kind::Mysql | Kind::Redis => h.rule == "peer-sharing-storage-healthy",
                    Kind::ThirdParty => h.rule == "third-party-callers",
                    _ => false,
                }
        })
        .map(|h| h.culprit.as_str())
        .collect();
    let mine: Vec<&str> = all.iter().copied().filter(|c| called.contains(c)).collect();
    let pick = if mine.is_empty() { all } else { mine };
    pick.into_iter()
        .enumerate()
        .filter_map(|(i, dep)| {
            let file = if i == 0 {
                "peers.svg".to_string()
            } else {
                let name: String = dep
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                format!("peers-{name}.svg")
            };
            peers(ctx, dep, &file)
        })
        .collect()
}

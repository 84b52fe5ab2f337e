//! The timeline: every row placed by the timing model (`verdict::timing`), and each row that
//! describes a series carries the series and threshold it claims, so tests can check it.

use crate::evidence::Context;
use crate::evidence::sources::{fmt_val, metric_label};
use crate::model::{SeriesKey, fmt_ms};
use crate::verdict::Verdict;
use crate::verdict::timing::{self, AT_LIMIT, Mark, Timing};

use super::narrative::hms;

/// What a row claims about a series: from `at` on, it stays beyond `threshold` (sustained).
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The series.
    pub key: SeriesKey,
    /// The value the series must cross, in the series' unit.
    pub threshold: f64,
    /// Beyond means above (else below).
    pub up: bool,
}

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Epoch ms.
    pub at: i64,
    /// What happened.
    pub text: String,
    /// The series claim, for rows about a series.
    pub claim: Option<Claim>,
}

fn claim(key: &SeriesKey, m: &Mark, up: bool) -> Option<Claim> {
    Some(Claim {
        key: key.clone(),
        threshold: m.threshold,
        up,
    })
}

/// The rows, sorted by time.
#[must_use]
pub fn rows(ctx: &Context, v: &Verdict) -> Vec<Row> {
    let t = v.timing(ctx);
    let mut rows: Vec<Row> = ctx
        .events
        .iter()
        .filter(|e| e.ts_ms <= ctx.windows.end)
        .map(|e| Row {
            at: e.ts_ms,
            text: event_text(e),
            claim: None,
        })
        .collect();
    trigger_row(ctx, v, &t, &mut rows);
    limit_row(ctx, v, &t, &mut rows);
    onset_rows(ctx, &t, &mut rows);
    rows.push(Row {
        at: ctx.windows.fired_at,
        text: format!(
            "alert fires: `{}` {}{}",
            ctx.spec.alert.entity,
            ctx.spec.alert.metric,
            t.detected_after_ms()
                .filter(|d| *d >= 0)
                .map(|d| format!(" ({} after the onset)", super::narrative::exact_duration(d)))
                .unwrap_or_default()
        ),
        claim: None,
    });
    match (t.recovered, t.onset.is_some()) {
        (Some(r), _) => rows.push(Row {
            at: r,
            text: format!(
                "`{}` recovers: {} back within its threshold",
                ctx.spec.alert.entity,
                metric_label(ctx.aliased(&ctx.spec.alert.metric))
            ),
            claim: None,
        }),
        (None, true) => rows.push(Row {
            at: t.data_end,
            text: "end of the data: the incident is still ongoing".into(),
            claim: None,
        }),
        (None, false) => {}
    }
    rows.sort_by(|a, b| a.at.cmp(&b.at).then(a.text.cmp(&b.text)));
    rows.dedup();
    rows
}

fn trigger_row(ctx: &Context, v: &Verdict, t: &Timing, rows: &mut Vec<Row>) {
    let (Some(tr), Some(m)) = (&v.trigger, &t.trigger) else {
        return;
    };
    let Some(r) = ctx.metric(&tr.culprit, "requests_per_s") else {
        return;
    };
    rows.push(Row {
        at: m.at,
        text: format!(
            "traffic to `{}` starts rising: above {} (baseline median {} + 3σ), later {} (median after the rise, {})",
            tr.culprit,
            fmt_val("requests_per_s", m.threshold),
            fmt_val("requests_per_s", r.score.base),
            fmt_val("requests_per_s", r.score.level),
            r.score.pct()
        ),
        claim: claim(r.key, m, true),
    });
}

fn limit_row(ctx: &Context, v: &Verdict, t: &Timing, rows: &mut Vec<Row>) {
    let (Some(rc), Some(l)) = (&v.root_cause, &t.limit) else {
        return;
    };
    let Some(view) = ctx.pod_metric(&rc.culprit, &l.pod, &l.container, &l.metric) else {
        return;
    };
    rows.push(Row {
        at: l.mark.at,
        text: format!(
            "`{}`: {} {} of pod {} reaches {:.0} % of its limit ({} of {}; first pod to)",
            rc.culprit,
            l.container,
            metric_label(&l.metric),
            l.pod,
            AT_LIMIT * 100.0,
            fmt_val(&l.metric, l.mark.value),
            fmt_val(&l.metric, l.limit)
        ),
        claim: claim(view.key, &l.mark, true),
    });
}

fn onset_rows(ctx: &Context, t: &Timing, rows: &mut Vec<Row>) {
    let alert = &ctx.spec.alert.entity;
    if let (Some(o), Some(s)) = (&t.onset, ctx.alert_series()) {
        let metric = s.key.metric.as_str();
        rows.push(Row {
            at: o.at,
            text: format!(
                "onset: `{alert}` {} beyond {} (baseline median {} ± 3σ), at {}",
                metric_label(metric),
                fmt_val(metric, o.threshold),
                fmt_val(metric, s.score.base),
                fmt_val(metric, o.value)
            ),
            claim: claim(s.key, o, s.score.direction == crate::detect::Direction::Up),
        });
    }
    for e in ctx.scope.affected() {
        if let Some((m, key, what)) = first_symptom(ctx, e) {
            if e == alert && t.onset.as_ref().is_some_and(|o| o.at <= m.at) {
                continue;
            }
            rows.push(Row {
                at: m.at,
                text: format!(
                    "`{e}` degrades: {what} rises above {} (baseline median + 3σ)",
                    fmt_val(&key.metric, m.threshold)
                ),
                claim: claim(&key, &m, true),
            });
        }
    }
}

const SYMPTOMS: &[&str] = &[
    "latency_p99_ms",
    "latency_avg_ms",
    "errors_per_s",
    "dep_latency_ms",
    "dep_errors_per_s",
];

/// The earliest rising symptom series of an entity, with its mark and a label.
fn first_symptom(ctx: &Context, e: &str) -> Option<(Mark, SeriesKey, String)> {
    let h = ctx.scope.of(e);
    h.onset?;
    ctx.find_entity(e, |k| {
        k.pod.is_none() && k.container == "app" && SYMPTOMS.contains(&k.metric.as_str())
    })
    .into_iter()
    // The same rises the scope counts as symptoms.
    .filter(|v| {
        v.score.up(if v.key.metric.starts_with("latency") {
            crate::evidence::scope::LATENCY_RISE
        } else {
            crate::evidence::scope::DEP_LATENCY_RISE
        })
    })
    .filter_map(|v| {
        let m = timing::onset_mark(ctx, &v)?;
        let what = match &v.key.target {
            Some(t) => format!("{} to {t}", metric_label(&v.key.metric)),
            None => metric_label(&v.key.metric),
        };
        Some((m, v.key.clone(), what))
    })
    .min_by(|a, b| a.0.at.cmp(&b.0.at).then(a.2.cmp(&b.2)))
}

/// The time column: `HH:MM:SS`, with the date on every row when the rows span days.
#[must_use]
pub fn stamps(rows: &[Row]) -> Vec<String> {
    let day = |ms: i64| fmt_ms(ms, "%Y-%m-%d");
    let multi = rows
        .first()
        .zip(rows.last())
        .is_some_and(|(a, b)| day(a.at) != day(b.at));
    rows.iter()
        .map(|r| {
            if multi {
                fmt_ms(r.at, "%Y-%m-%d %H:%M:%S")
            } else {
                hms(r.at)
            }
        })
        .collect()
}

/// An event as the report quotes it: kind, entity and detail (`deploy `cart`: v1 -> v2`).
pub(super) fn event_text(e: &crate::model::EventRow) -> String {
    let detail = e.detail.as_deref().map(|d| format!(": {d}"));
    format!("{} `{}`{}", e.kind, e.entity, detail.unwrap_or_default())
}

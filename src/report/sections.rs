//! The reviewers' sections of the postmortem, in the order of the common templates (Google SRE
//! book example, PagerDuty, Atlassian): header, detection, root cause, trigger, contributing
//! factors, mechanism, resolution, what we don't know, action items, lessons, timeline.

use std::fmt::Write as _;

use super::narrative::{exact_duration, hms, trigger_clause};
use super::{actions, condition, confidence, mechanism, timeline, unknowns};
use crate::detect::Direction;
use crate::evidence::Context;
use crate::evidence::sources::{fmt_val, metric_label};
use crate::model::{Instant, fmt_ms};
use crate::pipeline::Analysis;
use crate::rules::Status;
use crate::verdict::timing::{self, Timing};

const FILL: &str = "_to fill in_";

fn esc(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The header table.
pub fn header(md: &mut String, an: &Analysis) {
    let ctx = &an.ctx;
    let pm = ctx.spec.postmortem.clone().unwrap_or_default();
    let list = |v: &[String]| {
        if v.is_empty() {
            FILL.to_string()
        } else {
            esc(&v.join(", "))
        }
    };
    let w = ctx.windows;
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(
        md,
        "| Status | {} |",
        pm.status.as_deref().map_or(format!("draft ({FILL})"), esc)
    );
    let _ = writeln!(
        md,
        "| Severity | {} |",
        pm.severity.as_deref().map_or(FILL.to_string(), esc)
    );
    let _ = writeln!(md, "| Authors | {} |", list(&pm.authors));
    let _ = writeln!(md, "| Owners | {} |", list(&pm.owners));
    let _ = writeln!(md, "| Incident | `{}` |", ctx.id);
    let _ = writeln!(
        md,
        "| Alert | `{}` {} at {} |",
        ctx.spec.alert.entity,
        ctx.spec.alert.metric,
        Instant(w.fired_at)
    );
    let _ = writeln!(
        md,
        "| Incident window | {} – {} |",
        fmt_ms(w.start, "%Y-%m-%d %H:%M UTC"),
        fmt_ms(w.end, "%H:%M UTC")
    );
    let _ = writeln!(
        md,
        "| Baseline | {} – {} |",
        fmt_ms(w.baseline_start, "%Y-%m-%d %H:%M UTC"),
        fmt_ms(w.baseline_end, "%H:%M UTC")
    );
    let _ = writeln!(
        md,
        "| Archive | `{}`: {} metric files, {} samples, {} log lines, {} events; grid step {} s |",
        an.source.dir,
        an.source.metric_files,
        an.source.metric_rows,
        an.source.log_lines,
        an.source.events,
        ctx.aligned.grid.step / 1000
    );
    let _ = writeln!(md, "| Analyzer | funnel {} |\n", super::markdown::VERSION);
    let _ = writeln!(
        md,
        "Numbers name their statistic: *baseline median* (the hour before the incident window), *median after the onset* (of the anomalous run), *95th percentile* or *max* of the incident window. Times are UTC; an event's time is the first sample of a sustained breach of the threshold given with it.\n"
    );
}

/// Time to detect and the earliest signal that would have paged sooner.
pub fn detection(md: &mut String, ctx: &Context, t: &Timing) {
    let _ = writeln!(md, "## Detection\n");
    let Some(o) = &t.onset else {
        let _ = writeln!(
            md,
            "The alert fired at {} UTC; its series shows no sustained breach, so there is no onset to measure detection from.\n",
            hms(t.fired_at)
        );
        return;
    };
    if t.fired_at < o.at {
        let _ = writeln!(
            md,
            "- **Time to detect**: none to measure: the alert fired at {} UTC, {} (onset {} UTC).",
            hms(t.fired_at),
            super::narrative::fired_relative(t.fired_at, o.at),
            hms(o.at)
        );
    } else {
        let _ = writeln!(
            md,
            "- **Time to detect**: {} (onset {} UTC → alert {} UTC).",
            exact_duration(t.fired_at - o.at),
            hms(o.at),
            hms(t.fired_at)
        );
    }
    if let Some((at, text)) = earliest_signal(ctx, t).filter(|(at, _)| *at < t.fired_at) {
        let _ = writeln!(
            md,
            "- **Earliest signal**: {text} at {} UTC; an alert on it would have paged {} sooner.",
            hms(at),
            exact_duration(t.fired_at - at)
        );
    }
    md.push('\n');
}

/// The earliest sustained breach among the alert service's own series and the root cause's
/// limit.
fn earliest_signal(ctx: &Context, t: &Timing) -> Option<(i64, String)> {
    let alert = &ctx.spec.alert.entity;
    let mut best: Option<(i64, String)> = t.limit.as_ref().map(|l| {
        (
            l.mark.at,
            format!(
                "{} {} of pod {} crossed 90 % of its limit ({})",
                l.container,
                metric_label(&l.metric),
                l.pod,
                fmt_val(&l.metric, l.mark.threshold)
            ),
        )
    });
    // Symptoms only: usage rising with traffic is load, not yet trouble.
    let symptom = |m: &str| {
        matches!(
            m,
            "latency_p99_ms"
                | "latency_avg_ms"
                | "errors_per_s"
                | "dep_latency_ms"
                | "dep_errors_per_s"
                | "goroutines"
        )
    };
    for v in ctx.find_entity(alert, |k| k.pod.is_none() && k.container == "app") {
        let s = v.score;
        if !symptom(&v.key.metric)
            || s.direction == Direction::Flat
            || s.rel.abs() < 0.25
            || !s.testable()
        {
            continue;
        }
        let Some(m) = timing::onset_mark(ctx, &v) else {
            continue;
        };
        let target = v
            .key
            .target
            .as_deref()
            .map_or(String::new(), |t| format!(" to {t}"));
        let text = format!(
            "`{alert}` {}{target} crossed {} (baseline median {} ± 3σ)",
            metric_label(&v.key.metric),
            fmt_val(&v.key.metric, m.threshold),
            fmt_val(&v.key.metric, s.base)
        );
        if best.as_ref().is_none_or(|b| (m.at, &text) < (b.0, &b.1)) {
            best = Some((m.at, text));
        }
    }
    best
}

/// Root cause (as a condition, with the confidence explained) and trigger.
pub fn root_cause(md: &mut String, an: &Analysis, t: &Timing) {
    let (ctx, v) = (&an.ctx, &an.verdict);
    let _ = writeln!(md, "## Root cause\n");
    match &v.root_cause {
        Some(rc) => {
            let cond = condition::statement(ctx, v, t).map_or(String::new(), |c| format!(": {c}"));
            let _ = writeln!(
                md,
                "**{}**{cond} (`{}` `{}`).\n",
                rc.kind.describe(&rc.culprit),
                rc.kind,
                rc.culprit
            );
            if let Some(h) = v.hypothesis(rc.kind, &rc.culprit) {
                for o in h.outcomes.iter().filter(|o| o.status == Status::Supported) {
                    let _ = writeln!(md, "- `{}`: {}", o.rule, o.evidence);
                }
            }
            let _ = writeln!(md, "\n**Confidence {:.2}**, from:\n", rc.confidence);
            for line in confidence::explain(v) {
                let _ = writeln!(md, "- {line}");
            }
        }
        None => {
            let _ = writeln!(
                md,
                "**Not determined.** No hypothesis is supported clearly enough over the others. Leads, best first:\n"
            );
            for r in v.ranking.iter().take(8) {
                let status = v.hypothesis(r.kind, &r.culprit).map(|h| h.status);
                if status == Some(Status::Eliminated) {
                    continue;
                }
                let reason = v
                    .reasons
                    .get(&r.culprit)
                    .filter(|_| status != Some(Status::Supported))
                    .map_or(String::new(), |w| format!(": {w}"));
                let _ = writeln!(
                    md,
                    "- `{}` `{}` (score {:.2}){reason}",
                    r.kind, r.culprit, r.score
                );
            }
        }
    }
    md.push('\n');
    if let (Some(tr), Some(clause)) = (&v.trigger, trigger_clause(ctx, v, t)) {
        let _ = writeln!(md, "## Trigger\n\n{clause}.\n");
        if let Some(h) = v.hypothesis(tr.kind, &tr.culprit) {
            let _ = writeln!(md, "- `{}`: {}\n", h.rule, h.evidence);
        }
    }
}

/// Changes before the window and configuration findings.
pub fn contributing(md: &mut String, an: &Analysis) {
    let (ctx, v) = (&an.ctx, &an.verdict);
    let mut items: Vec<String> = ctx
        .events
        .iter()
        .filter(|e| e.ts_ms < ctx.windows.start)
        .map(|e| {
            format!(
                "{} {} (before the incident window)",
                fmt_ms(e.ts_ms, "%Y-%m-%d %H:%M UTC"),
                super::timeline::event_text(e)
            )
        })
        .collect();
    items.extend(
        v.findings
            .iter()
            .filter(|f| f.kind == "configuration")
            .map(|f| format!("configuration of `{}`: {}", f.entity, f.detail)),
    );
    let _ = writeln!(md, "## Contributing factors\n");
    if items.is_empty() {
        let _ = writeln!(md, "None in the data; {FILL} (what only people know).\n");
        return;
    }
    for i in items {
        let _ = writeln!(md, "- {i}");
    }
    md.push('\n');
}

/// Mechanism and sizing.
pub fn mechanism(md: &mut String, an: &Analysis) {
    let b = mechanism::bullets(&an.ctx, &an.verdict);
    if b.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Mechanism\n");
    for line in b {
        let _ = writeln!(md, "- {line}");
    }
    md.push('\n');
}

/// Resolution and recovery.
pub fn resolution(md: &mut String, t: &Timing) {
    let _ = writeln!(md, "## Resolution and recovery\n");
    match t.recovered {
        Some(r) => {
            let _ = writeln!(
                md,
                "The alert's series was back within its threshold from {} UTC. What was done to resolve it: {FILL}.\n",
                hms(r)
            );
        }
        None => {
            let _ = writeln!(
                md,
                "Not in the data: the archive ends at {} UTC with the incident still ongoing. What was done and when it recovered: {FILL}.\n",
                hms(t.data_end)
            );
        }
    }
}

/// What we don't know, and what would overturn the verdict.
pub fn unknowns(md: &mut String, an: &Analysis) {
    let _ = writeln!(md, "## What we don't know\n");
    for u in unknowns::unknowns(&an.ctx, &an.verdict) {
        let _ = writeln!(md, "- {u}");
    }
    let _ = writeln!(md, "\nWhat would overturn this verdict:\n");
    for f in unknowns::falsifiers(&an.ctx, &an.verdict) {
        let _ = writeln!(md, "- {f}");
    }
    md.push('\n');
}

/// Action items: what to change, by type and priority; owners are left for the review to fill.
pub fn action_items(md: &mut String, an: &Analysis) {
    let _ = writeln!(
        md,
        "## Action items\n\n| Type | Priority | Action | Owner | Done when |\n|---|---|---|---|---|"
    );
    for i in actions::items(&an.ctx, &an.verdict) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {FILL} | {} |",
            i.action.as_str(),
            i.priority,
            esc(&i.text),
            esc(&i.done_when)
        );
    }
    md.push('\n');
}

/// Lessons learned: placeholders for what only people know.
pub fn lessons(md: &mut String) {
    let _ = writeln!(
        md,
        "## Lessons learned\n\n- What went well: {FILL}\n- What went wrong: {FILL}\n- Where we got lucky: {FILL}\n"
    );
}

/// The timeline table.
pub fn timeline(md: &mut String, an: &Analysis) {
    let rows = timeline::rows(&an.ctx, &an.verdict);
    let stamps = timeline::stamps(&rows);
    let _ = writeln!(md, "## Timeline (UTC)\n\n| Time | Event |\n|---|---|");
    for (r, s) in rows.iter().zip(stamps) {
        let _ = writeln!(md, "| {s} | {} |", esc(&r.text));
    }
    md.push('\n');
}

//! The "Log evidence" section and chart: the top new or surging templates of each degraded
//! entity, with counts against the baseline.

use std::fmt::Write as _;

use super::charts::{Chart, Dash, Line};
use crate::evidence::Context;
use crate::model::clock_s;

const TOP: usize = 5;

/// Characters of a template shown: some statements log a whole response body (a list of
/// hundreds of tickets), which would fill pages of the postmortem.
const SHOWN: usize = 400;

fn esc(s: &str) -> String {
    let mut out: String = s.chars().take(SHOWN).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out.replace('|', "\\|").replace('`', "'")
}

/// Markdown for the section, or None when the archive has no logs.
#[must_use]
pub fn section(ctx: &Context, chart: Option<&str>) -> Option<String> {
    if ctx.logs.lines.is_empty() {
        return None;
    }
    let mut md = String::from("## Log evidence\n\n");
    let shown = Shown::of(ctx);
    let mut any = false;
    for (n, e) in shown.entities.iter().enumerate() {
        any |= templates_table(&mut md, ctx, e, n >= shown.degraded);
    }
    if !any {
        md.push_str("No entity logs anything new or surging.\n\n");
    }
    if !shown.quiet.is_empty() {
        let _ = writeln!(
            md,
            "Nothing new or surging in the logs of {}.\n",
            shown.quiet.join(", ")
        );
    }
    falls(ctx, &mut md);
    if let Some(file) = chart {
        let _ = writeln!(md, "![log template rates](charts/{file})\n");
        for l in chart_legend(ctx) {
            let _ = writeln!(md, "- {l}");
        }
        md.push('\n');
    }
    Some(md.replace("Severity::", ""))
}

/// Which entities' logs the section lists.
struct Shown<'c> {
    /// The degraded entities with logs, then the calm ones that log new or surging warnings
    /// or errors.
    entities: Vec<&'c str>,
    /// How many of `entities` are degraded (they come first).
    degraded: usize,
    /// Entities with logs and nothing notable in them, named in one sentence.
    quiet: Vec<&'c str>,
}

impl<'c> Shown<'c> {
    fn of(ctx: &'c Context) -> Self {
        let mut entities: Vec<&str> = ctx.scope.affected();
        entities.retain(|e| ctx.logs.has_logs(e));
        let degraded = entities.len();
        // An entity whose metrics stayed normal can still log new or surging warnings and
        // errors, which the culprit ranking weighs: they are shown too, after the degraded
        // entities.
        let calm: Vec<&str> = ctx
            .logs
            .lines
            .keys()
            .map(String::as_str)
            .filter(|e| {
                !entities.contains(e)
                    && ctx
                        .logs
                        .notable_of(e)
                        .any(|t| t.severity >= crate::logs::evidence::Severity::Warn)
            })
            .collect();
        entities.extend(calm);
        let quiet: Vec<&str> = ctx
            .logs
            .lines
            .keys()
            .map(String::as_str)
            .filter(|e| !entities.contains(e) && ctx.logs.notable_of(e).next().is_none())
            .collect();
        Shown {
            entities,
            degraded,
            quiet,
        }
    }
}

/// `e`'s top templates against the baseline, and examples of their lines; false (and nothing
/// written) when it has no notable template.
fn templates_table(md: &mut String, ctx: &Context, e: &str, calm: bool) -> bool {
    let top: Vec<_> = ctx.logs.notable_of(e).take(TOP).collect();
    if top.is_empty() {
        return false;
    }
    let w = ctx.windows;
    let (bm, im) = (
        (w.baseline_end - w.baseline_start) / 60_000,
        (w.end - w.start) / 60_000,
    );
    let (b, i) = ctx.logs.lines[e];
    let calm = if calm {
        "metrics within baseline; "
    } else {
        ""
    };
    let _ = writeln!(
        md,
        "**{e}** ({calm}{b} lines in the baseline, {i} in the incident window):\n\n| Template | Level | Baseline ({bm} min) | Incident ({im} min) | First seen |\n|---|---|---|---|---|"
    );
    for t in &top {
        // A template already logged in the baseline was not first seen in the incident.
        let first = if t.baseline > 0 {
            "in the baseline".to_string()
        } else {
            t.first_seen.map_or_else(String::new, clock_s)
        };
        let tag = if t.new {
            "new"
        } else {
            &format!("×{:.0}", t.ratio)
        };
        let _ = writeln!(
            md,
            "| `{}` | {:?} | {} | {} ({tag}) | {first} |",
            esc(&t.template),
            t.severity,
            t.baseline,
            t.incident
        );
    }
    md.push('\n');
    examples(md, &top);
    true
}

/// A fall this strong (a Poisson z-score) is listed.
const FALL_SHOWN: f64 = 3.0;

/// Templates that fell against their share of their entity's lines: a code path that now
/// stops half-way logs its first steps and not the later ones. Strongest entities first.
fn falls(ctx: &Context, md: &mut String) {
    // Templates come grouped by entity.
    let mut by_entity: Vec<Vec<&crate::logs::evidence::TemplateStat>> = ctx
        .logs
        .templates
        .chunk_by(|a, b| a.entity == b.entity)
        .map(|ts| {
            let mut fell: Vec<_> = ts.iter().filter(|t| t.fall >= FALL_SHOWN).collect();
            fell.sort_by(|a, b| b.fall.total_cmp(&a.fall).then(a.template.cmp(&b.template)));
            fell
        })
        .filter(|fell| !fell.is_empty())
        .collect();
    if by_entity.is_empty() {
        return;
    }
    by_entity.sort_by(|a, b| {
        b[0].fall
            .total_cmp(&a[0].fall)
            .then(a[0].entity.cmp(&b[0].entity))
    });
    md.push_str(
        "Log statements that fell silent against the rest of their service's lines (fewer \
         requests lower every template alike; one step falling while the others go on is a \
         code path failing half-way):\n\n| Entity | Template | Baseline | Incident | z |\n|---|---|---|---|---|\n",
    );
    for ts in by_entity.iter().take(TOP) {
        for t in ts.iter().take(3) {
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} | {:.1} |",
                t.entity,
                esc(&t.template),
                t.baseline,
                t.incident,
                t.fall
            );
        }
    }
    md.push('\n');
}

/// One raw line per template whose wildcards hide something (a host, a key), so the table
/// does not hide that `Post "http://<*>"` is the gift vendor.
fn examples(md: &mut String, top: &[&crate::logs::evidence::TemplateStat]) {
    let lines: Vec<String> = top
        .iter()
        .filter(|t| t.template.contains("<*>"))
        .filter_map(|t| {
            let s = t.samples.first()?;
            let mut short: String = s.chars().take(120).collect();
            if s.chars().count() > 120 {
                short.push('…');
            }
            Some(format!(
                "- `{}`: e.g. `{}`",
                esc(&t.template),
                esc(&short).replace('`', "'")
            ))
        })
        .collect();
    if !lines.is_empty() {
        let _ = writeln!(
            md,
            "Example lines (incident window):\n\n{}\n",
            lines.join("\n")
        );
    }
}

/// Templates charted, at most.
const CHARTED: usize = 6;

/// The entity whose templates the chart shows: the alert's, else the first degraded one with
/// notable templates.
fn charted_entity(ctx: &Context) -> Option<&str> {
    [ctx.spec.alert.entity.as_str()]
        .into_iter()
        .chain(ctx.scope.affected())
        .find(|e| ctx.logs.notable_of(e).next().is_some())
}

/// Lines per minute of the alerting (or first degraded) entity's notable templates, new and
/// surging alike, as a trailing one-minute sum smoothed over three minutes: 15-second counts
/// of a few lines each are noise. Lines are numbered (T1, T2, ...) so the legend stays short;
/// the templates are listed in full under the chart.
#[must_use]
pub fn chart(ctx: &Context) -> Option<Chart> {
    let entity = charted_entity(ctx)?;
    let g = ctx.aligned.grid;
    let per_min = usize::try_from(60_000 / g.step.max(1)).unwrap_or(1).max(1);
    let lines = ctx
        .logs
        .notable_of(entity)
        .take(CHARTED)
        .enumerate()
        .map(|(i, t)| {
            let counts: Vec<f64> = t.counts.iter().map(|c| f64::from(*c)).collect();
            let minute = trailing_sum(&counts, per_min);
            let smooth = centred_mean(&minute, 3 * per_min);
            let short: String = t.template.chars().take(28).collect();
            let more = if t.template.chars().count() > 28 {
                "…"
            } else {
                ""
            };
            Line {
                label: format!("T{}: {short}{more}", i + 1),
                points: smooth
                    .iter()
                    .enumerate()
                    .map(|(b, v)| (g.time(b), *v))
                    .collect(),
                dash: Dash::Solid,
                color: Some(i),
            }
        })
        .collect();
    Some(Chart {
        file: "logs.svg".into(),
        title: format!("{entity}: new or surging log templates"),
        y_label: "lines per minute (3-min average)".into(),
        x_range: (g.t0, g.time(g.len)),
        baseline: (ctx.windows.baseline_start, ctx.windows.baseline_end),
        incident: (ctx.windows.start, ctx.windows.end),
        lines,
        hlines: Vec::new(),
        markers: vec![(ctx.windows.fired_at, "alert".into())],
        note: None,
        right: None,
    })
}

/// The chart's legend in full: `T1` = template, for the markdown under the chart.
#[must_use]
pub fn chart_legend(ctx: &Context) -> Vec<String> {
    let Some(entity) = charted_entity(ctx) else {
        return Vec::new();
    };
    ctx.logs
        .notable_of(entity)
        .take(CHARTED)
        .enumerate()
        .map(|(i, t)| format!("T{}: `{}`", i + 1, esc(&t.template)))
        .collect()
}

fn trailing_sum(v: &[f64], n: usize) -> Vec<f64> {
    (0..v.len())
        .map(|i| v[i.saturating_sub(n - 1)..=i].iter().sum())
        .collect()
}

fn centred_mean(v: &[f64], n: usize) -> Vec<f64> {
    let h = n / 2;
    (0..v.len())
        .map(|i| {
            let w = &v[i.saturating_sub(h)..(i + h + 1).min(v.len())];
            w.iter().sum::<f64>() / w.len() as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::evidence::testing::Fixture;

    #[test]
    fn a_calm_entity_logging_new_errors_is_shown_after_the_degraded_ones() {
        let ctx = Fixture::new("front")
            .depends("front", &["mid", "side"])
            .slow_service("front")
            .healthy_service("mid")
            .healthy_service("side")
            .log("front", 0, 40, "info", "served request {i}")
            .log("front", 26, 8, "error", "upstream reset")
            .log("mid", 0, 40, "info", "served request {i}")
            .log("mid", 26, 6, "error", "no rows for order {i}")
            .log("side", 0, 40, "info", "served request {i}")
            .log("side", 26, 9, "info", "cache warmed for region {i}")
            .build();
        let md = super::section(&ctx, None).unwrap();
        let front = md.find("**front** (").expect(&md);
        let mid = md.find("**mid** (metrics within baseline; ").expect(&md);
        assert!(front < mid, "{md}");
        // A calm entity with nothing worse than info lines stays in the quiet list.
        assert!(!md.contains("**side**"), "{md}");
    }
}

//! The "Log evidence" section and chart: the top new or surging templates of each degraded
//! entity, with counts against the baseline.

use std::fmt::Write as _;

use super::charts::{Chart, Dash, Line};
use crate::evidence::Context;
use crate::model::fmt_ms;

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
    let mut entities: Vec<&str> = ctx.scope.affected();
    entities.retain(|e| ctx.logs.has_logs(e));
    let degraded = entities.len();
    // An entity whose metrics stayed normal can still log new or surging warnings and errors,
    // which the culprit ranking weighs: they are shown too, after the degraded entities.
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
    let mut any = false;
    for (n, e) in entities.iter().enumerate() {
        let top: Vec<_> = ctx.logs.notable_of(e).take(TOP).collect();
        if top.is_empty() {
            continue;
        }
        any = true;
        let (b, i) = ctx.logs.lines[*e];
        let calm = if n >= degraded {
            "metrics within baseline; "
        } else {
            ""
        };
        let _ = writeln!(
            md,
            "**{e}** ({calm}{b} lines in the baseline, {i} in the incident window):\n\n| Template | Level | Baseline | Incident | First seen |\n|---|---|---|---|---|"
        );
        for t in top {
            let first = t
                .first_seen
                .map_or_else(String::new, |f| fmt_ms(f, "%H:%M:%S"));
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
    }
    if !any {
        md.push_str("No entity logs anything new or surging.\n\n");
    }
    if !quiet.is_empty() {
        let _ = writeln!(
            md,
            "Nothing new or surging in the logs of {}.\n",
            quiet.join(", ")
        );
    }
    falls(ctx, &mut md);
    if let Some(file) = chart {
        let _ = writeln!(md, "![log template rates](charts/{file})\n");
    }
    Some(md.replace("Severity::", ""))
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

/// Lines per minute of the top templates of the alerting (or first degraded) entity.
#[must_use]
pub fn chart(ctx: &Context) -> Option<Chart> {
    let entity = [ctx.spec.alert.entity.as_str()]
        .into_iter()
        .chain(ctx.scope.affected())
        .find(|e| ctx.logs.notable_of(e).next().is_some())?;
    let g = ctx.aligned.grid;
    let per_min = 60_000.0 / g.step as f64;
    let lines = ctx
        .logs
        .notable_of(entity)
        .take(4)
        .enumerate()
        .map(|(i, t)| {
            let label: String = t.template.chars().take(60).collect();
            Line {
                label,
                points: t
                    .counts
                    .iter()
                    .enumerate()
                    .map(|(b, c)| (g.time(b), f64::from(*c) * per_min))
                    .collect(),
                dash: Dash::Solid,
                color: Some(i),
            }
        })
        .collect();
    Some(Chart {
        file: "logs.svg".into(),
        title: format!("{entity}: new or surging log templates"),
        y_label: "lines per minute".into(),
        x_range: (g.t0, g.time(g.len)),
        baseline: (ctx.windows.baseline_start, ctx.windows.baseline_end),
        incident: (ctx.windows.start, ctx.windows.end),
        lines,
        hlines: Vec::new(),
        markers: vec![(ctx.windows.fired_at, "alert".into())],
    })
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

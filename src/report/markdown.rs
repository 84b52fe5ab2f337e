//! Renders the postmortem as GitHub-flavoured markdown. Pure: analysis in, `String` out.

use std::fmt::Write as _;

use super::narrative::summary;
use super::{impact, sections};
use crate::evidence::Context;
use crate::model::{EntityKind, Kind};
use crate::pipeline::Analysis;
use crate::rules::{RULES, Status};

/// The analyzer version printed in reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn esc(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The whole document, in the order of the common postmortem templates; `charts` are (file
/// under charts/, caption) actually written.
#[must_use]
pub fn render(
    an: &Analysis,
    charts: &[(String, String)],
    logs_section: Option<&str>,
    seen_before: Option<&str>,
) -> String {
    let (ctx, v) = (&an.ctx, &an.verdict);
    let t = v.timing(ctx);
    let mut md = String::new();
    let title = ctx
        .spec
        .title
        .clone()
        .unwrap_or_else(|| format!("{} on {}", ctx.spec.alert.metric, ctx.spec.alert.entity));
    let _ = writeln!(md, "# Postmortem: {title}\n");
    sections::header(&mut md, an);
    if !charts.is_empty() {
        let _ = writeln!(
            md,
            "Charts: every `charts/*.svg` below has a `.png` twin of the same drawing: paste the PNG into Google Docs or Confluence; the SVG is for pages that render it (GitHub, GitLab, wikis).\n"
        );
    }
    let _ = writeln!(md, "## Summary\n\n{}\n", summary(ctx, v));
    let _ = writeln!(md, "## Impact\n");
    for line in impact::bullets(ctx, v) {
        let _ = writeln!(md, "- {line}");
    }
    md.push('\n');
    chart(&mut md, charts, |f| f == "alert.svg");
    sections::detection(&mut md, ctx, &t);
    sections::root_cause(&mut md, an, &t);
    sections::contributing(&mut md, an);
    if let Some(section) = seen_before {
        md.push_str(section);
    }
    sections::mechanism(&mut md, an);
    chart(&mut md, charts, |f| {
        f != "alert.svg" && !f.starts_with("logs")
    });
    sections::resolution(&mut md, &t);
    sections::unknowns(&mut md, an);
    sections::action_items(&mut md, an);
    sections::lessons(&mut md);
    sections::timeline(&mut md, an);
    scope(&mut md, ctx);
    funnel(&mut md, an);
    if let Some(section) = logs_section {
        md.push_str(section);
    }
    let _ = writeln!(md, "## Data-quality and configuration findings\n");
    if v.findings.is_empty() {
        let _ = writeln!(
            md,
            "None: every series came from one source or the sources agreed.\n"
        );
    } else {
        for f in &v.findings {
            let _ = writeln!(md, "- **{}** (`{}`): {}", f.kind, f.entity, f.detail);
        }
        md.push('\n');
    }
    coverage(&mut md, an);
    appendix(&mut md);
    md
}

/// The charts whose file matches, each as SVG with its PNG twin named for pasting.
fn chart(md: &mut String, charts: &[(String, String)], pick: impl Fn(&str) -> bool) {
    for (file, caption) in charts.iter().filter(|c| pick(&c.0)) {
        let _ = writeln!(md, "![{caption}](charts/{file})\n");
    }
}

fn scope(md: &mut String, ctx: &Context) {
    let _ = writeln!(
        md,
        "## Scope\n\n| Entity | Kind | State | Evidence |\n|---|---|---|---|"
    );
    let mut rows: Vec<(u8, &String, String, String)> = Vec::new();
    for e in &ctx.topo.entities {
        let kind = EntityKind::of(e);
        let (rank, state, ev) = match ctx.scope.entities.get(e) {
            Some(h) if h.affected => (0, "**degraded**".to_string(), h.brief(4)),
            Some(_) => {
                let moves = crate::evidence::scope::other_moves(ctx, e);
                let mut ev = String::from("latency, errors and dependencies within baseline");
                if !moves.is_empty() {
                    ev.push_str("; outside them, ");
                    ev.push_str(&moves.join(", "));
                }
                (1, "healthy".to_string(), ev)
            }
            None if matches!(kind, EntityKind::Service | EntityKind::Ingress) => (
                2,
                "no data".to_string(),
                "no symptom metrics in the archive".into(),
            ),
            None => continue,
        };
        rows.push((
            rank,
            e,
            kind.label().trim().to_string(),
            format!("{state} | {}", esc(&ev)),
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    for (_, e, kind, rest) in rows {
        let _ = writeln!(md, "| `{e}` | {kind} | {rest} |");
    }
    let pods: Vec<(&String, &crate::evidence::Health)> = ctx
        .scope
        .pods
        .iter()
        .filter(|(p, _)| {
            ctx.topo
                .pod_entity
                .get(*p)
                .is_some_and(|s| ctx.scope.of(s).affected)
        })
        .collect();
    if !pods.is_empty() {
        let _ = writeln!(
            md,
            "\nPods of the degraded services:\n\n| Pod | Service | Node | State |\n|---|---|---|---|"
        );
        for (p, h) in pods {
            let svc = ctx.topo.pod_entity.get(p).map_or("", String::as_str);
            let node = ctx.topo.node_of(p).unwrap_or("?");
            let state = if h.affected {
                format!(
                    "**degraded**: {}",
                    h.symptoms.first().map_or("", String::as_str)
                )
            } else {
                "healthy".into()
            };
            let _ = writeln!(md, "| `{p}` | {svc} | {node} | {} |", esc(&state));
        }
    }
    md.push('\n');
}

fn funnel(md: &mut String, an: &Analysis) {
    let v = &an.verdict;
    let count = |s: Status| v.hypotheses.iter().filter(|h| h.status == s).count();
    let _ = writeln!(
        md,
        "## The funnel\n\n{} hypotheses, one per layer and candidate in scope: {} supported, {} eliminated, {} inconclusive.\n",
        v.hypotheses.len(),
        count(Status::Supported),
        count(Status::Eliminated),
        count(Status::Inconclusive)
    );
    let _ = writeln!(
        md,
        "| Layer | Candidate | Status | Rule | Evidence |\n|---|---|---|---|---|"
    );
    for h in &v.hypotheses {
        let status = match h.status {
            Status::Supported => "**supported**".to_string(),
            s => s.to_string(),
        };
        let _ = writeln!(
            md,
            "| {} | `{}` | {status} | `{}` | {} |",
            h.kind,
            h.culprit,
            h.rule,
            esc(&h.evidence)
        );
    }
    md.push('\n');
    corroboration(md, an);
}

/// The other eliminations of the dependencies the table clears with one rule each: the
/// server-side and log evidence a review argues about when the app's logs blame storage.
fn corroboration(md: &mut String, an: &Analysis) {
    let deps = [Kind::Mysql, Kind::Redis, Kind::ThirdParty];
    let mut lines = Vec::new();
    for h in an
        .verdict
        .hypotheses
        .iter()
        .filter(|h| deps.contains(&h.kind) && h.status == Status::Eliminated)
    {
        let more: Vec<String> = h
            .outcomes
            .iter()
            .filter(|o| o.status == Status::Eliminated && o.rule != h.rule)
            .map(|o| format!("`{}`: {}", o.rule, o.evidence))
            .collect();
        if !more.is_empty() {
            lines.push(format!(
                "- **{} `{}`**: {}",
                h.kind,
                h.culprit,
                more.join("; ")
            ));
        }
    }
    if !lines.is_empty() {
        let _ = writeln!(
            md,
            "Further evidence against the eliminated dependencies (the table gives the deciding rule):\n\n{}\n",
            lines.join("\n")
        );
    }
}

fn coverage(md: &mut String, an: &Analysis) {
    // Checks a missing input already accounts for are in its line above the table.
    let explained: std::collections::BTreeSet<(&str, String, &str)> = an
        .verdict
        .coverage
        .iter()
        .flat_map(|c| &c.checks)
        .map(|ch| (ch.rule, ch.kind.to_string(), ch.culprit.as_str()))
        .collect();
    let untested: Vec<_> = an
        .verdict
        .hypotheses
        .iter()
        .flat_map(|h| h.outcomes.iter().map(move |o| (h, o)))
        .filter(|(_, o)| o.evidence.starts_with("not testable"))
        .filter(|(h, o)| !explained.contains(&(o.rule, h.kind.to_string(), h.culprit.as_str())))
        .collect();
    let _ = writeln!(md, "## Coverage\n");
    super::coverage::costs(md, &an.verdict.coverage);
    if untested.is_empty() {
        if explained.is_empty() {
            let _ = writeln!(
                md,
                "Every rule had the data it needed; what the data could not show is under What we don't know.\n"
            );
        }
        return;
    }
    let _ = writeln!(
        md,
        "{} that could not run for lack of data (the hypothesis stays open unless another rule decided it):\n\n| Layer | Candidate | Rule | Missing |\n|---|---|---|---|",
        if explained.is_empty() {
            "Checks"
        } else {
            "Other checks"
        }
    );
    for (h, o) in untested {
        let _ = writeln!(
            md,
            "| {} | `{}` | `{}` | {} |",
            h.kind,
            h.culprit,
            o.rule,
            esc(o.evidence.trim_start_matches("not testable: "))
        );
    }
    md.push('\n');
}

/// The thresholds the analysis uses, written from the constants it uses them through.
fn thresholds() -> String {
    use crate::evidence::resources::{PEAK_QUANTILE, PINNED_QUANTILE, PINNED_SHARE};
    use crate::evidence::scope::{
        DEP_LATENCY_RISE, ERROR_RISE, ERROR_SHARE_OF_TRAFFIC, LATENCY_RISE,
    };
    let pct = |x: f64| format!("{:.0} %", x * 100.0);
    format!(
        "Anomaly: robust z-score against the baseline median and MAD (σ floored at 1 % of the level), at least {z}σ sustained for most of the next two minutes; \
         latency counts as a symptom at +{lat}, client-side dependency latency at +{dep}, errors at +{err} and at least {share} of traffic. \
         A container's peak is its {peak}th-percentile usage; it is at its limit when its {pinned}th percentile reaches {at} of it. \
         A hypothesis is eliminated when its strongest elimination (weight ≥ 0.5) outweighs the combined support.",
        z = crate::detect::Z,
        lat = pct(LATENCY_RISE),
        dep = pct(DEP_LATENCY_RISE),
        err = pct(ERROR_RISE),
        share = pct(ERROR_SHARE_OF_TRAFFIC),
        peak = (PEAK_QUANTILE * 100.0).round(),
        pinned = (PINNED_QUANTILE * 100.0).round(),
        at = pct(PINNED_SHARE),
    )
}

fn appendix(md: &mut String) {
    let _ = writeln!(md, "## Appendix: rules and thresholds\n");
    let _ = writeln!(md, "{}\n", thresholds());
    let _ = writeln!(md, "| Rule | Tests | What it rules out |\n|---|---|---|");
    for r in RULES {
        let i = r.info();
        let first = i
            .doc
            .split("## What it rules out")
            .nth(1)
            .unwrap_or("")
            .split("##")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let kinds: Vec<&str> = i.kinds.iter().map(|k| k.as_str()).collect();
        let _ = writeln!(
            md,
            "| `{}` | {} | {} |",
            i.id,
            kinds.join(", "),
            esc(&first)
        );
    }
}

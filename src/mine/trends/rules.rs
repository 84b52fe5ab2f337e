//! The trends sections on what the rules did: the rules that never fire, and the most common
//! elimination paths (which hypotheses each incident ruled out, and by which rule).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{cell, incident_bars, kind_rank};
use crate::mine::rows::{IncidentRow, Rows};
use crate::report::bars::Bars;

/// Which rules never fired in any analysed incident, and how often each fired and decided.
pub(super) fn never_fire(rows: &Rows, rule_ids: &[&str], md: &mut String, charts: &mut Vec<Bars>) {
    let ok: Vec<&IncidentRow> = rows.incidents.iter().filter(|r| !r.failed()).collect();
    let mut fired: BTreeMap<&str, usize> = rule_ids.iter().map(|r| (*r, 0)).collect();
    for r in &ok {
        for id in r.fired() {
            *fired.entry(id).or_default() += 1;
        }
    }
    let mut decided: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for h in &rows.hypotheses {
        let e = decided.entry(h.rule.as_str()).or_default();
        match h.status.as_str() {
            "eliminated" => e.0 += 1,
            "supported" => e.1 += 1,
            _ => {}
        }
    }
    let never: Vec<&str> = fired
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| *id)
        .collect();
    let _ = writeln!(md, "## Rules that never fire\n");
    if never.is_empty() {
        let _ = writeln!(
            md,
            "Every rule supported or eliminated something in at least one of the {} analysed incidents.\n",
            ok.len()
        );
    } else {
        let _ = writeln!(
            md,
            "{} of {} rules never supported or eliminated anything in {} analysed incidents: either the corpus never needs them, or their data is never exported.\n",
            never.len(),
            fired.len(),
            ok.len()
        );
        for id in &never {
            let _ = writeln!(md, "- `{id}`");
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "![Rule activity](charts/rule-activity.svg)\n\n| rule | fired in | decided: eliminated | decided: supported |\n|---|---:|---:|---:|"
    );
    for (id, n) in &fired {
        let (e, s) = decided.get(id).copied().unwrap_or_default();
        let _ = writeln!(md, "| `{id}` | {n} | {e} | {s} |");
    }
    md.push('\n');
    charts.push(incident_bars(
        "rule-activity.svg",
        "Incidents in which each rule fired",
        fired.keys().map(|k| (*k).to_string()).collect(),
        fired.values().copied(),
    ));
}

/// Per incident, the eliminated hypotheses as `kind→rule` steps in checklist order, and the
/// most common of these paths.
pub(super) fn elimination_paths(rows: &Rows, md: &mut String, charts: &mut Vec<Bars>) {
    let ok: BTreeSet<&str> = rows
        .incidents
        .iter()
        .filter(|r| !r.failed())
        .map(|r| r.id.as_str())
        .collect();
    let paths = paths(rows, &ok);
    let mut top: Vec<(&String, &Vec<&str>)> = paths.iter().collect();
    top.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(b.0)));
    top.truncate(10);
    let _ = writeln!(
        md,
        "## Most common elimination paths\n\nWhat the funnel ruled out, and by which rule: {} distinct paths over {} analysed incidents.\n",
        paths.len(),
        ok.len()
    );
    if top.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "![Elimination paths](charts/elimination-paths.svg)\n\n| path | incidents | eliminated kind→rule | examples |\n|---|---:|---|---|"
    );
    for (i, (p, ids)) in top.iter().enumerate() {
        let more = if ids.len() > 3 { ", …" } else { "" };
        let _ = writeln!(
            md,
            "| P{} | {} | {} | {}{more} |",
            i + 1,
            ids.len(),
            cell(p),
            cell(&ids.iter().take(3).copied().collect::<Vec<_>>().join(", "))
        );
    }
    md.push('\n');
    charts.push(incident_bars(
        "elimination-paths.svg",
        "Most common elimination paths (see trends.md)",
        (1..=top.len()).map(|i| format!("P{i}")).collect(),
        top.iter().map(|(_, v)| v.len()),
    ));
}

/// The incidents in `ok` by path: their eliminated `kind→rule` steps joined in checklist order.
fn paths<'a>(rows: &'a Rows, ok: &BTreeSet<&'a str>) -> BTreeMap<String, Vec<&'a str>> {
    // incident → {((checklist rank, kind), rule)}: a set, so the path is ordered and deduplicated.
    type Steps<'r> = BTreeSet<((usize, String), &'r str)>;
    let mut per: BTreeMap<&str, Steps<'_>> = BTreeMap::new();
    for h in rows
        .hypotheses
        .iter()
        .filter(|h| h.status == "eliminated" && ok.contains(h.incident.as_str()))
    {
        per.entry(h.incident.as_str())
            .or_default()
            .insert((kind_rank(&h.kind), h.rule.as_str()));
    }
    let mut paths: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for &id in ok {
        let steps = per
            .get(id)
            .map(|s| {
                s.iter()
                    .map(|((_, k), r)| format!("{k}→{r}"))
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default();
        paths
            .entry(if steps.is_empty() {
                "(nothing eliminated)".into()
            } else {
                steps
            })
            .or_default()
            .push(id);
    }
    paths
}

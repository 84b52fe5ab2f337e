//! trends.md and its chart models, computed from the rows alone: a pure function, so a single
//! run and a merge of shards (which only has the rows) write byte-identical files. Nothing here
//! reads a clock, a path or the thread count.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::rows::{IncidentRow, Rows};
use super::similar;
use crate::model::{Kind, fmt_ms};
use crate::report::bars::{BarSeries, Bars};

/// Rows shown per table; the full data is in the Parquet files.
const TOP: usize = 15;

/// The rendered markdown and the charts it links (under `charts/`).
#[derive(Debug, Clone, PartialEq)]
pub struct Trends {
    /// trends.md.
    pub markdown: String,
    /// Charts to draw.
    pub charts: Vec<Bars>,
}

/// A markdown table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// A cell for free text (errors), cut so one bad archive cannot flood the table.
fn short(s: &str) -> String {
    let one = cell(s);
    if one.chars().count() > 200 {
        format!("{}…", one.chars().take(199).collect::<String>())
    } else {
        one
    }
}

fn day(ms: i64) -> String {
    fmt_ms(ms, "%Y-%m-%d")
}

/// Checklist order for kinds; unknown kinds (a newer analyzer's) after, by name.
fn kind_rank(k: &str) -> (usize, String) {
    (
        Kind::parse(k)
            .and_then(|k| Kind::ALL.iter().position(|x| *x == k))
            .unwrap_or(usize::MAX),
        k.to_string(),
    )
}

/// Time buckets fitted to the span: days up to a month, ISO weeks up to a year, else months.
fn bucketer(rows: &[IncidentRow]) -> (&'static str, &'static str) {
    let times: Vec<i64> = rows.iter().filter_map(|r| r.fired_at).collect();
    let span = times
        .iter()
        .max()
        .zip(times.iter().min())
        .map_or(0, |(a, b)| a - b);
    const DAY: i64 = 86_400_000;
    if span <= 31 * DAY {
        ("day", "%Y-%m-%d")
    } else if span <= 366 * DAY {
        ("ISO week", "%G-W%V")
    } else {
        ("month", "%Y-%m")
    }
}

fn outcome(r: &IncidentRow) -> String {
    if r.failed() {
        "error".into()
    } else {
        r.root_cause_kind
            .clone()
            .unwrap_or_else(|| "undetermined".into())
    }
}

fn causes_over_time(rows: &[IncidentRow], md: &mut String, charts: &mut Vec<Bars>) {
    let (unit, fmt) = bucketer(rows);
    let mut by: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut totals: BTreeMap<String, (usize, Option<i64>, Option<i64>)> = BTreeMap::new();
    for r in rows {
        let o = outcome(r);
        let t = totals.entry(o.clone()).or_default();
        t.0 += 1;
        if let Some(ms) = r.fired_at {
            t.1 = Some(t.1.map_or(ms, |x: i64| x.min(ms)));
            t.2 = Some(t.2.map_or(ms, |x: i64| x.max(ms)));
            *by.entry(o).or_default().entry(fmt_ms(ms, fmt)).or_default() += 1;
        }
    }
    let mut kinds: Vec<String> = totals.keys().cloned().collect();
    kinds.sort_by_key(|k| (k == "error", k == "undetermined", kind_rank(k)));
    let _ = writeln!(
        md,
        "## Root causes by kind over time\n\n![Root causes by kind per {unit}](charts/causes-over-time.svg)\n"
    );
    let _ = writeln!(
        md,
        "| root cause | incidents | share | first | last |\n|---|---:|---:|---|---|"
    );
    let n = rows.len().max(1);
    for k in &kinds {
        let (c, first, last) = totals[k];
        #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
        let share = 100.0 * c as f64 / n as f64;
        let _ = writeln!(
            md,
            "| {} | {c} | {share:.1}% | {} | {} |",
            cell(k),
            first.map(day).unwrap_or_default(),
            last.map(day).unwrap_or_default()
        );
    }
    md.push('\n');
    let buckets: BTreeSet<String> = by.values().flat_map(|m| m.keys().cloned()).collect();
    let buckets: Vec<String> = buckets.into_iter().collect();
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
    let series = kinds
        .iter()
        .filter(|k| by.contains_key(*k))
        .map(|k| BarSeries {
            label: k.clone(),
            values: buckets
                .iter()
                .map(|b| by[k].get(b).copied().unwrap_or(0) as f64)
                .collect(),
        })
        .collect();
    charts.push(Bars {
        file: "causes-over-time.svg".into(),
        title: format!("Root causes by kind, per {unit} (UTC)"),
        value_label: "incidents".into(),
        categories: buckets,
        series,
        horizontal: false,
    });
}

fn recurring_culprits(rows: &[IncidentRow], md: &mut String, charts: &mut Vec<Bars>) {
    let mut by: BTreeMap<(String, String), Vec<&IncidentRow>> = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.failed()) {
        if let (Some(k), Some(c)) = (&r.root_cause_kind, &r.root_cause_culprit) {
            by.entry((k.clone(), c.clone())).or_default().push(r);
        }
    }
    let mut top: Vec<(&(String, String), &Vec<&IncidentRow>)> =
        by.iter().filter(|(_, v)| v.len() > 1).collect();
    top.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(b.0)));
    top.truncate(TOP);
    let _ = writeln!(
        md,
        "## Recurring culprits\n\nRoot causes found in more than one incident ({} of {} culprits recur).\n",
        by.values().filter(|v| v.len() > 1).count(),
        by.len()
    );
    if top.is_empty() {
        md.push_str("No culprit was the root cause of more than one incident.\n\n");
        return;
    }
    let _ = writeln!(
        md,
        "![Recurring culprits](charts/recurring-culprits.svg)\n\n| culprit | kind | incidents | first | last | examples |\n|---|---|---:|---|---|---|"
    );
    for ((k, c), v) in &top {
        let times: Vec<i64> = v.iter().filter_map(|r| r.fired_at).collect();
        let ex: Vec<&str> = v.iter().take(3).map(|r| r.id.as_str()).collect();
        let more = if v.len() > 3 { ", …" } else { "" };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {}{more} |",
            cell(c),
            cell(k),
            v.len(),
            times.iter().min().map(|t| day(*t)).unwrap_or_default(),
            times.iter().max().map(|t| day(*t)).unwrap_or_default(),
            cell(&ex.join(", "))
        );
    }
    md.push('\n');
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
    let values = top.iter().map(|(_, v)| v.len() as f64).collect();
    let categories = top.iter().map(|((k, c), _)| format!("{c} ({k})")).collect();
    charts.push(Bars {
        file: "recurring-culprits.svg".into(),
        title: "Recurring culprits (incidents as root cause)".into(),
        value_label: "incidents".into(),
        categories,
        series: vec![BarSeries {
            label: "incidents".into(),
            values,
        }],
        horizontal: true,
    });
}

fn rules(rows: &Rows, rule_ids: &[&str], md: &mut String, charts: &mut Vec<Bars>) {
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
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
    let values = fired.values().map(|n| *n as f64).collect();
    charts.push(Bars {
        file: "rule-activity.svg".into(),
        title: "Incidents in which each rule fired".into(),
        value_label: "incidents".into(),
        categories: fired.keys().map(|k| (*k).to_string()).collect(),
        series: vec![BarSeries {
            label: "incidents".into(),
            values,
        }],
        horizontal: true,
    });
}

/// Per incident, the eliminated hypotheses as `kind→rule` steps in checklist order.
fn elimination_paths(rows: &Rows, md: &mut String, charts: &mut Vec<Bars>) {
    let ok: BTreeSet<&str> = rows
        .incidents
        .iter()
        .filter(|r| !r.failed())
        .map(|r| r.id.as_str())
        .collect();
    // incident → {((checklist rank, kind), rule)}: a set, so the path is ordered and deduplicated.
    type Steps<'a> = BTreeSet<((usize, String), &'a str)>;
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
    for id in &ok {
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
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
    let values = top.iter().map(|(_, v)| v.len() as f64).collect();
    charts.push(Bars {
        file: "elimination-paths.svg".into(),
        title: "Most common elimination paths (see trends.md)".into(),
        value_label: "incidents".into(),
        categories: (1..=top.len()).map(|i| format!("P{i}")).collect(),
        series: vec![BarSeries {
            label: "incidents".into(),
            values,
        }],
        horizontal: true,
    });
}

fn similar_incidents(rows: &[IncidentRow], md: &mut String) {
    let (groups, pairs) = similar::find(rows, TOP);
    let _ = writeln!(
        md,
        "## Similar incidents\n\nMatched by the signature of fired rules and the shape of the scope (degraded services, share of pods).\n"
    );
    if groups.is_empty() && pairs.is_empty() {
        md.push_str("No two incidents took the same path.\n\n");
        return;
    }
    if !groups.is_empty() {
        let _ = writeln!(md, "| incidents | count | reason |\n|---|---:|---|");
        for g in &groups {
            let shown: Vec<&str> = g.ids.iter().take(6).map(String::as_str).collect();
            let more = if g.ids.len() > 6 {
                format!(", … {} more", g.ids.len() - 6)
            } else {
                String::new()
            };
            let _ = writeln!(
                md,
                "| {}{more} | {} | {} |",
                cell(&shown.join(", ")),
                g.ids.len(),
                cell(&g.reason)
            );
        }
        md.push('\n');
    }
    if !pairs.is_empty() {
        let _ = writeln!(
            md,
            "Near matches (fired-rule sets with Jaccard similarity ≥ {:.2}):\n\n| incident | like | similarity | reason |\n|---|---|---:|---|",
            similar::NEAR
        );
        let name = |(id, n): &(String, usize)| {
            if *n > 1 {
                format!("{id} (+{} alike)", n - 1)
            } else {
                id.clone()
            }
        };
        for p in &pairs {
            let _ = writeln!(
                md,
                "| {} | {} | {:.2} | {} |",
                cell(&name(&p.a)),
                cell(&name(&p.b)),
                p.jaccard,
                cell(&p.reason)
            );
        }
        md.push('\n');
    }
}

/// trends.md and its charts. `rule_ids` is the rule registry, so rules that never fire show.
#[must_use]
pub fn compute(rows: &Rows, rule_ids: &[&str]) -> Trends {
    let inc = &rows.incidents;
    let mut md = String::from("# Incident trends\n\n");
    let failed = rows.failures();
    let determined = inc
        .iter()
        .filter(|r| !r.failed() && r.root_cause_kind.is_some())
        .count();
    let versions: BTreeSet<&str> = inc.iter().map(|r| r.version.as_str()).collect();
    let times: Vec<i64> = inc.iter().filter_map(|r| r.fired_at).collect();
    let span = match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => format!(", alerts from {} to {}", day(*a), day(*b)),
        _ => String::new(),
    };
    let _ = writeln!(
        md,
        "{} incidents{span}: {} analysed ({determined} with a root cause, {} undetermined), {failed} failed. Analyzer version {}.\n",
        inc.len(),
        inc.len() - failed,
        inc.len() - failed - determined,
        versions.into_iter().collect::<Vec<_>>().join(", ")
    );
    let mut charts = Vec::new();
    causes_over_time(inc, &mut md, &mut charts);
    recurring_culprits(inc, &mut md, &mut charts);
    super::reliability::section(inc, &mut md);
    rules(rows, rule_ids, &mut md, &mut charts);
    elimination_paths(rows, &mut md, &mut charts);
    similar_incidents(inc, &mut md);
    if failed > 0 {
        let _ = writeln!(
            md,
            "## Failed incidents\n\n| incident | path | error |\n|---|---|---|"
        );
        for r in inc.iter().filter(|r| r.failed()) {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                cell(&r.id),
                cell(&r.path),
                short(r.error.as_deref().unwrap_or(""))
            );
        }
        md.push('\n');
    }
    Trends {
        markdown: md,
        charts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mine::rows::{ERROR, HypothesisRow, OK};

    fn row(id: &str, day: i64, rc: Option<(&str, &str)>, rules: &str) -> IncidentRow {
        let mut r = IncidentRow::failure(id, id, None, String::new());
        (r.status, r.error) = (OK.into(), None);
        r.fired_at = Some(1_700_000_000_000 + day * 86_400_000);
        r.root_cause_kind = rc.map(|x| x.0.to_string());
        r.root_cause_culprit = rc.map(|x| x.1.to_string());
        r.rules_fired = rules.into();
        (r.affected_entities, r.affected_pods, r.total_pods) = (Some(1), Some(2), Some(2));
        r
    }

    fn hyp(incident: &str, kind: &str, status: &str, rule: &str) -> HypothesisRow {
        HypothesisRow {
            incident: incident.into(),
            kind: kind.into(),
            culprit: "c".into(),
            status: status.into(),
            rule: rule.into(),
            score: 0.0,
        }
    }

    fn tiny() -> Rows {
        let mut broken = IncidentRow::failure("z-broken", "z", None, "metrics: no | file".into());
        broken.status = ERROR.into();
        Rows {
            incidents: vec![
                row(
                    "a",
                    0,
                    Some(("redis", "redis:main")),
                    "peer-healthy,storage-metrics",
                ),
                row(
                    "b",
                    1,
                    Some(("redis", "redis:main")),
                    "peer-healthy,storage-metrics",
                ),
                row("c", 1, None, "peer-healthy"),
                broken,
            ],
            hypotheses: vec![
                hyp("a", "mysql", "eliminated", "peer-healthy"),
                hyp("a", "redis", "supported", "storage-metrics"),
                hyp("b", "mysql", "eliminated", "peer-healthy"),
                hyp("b", "redis", "supported", "storage-metrics"),
                hyp("c", "pod", "eliminated", "most-pods"),
            ],
        }
    }

    #[test]
    fn trends_of_tiny_rows() {
        let t = compute(
            &tiny(),
            &["most-pods", "never-used", "peer-healthy", "storage-metrics"],
        );
        let md = &t.markdown;
        assert!(md.contains("4 incidents, alerts from 2023-11-14 to 2023-11-15: 3 analysed (2 with a root cause, 1 undetermined), 1 failed"), "{md}");
        assert!(
            md.contains("| redis | 2 | 50.0% | 2023-11-14 | 2023-11-15 |"),
            "{md}"
        );
        assert!(md.contains("| redis:main | redis | 2 |"), "{md}");
        assert!(
            md.contains("- `never-used`") && !md.contains("- `peer-healthy`"),
            "{md}"
        );
        assert!(md.contains("| P1 | 2 | mysql→peer-healthy |"), "{md}");
        assert!(
            md.contains("| a, b | 2 | same fired rules (peer-healthy, storage-metrics)"),
            "{md}"
        );
        assert!(md.contains("metrics: no \\| file"), "{md}");
        let files: Vec<&str> = t.charts.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "causes-over-time.svg",
                "recurring-culprits.svg",
                "rule-activity.svg",
                "elimination-paths.svg"
            ]
        );
        // Days as buckets; undetermined and error stack last.
        let c = &t.charts[0];
        assert_eq!(c.categories, ["2023-11-14", "2023-11-15"]);
        assert_eq!(
            c.series
                .iter()
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>(),
            ["redis", "undetermined"]
        );
    }

    #[test]
    fn trends_do_not_depend_on_row_order_after_canonicalize() {
        let mut a = tiny();
        let mut b = tiny();
        b.incidents.reverse();
        a.canonicalize();
        b.canonicalize();
        assert_eq!(compute(&a, &[]), compute(&b, &[]));
    }
}

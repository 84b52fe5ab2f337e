//! trends.md and its chart models, computed from the rows alone: a pure function, so a single
//! run and a merge of shards (which only has the rows) write byte-identical files. Nothing here
//! reads a clock, a path or the thread count.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::rows::{IncidentRow, Rows};
use super::similar;
use crate::model::{Kind, fmt_ms};
use crate::report::bars::{BarSeries, Bars};

mod rules;

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
    charts.push(incident_bars(
        "recurring-culprits.svg",
        "Recurring culprits (incidents as root cause)",
        top.iter().map(|((k, c), _)| format!("{c} ({k})")).collect(),
        top.iter().map(|(_, v)| v.len()),
    ));
}

/// A one-series horizontal chart of incident counts per category.
fn incident_bars(
    file: &str,
    title: &str,
    categories: Vec<String>,
    counts: impl Iterator<Item = usize>,
) -> Bars {
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
    let values = counts.map(|n| n as f64).collect();
    Bars {
        file: file.into(),
        title: title.into(),
        value_label: "incidents".into(),
        categories,
        series: vec![BarSeries {
            label: "incidents".into(),
            values,
        }],
        horizontal: true,
    }
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
    rules::never_fire(rows, rule_ids, &mut md, &mut charts);
    rules::elimination_paths(rows, &mut md, &mut charts);
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

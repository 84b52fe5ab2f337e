//! Per-entity template statistics: which templates are new in the incident window or surging
//! against the baseline, with counts per grid bucket for charts. Entities are mined in
//! parallel; the result is sorted, so it does not depend on the thread count.

use std::collections::BTreeMap;
use std::ops::Range;

use rayon::prelude::*;

use super::miner::{MinerConfig, mine};
use crate::align::Grid;
use crate::model::LogRow;

/// How serious a template's lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// info, debug, or no level.
    Info,
    /// warn.
    Warn,
    /// error, fatal, panic.
    Error,
}

impl Severity {
    fn of(level: Option<&str>, message: &str) -> Severity {
        match level.map(str::to_ascii_lowercase).as_deref() {
            Some("error" | "err" | "fatal" | "critical" | "crit" | "panic" | "emerg" | "alert") => {
                Severity::Error
            }
            Some("warn" | "warning") => Severity::Warn,
            Some(_) => Severity::Info,
            None => {
                let m = message.to_ascii_lowercase();
                if [
                    "panic",
                    "fatal",
                    "exception",
                    "error",
                    "oomkilled",
                    "out of memory",
                ]
                .iter()
                .any(|w| m.contains(w))
                {
                    Severity::Error
                } else if [
                    "timeout",
                    "timed out",
                    "deadline exceeded",
                    "refused",
                    "reset",
                    "warn",
                    "retry",
                ]
                .iter()
                .any(|w| m.contains(w))
                {
                    Severity::Warn
                } else {
                    Severity::Info
                }
            }
        }
    }

    fn weight(self) -> f64 {
        match self {
            Severity::Info => 1.0,
            Severity::Warn => 2.0,
            Severity::Error => 3.0,
        }
    }
}

/// One template of one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateStat {
    /// Entity id.
    pub entity: String,
    /// The template (`<*>` for variables).
    pub template: String,
    /// The most severe level seen.
    pub severity: Severity,
    /// Lines in the baseline window.
    pub baseline: usize,
    /// Lines in the incident window.
    pub incident: usize,
    /// First line in the incident window, epoch ms.
    pub first_seen: Option<i64>,
    /// Incident rate over baseline rate (baseline smoothed by one line).
    pub ratio: f64,
    /// Absent from the baseline, at least 3 lines in the incident.
    pub new: bool,
    /// Ranking score: severity × incident lines × log(ratio).
    pub score: f64,
    /// How far the template fell below its baseline share of its entity's lines in the
    /// incident window, as a Poisson z-score (expected minus seen over the square root of
    /// expected, where expected keeps the baseline share of the entity's incident lines); 0
    /// when it did not fall or was too rare to tell (fewer than 5 lines expected). A code path
    /// that now fails half-way stops logging its later steps while the requests, and the
    /// lines logged on the way in, keep coming; fewer requests lower every template alike.
    pub fall: f64,
    /// Lines per grid bucket.
    pub counts: Vec<u32>,
    /// Up to three raw messages from the incident window.
    pub samples: Vec<String>,
}

impl TemplateStat {
    /// New, or at least 3× its baseline rate with 5+ lines.
    #[must_use]
    pub fn notable(&self) -> bool {
        self.new || (self.ratio >= 3.0 && self.incident >= 5)
    }

    /// Whether the template or a sample mentions `needle` (case-insensitive).
    #[must_use]
    pub fn mentions(&self, needle: &str) -> bool {
        let n = needle.to_ascii_lowercase();
        !n.is_empty()
            && (self.template.to_ascii_lowercase().contains(&n)
                || self
                    .samples
                    .iter()
                    .any(|s| s.to_ascii_lowercase().contains(&n)))
    }

    /// Looks like a failed call: timeouts, resets, refusals, deadlines.
    #[must_use]
    pub fn is_timeout_like(&self) -> bool {
        let t = self.template.to_ascii_lowercase();
        [
            "timeout",
            "timed out",
            "deadline exceeded",
            "connection reset",
            "refused",
            "unavailable",
            "upstream connect error",
            "broken pipe",
            "eof",
        ]
        .iter()
        .any(|w| t.contains(w))
    }
}

/// Template statistics of every entity with logs.
#[derive(Debug, Clone, Default)]
pub struct LogEvidence {
    /// Every template, sorted by entity then descending score then template.
    pub templates: Vec<TemplateStat>,
    /// Entity → (baseline lines, incident lines).
    pub lines: BTreeMap<String, (usize, usize)>,
}

impl LogEvidence {
    /// The notable templates of one entity, best first.
    pub fn notable_of<'a>(
        &'a self,
        entity: &'a str,
    ) -> impl Iterator<Item = &'a TemplateStat> + 'a {
        self.templates
            .iter()
            .filter(move |t| t.entity == entity && t.notable())
    }

    /// Whether the entity has any logs in the archive.
    #[must_use]
    pub fn has_logs(&self, entity: &str) -> bool {
        self.lines.contains_key(entity)
    }
}

/// Mines each entity's log lines and compares the incident window with the baseline;
/// `alert` is the bucket the alert fired in.
#[must_use]
pub fn analyze(
    logs: &[LogRow],
    grid: &Grid,
    baseline: &Range<usize>,
    incident: &Range<usize>,
    alert: usize,
) -> LogEvidence {
    let mut by_entity: BTreeMap<&str, Vec<&LogRow>> = BTreeMap::new();
    for l in logs {
        by_entity.entry(l.entity.as_str()).or_default().push(l);
    }
    let covered = covered_buckets(logs, grid);
    let (base_len, inc_len) = (
        observed_len(&covered, baseline),
        observed_len(&covered, incident),
    );
    let per: Vec<(String, (usize, usize), Vec<TemplateStat>)> = by_entity
        .into_par_iter()
        .map(|(entity, rows)| {
            let contents: Vec<&str> = rows.iter().map(|r| r.message.as_str()).collect();
            let mined = mine(&contents, &MinerConfig::default());
            let mut stats: Vec<TemplateStat> = mined
                .templates
                .iter()
                .map(|t| TemplateStat {
                    entity: entity.to_string(),
                    template: t.clone(),
                    severity: Severity::Info,
                    baseline: 0,
                    incident: 0,
                    first_seen: None,
                    ratio: 0.0,
                    new: false,
                    score: 0.0,
                    fall: 0.0,
                    counts: vec![0; grid.len],
                    samples: Vec::new(),
                })
                .collect();
            let (mut nb, mut ni) = (0, 0);
            for (row, &c) in rows.iter().zip(&mined.cluster_of_line) {
                let Some(s) = stats.get_mut(c as usize) else {
                    continue;
                };
                s.severity = s
                    .severity
                    .max(Severity::of(row.level.as_deref(), &row.message));
                let Some(b) = grid.index(row.ts_ms) else {
                    continue;
                };
                s.counts[b] += 1;
                if baseline.contains(&b) {
                    s.baseline += 1;
                    nb += 1;
                } else if incident.contains(&b) {
                    s.incident += 1;
                    ni += 1;
                    s.first_seen = Some(s.first_seen.map_or(row.ts_ms, |f| f.min(row.ts_ms)));
                    if s.samples.len() < 3 && !s.samples.contains(&row.message) {
                        s.samples.push(row.message.clone());
                    }
                }
            }
            for s in &mut stats {
                s.ratio = (s.incident as f64 / inc_len) / ((s.baseline as f64 + 1.0) / base_len);
                s.new = s.baseline == 0 && s.incident >= 3;
            }
            for s in &mut stats {
                s.score = if s.notable() {
                    s.severity.weight() * s.incident as f64 * s.ratio.max(1.0).ln().max(0.5)
                } else {
                    0.0
                };
            }
            super::fall::measure(&mut stats, baseline, incident, alert);
            stats.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then(b.incident.cmp(&a.incident))
                    .then(a.template.cmp(&b.template))
            });
            (entity.to_string(), (nb, ni), stats)
        })
        .collect();
    let mut ev = LogEvidence::default();
    for (entity, counts, stats) in per {
        ev.lines.insert(entity, counts);
        ev.templates.extend(stats);
    }
    ev
}

/// Which grid buckets hold any log line, of any entity.
fn covered_buckets(logs: &[LogRow], grid: &Grid) -> Vec<bool> {
    let mut covered = vec![false; grid.len];
    for b in logs.iter().filter_map(|l| grid.index(l.ts_ms)) {
        covered[b] = true;
    }
    covered
}

/// Buckets of `range` the logs cover (see [`covered_buckets`]), as the length to divide
/// counts by for a rate.
///
/// Some exports keep only the minutes around known events (Nezha's logs cover three minutes
/// per fault), so a baseline hour may hold logs in a fifth of its buckets: counting the
/// empty ones as silence would make every template look like it surged. When fewer than 90 %
/// of a window's buckets hold any line, the window's length is the buckets that do; a window
/// the logs cover (nearly) whole keeps its full length, so a quiet spell still counts as quiet.
fn observed_len(covered: &[bool], range: &Range<usize>) -> f64 {
    let full = range.end.saturating_sub(range.start);
    let n = covered
        .get(range.start.min(covered.len())..range.end.min(covered.len()))
        .map_or(0, |w| w.iter().filter(|&&x| x).count());
    let n = if (n as f64) < 0.9 * full as f64 {
        n
    } else {
        full
    };
    n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts_min: i64, entity: &str, msg: &str, level: &str) -> LogRow {
        LogRow {
            ts_ms: ts_min * 60_000,
            entity: entity.into(),
            message: msg.into(),
            pod: None,
            node: None,
            level: Some(level.into()),
        }
    }

    #[test]
    fn new_error_templates_stand_out() {
        let mut logs = Vec::new();
        for m in 0..40 {
            logs.push(row(
                m,
                "api",
                &format!("GET /rooms/{m} 200 {}ms", 10 + m),
                "info",
            ));
        }
        for m in 25..35 {
            logs.push(row(
                m,
                "api",
                &format!("redis: dial tcp 10.0.3.{m}:6379: i/o timeout"),
                "error",
            ));
        }
        let grid = Grid {
            t0: 0,
            step: 60_000,
            len: 40,
        };
        let ev = analyze(&logs, &grid, &(0..20), &(20..40), 20);
        let top = ev.notable_of("api").next().expect("a notable template");
        assert!(top.template.contains("i/o timeout"), "{top:?}");
        assert!(top.new && top.severity == Severity::Error && top.incident == 10);
        assert!(top.mentions("redis") && top.is_timeout_like());
        assert_eq!(
            ev.notable_of("api").count(),
            1,
            "the steady request log is not notable"
        );
        // The new error takes a share of the lines; the steady template did not fall.
        assert!(
            ev.templates.iter().all(|t| t.fall == 0.0),
            "{:?}",
            ev.templates
        );
    }

    fn grid40() -> Grid {
        Grid {
            t0: 0,
            step: 60_000,
            len: 40,
        }
    }

    #[test]
    fn a_template_falls_against_its_share_not_with_the_traffic() {
        let mut logs = Vec::new();
        for m in 0..40 {
            // Traffic halves in the incident; "priced" stops there.
            let calls = if m < 20 { 8 } else { 4 };
            for _ in 0..calls {
                logs.push(row(m, "api", &format!("quote {m} received"), "info"));
                if m < 20 {
                    logs.push(row(m, "api", &format!("quote {m} priced"), "info"));
                }
                logs.push(row(m, "api", &format!("quote {m} sent"), "info"));
            }
        }
        let ev = analyze(&logs, &grid40(), &(0..20), &(20..40), 20);
        let fall = |needle: &str| {
            ev.templates
                .iter()
                .find(|t| t.template.contains(needle))
                .unwrap()
                .fall
        };
        // Against the other templates: expected 160 × 160/320 = 80 lines, seen none: z ≈ 8.9.
        assert!(fall("priced") > 8.5, "{:?}", ev.templates);
        assert_eq!(fall("received"), 0.0);
        assert_eq!(fall("sent"), 0.0);
    }

    #[test]
    fn a_fall_from_the_alert_on_is_not_diluted_by_the_minutes_before_it() {
        // "priced" stops at minute 32, where the alert fires, in a window from minute 20.
        let mut logs = Vec::new();
        for m in 0..40 {
            for _ in 0..3 {
                logs.push(row(m, "api", &format!("quote {m} received"), "info"));
                if m < 32 {
                    logs.push(row(m, "api", &format!("quote {m} priced"), "info"));
                }
            }
        }
        let fall = |alert: usize| {
            let ev = analyze(&logs, &grid40(), &(0..20), &(20..40), alert);
            ev.templates
                .iter()
                .find(|t| t.template.contains("priced"))
                .unwrap()
                .fall
        };
        // Over the whole window: 60 expected, 36 seen (z ≈ 3.1); from the alert on: 24
        // expected, none seen (z ≈ 4.9).
        assert!((fall(20) - 24.0 / 60f64.sqrt()).abs() < 1e-9);
        assert!((fall(32) - 24.0 / 24f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn a_request_that_comes_less_often_is_no_fall() {
        // Two kinds of request, each logging two steps; in the incident "quote" requests come
        // a fifth as often (a caller sends fewer), while "order" requests stop half-way.
        let mut logs = Vec::new();
        // Arrivals of the two kinds vary independently from minute to minute.
        for m in 0..40 {
            let quotes = if m < 20 { 4 + m % 5 } else { 1 + m % 2 };
            for _ in 0..quotes {
                logs.push(row(m, "api", "quote received", "info"));
                logs.push(row(m, "api", "quote priced", "info"));
            }
            for _ in 0..4 + (3 * m) % 7 {
                logs.push(row(m, "api", "order received", "info"));
                if m < 20 {
                    logs.push(row(m, "api", "order stored", "info"));
                }
                logs.push(row(m, "api", "heartbeat sent", "info"));
            }
        }
        let ev = analyze(&logs, &grid40(), &(0..20), &(20..40), 20);
        let fall = |t: &str| ev.templates.iter().find(|s| s.template == t).unwrap().fall;
        assert_eq!(fall("quote received"), 0.0, "{:?}", ev.templates);
        assert_eq!(fall("quote priced"), 0.0);
        assert!(fall("order stored") > 5.0, "{:?}", ev.templates);
    }

    #[test]
    fn rates_count_only_the_buckets_a_gappy_export_kept() {
        // Logs kept for buckets 5..8 of the baseline and all of the incident.
        let mut logs: Vec<LogRow> = (5..8).map(|m| row(m, "api", "tick", "info")).collect();
        logs.extend((20..40).map(|m| row(m, "api", "tick", "info")));
        let g = grid40();
        let covered = covered_buckets(&logs, &g);
        assert_eq!(observed_len(&covered, &(0..20)), 3.0);
        assert_eq!(observed_len(&covered, &(20..40)), 20.0);
        let ev = analyze(&logs, &g, &(0..20), &(20..40), 20);
        // One line per kept minute before and after: no surge.
        assert!(ev.templates[0].ratio < 1.0, "{:?}", ev.templates);
        // A quiet spell in a fully kept window still counts as quiet.
        let mut quiet: Vec<LogRow> = (0..19).map(|m| row(m, "api", "tick", "info")).collect();
        quiet.push(row(25, "api", "tick", "info"));
        let covered = covered_buckets(&quiet, &g);
        assert_eq!(observed_len(&covered, &(0..20)), 20.0);
        assert_eq!(observed_len(&covered, &(20..40)), 1.0);
    }
}

//! Per-entity template statistics: which templates are new in the incident window or surging
//! against the baseline, with counts per grid bucket for charts. Entities are mined in
//! parallel; the result is sorted, so it does not depend on the thread count.

use std::collections::BTreeMap;
use std::ops::Range;

use rayon::prelude::*;

use super::miner::{MinerConfig, mine};
use crate::align::Grid;
use crate::hashing::FastMap;
use crate::model::LogLine;

/// How serious a template's lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// info, debug, or no level.
    Info,
    /// warn, warning.
    Warn,
    /// error, fatal, panic.
    Error,
}

impl Severity {
    fn of(level: Option<&str>, message: &str) -> Severity {
        match level.map(crate::model::vocab::log_level) {
            Some(Some("error")) => Severity::Error,
            Some(Some("warn")) => Severity::Warn,
            Some(_) => Severity::Info,
            None => {
                let text = super::words::Text::new(message);
                if text.mentions_any(super::words::ERROR) {
                    Severity::Error
                } else if text.mentions_any(super::words::WARN) {
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
    /// How far the template fell below its baseline share of its entity's other steady
    /// templates, over the incident window or from the alert on, as a Poisson z-score
    /// (expected minus seen over the square root of expected); 0 when it did not fall, was too
    /// rare to tell (fewer than 5 lines expected), or fell with every step of its request (see
    /// `logs::fall`). A code path that now fails half-way stops logging its later steps while
    /// the requests, and the lines logged on the way in, keep coming; fewer requests lower
    /// every template alike.
    pub fall: f64,
    /// Lines per grid bucket.
    pub counts: Vec<u32>,
    /// Up to three raw messages from the incident window.
    pub samples: Vec<String>,
    /// Incident-window lines (indices into the analysed lines) whose messages are to become
    /// `samples`, when the lines carried templates and their messages were left on disk; see
    /// [`LogEvidence::pending_samples`].
    pub sample_lines: Vec<usize>,
}

impl TemplateStat {
    /// New, or at least 3× its baseline rate with 5+ lines.
    #[must_use]
    pub fn notable(&self) -> bool {
        self.new || (self.ratio >= 3.0 && self.incident >= 5)
    }

    /// Whether the template or a sample mentions one of `words` as a word (see
    /// [`super::words`]).
    #[must_use]
    pub fn mentions_any(&self, words: &[&str]) -> bool {
        super::words::mentions_any(&self.template, words)
            || self
                .samples
                .iter()
                .any(|s| super::words::mentions_any(s, words))
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
        super::words::mentions_any(&self.template, super::words::FAILED_CALL)
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

    /// The lines whose messages are still to be read for `samples` (their messages were left
    /// on disk), after dropping the requests of templates whose samples are never searched:
    /// names are looked for in the samples of notable warnings, errors and timeouts (a
    /// dependency's name hides in a masked URL or host:port); other templates keep their
    /// words in the template itself.
    pub fn pending_samples(&mut self) -> Vec<usize> {
        let searched =
            |t: &TemplateStat| t.notable() && (t.severity >= Severity::Warn || t.is_timeout_like());
        for t in self.templates.iter_mut().filter(|t| !searched(t)) {
            t.sample_lines.clear();
        }
        self.templates
            .iter()
            .flat_map(|t| t.sample_lines.iter().copied())
            .collect()
    }

    /// Fills `samples` from the messages read for [`LogEvidence::pending_samples`]: up to
    /// three distinct ones per template, in line order.
    pub fn fill_samples(&mut self, messages: &BTreeMap<usize, String>) {
        for t in &mut self.templates {
            for i in std::mem::take(&mut t.sample_lines) {
                let Some(m) = messages.get(&i) else {
                    continue;
                };
                if t.samples.len() < 3 && !t.samples.contains(m) {
                    t.samples.push(m.clone());
                }
            }
        }
    }
}

/// Mines each entity's log lines and compares the incident window with the baseline;
/// `alert` is the bucket the alert fired in.
#[must_use]
pub fn analyze(
    logs: &[LogLine<'_>],
    grid: &Grid,
    baseline: &Range<usize>,
    incident: &Range<usize>,
    alert: usize,
) -> LogEvidence {
    // Hashed, then put in entity order: a tree lookup per line cost more than the rest.
    let mut hashed: FastMap<&str, Vec<(usize, &LogLine<'_>)>> = FastMap::default();
    for (i, l) in logs.iter().enumerate() {
        hashed.entry(l.entity).or_default().push((i, l));
    }
    let mut by_entity: Vec<_> = hashed.into_iter().collect();
    by_entity.sort_unstable_by_key(|(e, _)| *e);
    let covered = covered_buckets(logs, grid);
    let w = Frame {
        grid,
        baseline,
        incident,
        alert,
        base_len: observed_len(&covered, baseline),
        inc_len: observed_len(&covered, incident),
    };
    let per: Vec<(String, (usize, usize), Vec<TemplateStat>)> = by_entity
        .into_par_iter()
        .map(|(entity, rows)| {
            let mined = group(&rows);
            let mut stats: Vec<TemplateStat> = mined
                .templates
                .iter()
                .map(|t| TemplateStat::new(entity, t, grid.len))
                .collect();
            let counts = count_lines(&mut stats, &rows, &mined.cluster_of_line, &w);
            score_templates(&mut stats, &w);
            (entity.to_string(), counts, stats)
        })
        .collect();
    let mut ev = LogEvidence::default();
    for (entity, counts, stats) in per {
        ev.lines.insert(entity, counts);
        ev.templates.extend(stats);
    }
    ev
}

/// The windows lines are counted in, and how much of each the logs cover (in buckets).
struct Frame<'a> {
    grid: &'a Grid,
    baseline: &'a Range<usize>,
    incident: &'a Range<usize>,
    alert: usize,
    base_len: f64,
    inc_len: f64,
}

impl TemplateStat {
    /// A template with nothing counted yet.
    fn new(entity: &str, template: &str, buckets: usize) -> TemplateStat {
        TemplateStat {
            entity: entity.to_string(),
            template: template.to_string(),
            severity: Severity::Info,
            baseline: 0,
            incident: 0,
            first_seen: None,
            ratio: 0.0,
            new: false,
            score: 0.0,
            fall: 0.0,
            counts: vec![0; buckets],
            samples: Vec::new(),
            sample_lines: Vec::new(),
        }
    }
}

/// Counts each line into its template (`cluster_of_line`, parallel to `rows`): per bucket, per
/// window, its severity, first sighting and samples. Returns the entity's (baseline, incident)
/// line counts.
fn count_lines(
    stats: &mut [TemplateStat],
    rows: &[(usize, &LogLine<'_>)],
    cluster_of_line: &[u32],
    w: &Frame<'_>,
) -> (usize, usize) {
    let (mut nb, mut ni) = (0, 0);
    for (&(line, row), &c) in rows.iter().zip(cluster_of_line) {
        let Some(s) = stats.get_mut(c as usize) else {
            continue;
        };
        // A message left on disk: its template stands in for its words.
        let on_disk = row.template.filter(|_| row.message.is_empty());
        s.severity = s
            .severity
            .max(Severity::of(row.level, on_disk.unwrap_or(row.message)));
        let Some(b) = w.grid.index(row.ts_ms) else {
            continue;
        };
        s.counts[b] += 1;
        if w.baseline.contains(&b) {
            s.baseline += 1;
            nb += 1;
        } else if w.incident.contains(&b) {
            s.incident += 1;
            ni += 1;
            s.first_seen = Some(s.first_seen.map_or(row.ts_ms, |f| f.min(row.ts_ms)));
            if on_disk.is_some() {
                // Read later (a repeated message leaves fewer than three samples).
                if s.sample_lines.len() < SAMPLE_LINES {
                    s.sample_lines.push(line);
                }
            } else if s.samples.len() < 3 && !s.samples.iter().any(|m| m == row.message) {
                s.samples.push(row.message.to_string());
            }
        }
    }
    (nb, ni)
}

/// Rates every counted template (surge ratio, newness, score, fall), then sorts them most
/// telling first.
fn score_templates(stats: &mut [TemplateStat], w: &Frame<'_>) {
    for s in stats.iter_mut() {
        s.ratio = (s.incident as f64 / w.inc_len) / ((s.baseline as f64 + 1.0) / w.base_len);
        s.new = s.baseline == 0 && s.incident >= 3;
        s.score = if s.notable() {
            s.severity.weight() * s.incident as f64 * s.ratio.max(1.0).ln().max(0.5)
        } else {
            0.0
        };
    }
    super::fall::measure(stats, w.baseline, w.incident, w.alert);
    stats.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.incident.cmp(&a.incident))
            .then(a.template.cmp(&b.template))
    });
}

/// Lines kept per template to read samples from, when messages stay on disk.
const SAMPLE_LINES: usize = 3;

/// One entity's lines grouped into templates: by the templates they carry when every line
/// has one (grouped upstream, see `import`), else mined from their messages.
fn group(rows: &[(usize, &LogLine<'_>)]) -> super::miner::Mined {
    if rows.iter().all(|(_, r)| r.template.is_some()) {
        let mut id: FastMap<&str, u32> = FastMap::default();
        // Templates decoded from a dictionary-encoded column share their bytes, so the same
        // address and length is the same template without hashing its few hundred bytes; a
        // new address falls back to the text.
        let mut at: FastMap<(usize, usize), u32> = FastMap::default();
        let mut out = super::miner::Mined::default();
        for (_, r) in rows {
            let t = r.template.unwrap_or_default();
            let c = *at.entry((t.as_ptr() as usize, t.len())).or_insert_with(|| {
                let next = u32::try_from(out.templates.len()).unwrap_or(u32::MAX);
                *id.entry(t).or_insert_with(|| {
                    out.templates.push(t.to_string());
                    next
                })
            });
            out.cluster_of_line.push(c);
        }
        return out;
    }
    let contents: Vec<&str> = rows.iter().map(|(_, r)| r.message).collect();
    mine(&contents, &MinerConfig::default())
}

/// Which grid buckets hold any log line, of any entity.
fn covered_buckets(logs: &[LogLine<'_>], grid: &Grid) -> Vec<bool> {
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
mod tests;

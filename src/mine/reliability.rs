//! Time to detect and impact by root-cause kind, for trends.md: what a reliability lead trends
//! across incidents (from the format-2 outage fields of each verdict).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::rows::IncidentRow;
use crate::stats::median;

fn secs(v: Option<f64>) -> String {
    v.map_or("–".into(), |s| {
        let s = s.round() as i64;
        if s >= 60 {
            format!("{} min {} s", s / 60, s % 60)
        } else {
            format!("{s} s")
        }
    })
}

/// Appends the section; nothing when no incident carries an onset.
pub fn section(rows: &[IncidentRow], md: &mut String) {
    let mut by: BTreeMap<String, Vec<&IncidentRow>> = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.failed() && r.onset.is_some()) {
        let k = r
            .root_cause_kind
            .clone()
            .unwrap_or_else(|| "(undetermined)".into());
        by.entry(k).or_default().push(r);
    }
    if by.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## Time to detect and impact by root-cause kind\n\nTime to detect is the alert time minus the onset (the first sample of the alert series' sustained breach); failed requests are those beyond the baseline error rate, a lower bound where the data ends with the incident ongoing.\n\n| kind | incidents | median time to detect | median duration | ongoing at end of data | failed requests (total) | median peak error ratio |\n|---|---|---|---|---|---|---|"
    );
    for (kind, rs) in by {
        let col = |f: &dyn Fn(&IncidentRow) -> Option<f64>| -> Vec<f64> {
            rs.iter().filter_map(|r| f(r)).collect()
        };
        let mttd = median(&col(&|r| r.detected_after_s.map(|s| s as f64)));
        let dur = median(&col(&|r| r.duration_s.map(|s| s as f64)));
        let ongoing = rs.iter().filter(|r| r.ongoing == Some(true)).count();
        let failed: i64 = rs.iter().filter_map(|r| r.failed_requests).sum();
        let ratio = median(&col(&|r| r.error_ratio_peak))
            .map_or("–".into(), |p| format!("{:.1} %", p * 100.0));
        let _ = writeln!(
            md,
            "| {kind} | {} | {} | {} | {ongoing} | {failed} | {ratio} |",
            rs.len(),
            secs(mttd),
            secs(dur)
        );
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::section;
    use crate::mine::rows::{IncidentRow, OK};

    fn row(kind: &str, detect: i64, dur: i64, failed: i64, ongoing: bool) -> IncidentRow {
        let mut r = IncidentRow::failure("x", "x", None, String::new());
        r.status = OK.into();
        r.error = None;
        r.root_cause_kind = Some(kind.into());
        r.onset = Some(0);
        r.detected_after_s = Some(detect);
        r.duration_s = Some(dur);
        r.failed_requests = Some(failed);
        r.error_ratio_peak = Some(0.02);
        r.ongoing = Some(ongoing);
        r
    }

    #[test]
    fn medians_and_totals_per_kind() {
        let rows = [
            row("sidecar", 300, 1200, 100, true),
            row("sidecar", 120, 600, 50, false),
            row("sidecar", 60, 300, 10, false),
            row("redis", 45, 90, 5, false),
        ];
        let mut md = String::new();
        section(&rows, &mut md);
        assert!(
            md.contains("| redis | 1 | 45 s | 1 min 30 s | 0 | 5 | 2.0 % |"),
            "{md}"
        );
        assert!(
            md.contains("| sidecar | 3 | 2 min 0 s | 10 min 0 s | 1 | 160 | 2.0 % |"),
            "{md}"
        );
    }

    #[test]
    fn nothing_without_an_onset() {
        let mut r = row("sidecar", 1, 1, 1, false);
        r.onset = None;
        let mut md = String::new();
        section(&[r], &mut md);
        assert!(md.is_empty());
    }
}

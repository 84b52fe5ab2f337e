//! Tests of `evidence`.

use super::*;
use crate::model::LogRow;

fn lines(rows: &[LogRow]) -> Vec<LogLine<'_>> {
    rows.iter().map(LogRow::line).collect()
}

fn row(ts_min: i64, entity: &str, msg: &str, level: &str) -> LogRow {
    LogRow {
        ts_ms: ts_min * 60_000,
        entity: entity.into(),
        message: msg.into(),
        pod: None,
        node: None,
        level: Some(level.into()),
        template: None,
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
    let ev = analyze(&lines(&logs), &grid, &(0..20), &(20..40), 20);
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
    let ev = analyze(&lines(&logs), &grid40(), &(0..20), &(20..40), 20);
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
        let ev = analyze(&lines(&logs), &grid40(), &(0..20), &(20..40), alert);
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
    let ev = analyze(&lines(&logs), &grid40(), &(0..20), &(20..40), 20);
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
    let covered = covered_buckets(&lines(&logs), &g);
    assert_eq!(observed_len(&covered, &(0..20)), 3.0);
    assert_eq!(observed_len(&covered, &(20..40)), 20.0);
    let ev = analyze(&lines(&logs), &g, &(0..20), &(20..40), 20);
    // One line per kept minute before and after: no surge.
    assert!(ev.templates[0].ratio < 1.0, "{:?}", ev.templates);
    // A quiet spell in a fully kept window still counts as quiet.
    let mut quiet: Vec<LogRow> = (0..19).map(|m| row(m, "api", "tick", "info")).collect();
    quiet.push(row(25, "api", "tick", "info"));
    let covered = covered_buckets(&lines(&quiet), &g);
    assert_eq!(observed_len(&covered, &(0..20)), 20.0);
    assert_eq!(observed_len(&covered, &(20..40)), 1.0);
}

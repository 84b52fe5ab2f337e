//! The report against the data it describes, on simulated incidents of every kind: every
//! timeline row that names a series and a threshold holds on that series, and the reviewers'
//! sections are snapshotted.

use crate::pipeline::{Analysis, Options, analyze};
use crate::sim::{scenario_names, simulate};
use crate::verdict::timing::first_sustained;

use super::timeline;

fn analysed(scenario: &str) -> Analysis {
    let data = simulate(scenario, 1).expect("known scenario");
    let dir = tempfile::tempdir().expect("temp dir");
    crate::archive::write(&data, dir.path()).expect("archive written");
    let mut an = analyze(dir.path(), &Options::default()).expect("analysed");
    an.source.dir = format!("sim/{scenario}");
    an
}

/// Each claimed row: its time is a grid sample whose value lies beyond the threshold, and the
/// breach is sustained from there (the timing model's definition).
fn check_rows(an: &Analysis, scenario: &str) {
    let ctx = &an.ctx;
    let rows = timeline::rows(ctx, &an.verdict);
    assert!(
        rows.windows(2).all(|w| w[0].at <= w[1].at),
        "{scenario}: rows sorted"
    );
    for r in &rows {
        let Some(c) = &r.claim else { continue };
        let v = ctx
            .get(&c.key)
            .unwrap_or_else(|| panic!("{scenario}: {:?}", c.key));
        let b = ctx.aligned.grid.index(r.at).expect("inside the grid");
        assert_eq!(ctx.time(b), r.at, "{scenario}: {} on a sample", r.text);
        let beyond = |x: f64| {
            if c.up {
                x >= c.threshold
            } else {
                x <= c.threshold
            }
        };
        assert!(
            beyond(v.values[b]),
            "{scenario}: {} ({})",
            r.text,
            v.values[b]
        );
        let w = usize::try_from(120_000 / ctx.aligned.grid.step)
            .unwrap_or(2)
            .clamp(2, 8);
        assert_eq!(
            first_sustained(v.values, b..ctx.aligned.incident.end, w, beyond),
            Some(b),
            "{scenario}: {} is the start of a sustained breach",
            r.text
        );
    }
    let t = an.verdict.timing(ctx);
    if let (Some(o), Some(d)) = (&t.onset, an.verdict.outage.detected_after_s) {
        assert_eq!(
            d * 1000,
            ctx.windows.fired_at - o.at,
            "{scenario}: detection"
        );
    }
}

/// The sections a reviewer reads first, for a snapshot.
fn sections(md: &str) -> String {
    let keep = [
        "## Summary",
        "## Impact",
        "## Detection",
        "## Root cause",
        "## Trigger",
        "## Mechanism",
        "## What we don't know",
        "## Action items",
        "## Timeline",
    ];
    md.split("\n## ")
        .map(|s| format!("## {s}"))
        .filter(|s| keep.iter().any(|k| s.starts_with(k)))
        .map(|s| s.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[test]
fn timeline_rows_hold_on_their_series_for_every_kind() {
    for scenario in scenario_names() {
        let an = analysed(scenario);
        check_rows(&an, scenario);
        let md = super::markdown::render(&an, &[], None, None);
        insta::assert_snapshot!(format!("sections-{scenario}"), sections(&md));
    }
}

/// What only people know comes from `[postmortem]` in incident.toml, and an objective there
/// turns the impact into error-budget terms.
#[test]
fn postmortem_keys_fill_the_header_and_the_budget() {
    let mut an = analysed("live-rt-jitter");
    let md = super::markdown::render(&an, &[], None, None);
    assert!(
        md.contains("| Severity | _to fill in_ |"),
        "placeholders without [postmortem]"
    );
    assert!(!md.contains("**Error budget**"));
    an.ctx.spec.postmortem = Some(crate::model::PostmortemSpec {
        status: Some("in review".into()),
        severity: Some("SEV-2".into()),
        authors: vec!["A. Oncall".into()],
        owners: vec!["live team".into()],
        slo: Some(0.999),
    });
    let md = super::markdown::render(&an, &[], None, None);
    for want in [
        "| Status | in review |",
        "| Severity | SEV-2 |",
        "| Authors | A. Oncall |",
        "| Owners | live team |",
        "**Error budget** (objective 99.9 % of requests succeed): ",
    ] {
        assert!(md.contains(want), "missing {want}");
    }
}

//! Tests of how the verdict weighs hypotheses against the path to the alert, and when the
//! culprit ranking may name a root cause.

use super::cause::{kind_evidenced, outscored};
use super::*;
use crate::evidence::testing::{Fixture, k, kp};

fn verdict(ctx: &Context) -> Verdict {
    let hyps = crate::rules::enumerate(ctx);
    let outcomes = crate::rules::run_all(ctx, &hyps);
    decide(ctx, hyps, outcomes)
}

#[test]
fn a_healthy_caller_stops_the_path_to_the_alert() {
    // front → mid → leaf and front → other → far: mid stayed healthy, other has no data.
    let ctx = Fixture::new("front")
        .depends("front", &["mid", "other"])
        .depends("mid", &["leaf"])
        .depends("other", &["far"])
        .slow_service("front")
        .healthy_service("mid")
        .slow_service("leaf")
        .build();
    let sick = sick_reach(&ctx, &ctx.topo.reach("front"));
    for e in ["front", "mid", "other", "far"] {
        assert!(sick.contains(e), "{e} in {sick:?}");
    }
    // leaf's trouble did not get past mid.
    assert!(!sick.contains("leaf"), "{sick:?}");
    assert!(ctx.topo.reach("front").contains("leaf"));
}

/// Three services whose CPU stays put, so one that moves stands out among them.
fn quiet_peers() -> Fixture {
    ["b", "c", "d"].iter().fold(Fixture::new("front"), |f, e| {
        f.flat(kp(e, &format!("{e}-1"), "app", "cpu_usage_cores"), 0.1)
    })
}

#[test]
fn the_ranking_names_no_root_cause_without_an_incident() {
    // Nothing degraded and the alert never left its baseline; one pod's CPU went up twentyfold while
    // its peers' did not, which the ranking alone would single out.
    let quiet = quiet_peers()
        .depends("front", &["api"])
        .healthy_service("front")
        .healthy_service("api")
        .step(kp("api", "api-1", "app", "cpu_usage_cores"), 0.1, 2.0);
    let ctx = quiet.build();
    assert!(
        rank::root_cause(&rank::rank(&ctx)).is_some(),
        "{:?}",
        rank::rank(&ctx)
    );
    assert_eq!(verdict(&ctx).root_cause, None);
    // The alert's latency drifting up a fifth, five minutes after it fired: not what fired it.
    let ctx = quiet_peers()
        .depends("front", &["api"])
        .healthy_service("api")
        .step_at(k("front", "latency_p99_ms"), 100.0, 120.0, 38)
        .step(kp("api", "api-1", "app", "cpu_usage_cores"), 0.1, 2.0)
        .build();
    assert!(ctx.scope.affected().is_empty());
    assert_eq!(verdict(&ctx).root_cause, None);
    // The same with the alert's own latency up: now there is something to explain.
    let ctx = Fixture::new("front")
        .depends("front", &["api"])
        .healthy_service("api")
        .step(k("front", "latency_p99_ms"), 100.0, 400.0)
        .step(kp("api", "api-1", "app", "cpu_usage_cores"), 0.1, 2.0)
        .build();
    assert!(verdict(&ctx).root_cause.is_some());
}

#[test]
fn an_alert_that_moved_its_good_way_is_reported_as_such() {
    let fell = Fixture::new("front")
        .step(k("front", "latency_p99_ms"), 100.0, 20.0)
        .build();
    let v = verdict(&fell);
    let f = v.findings.iter().find(|f| f.kind == "alert-not-worse");
    assert!(f.is_some_and(|f| f.detail.contains("good way")), "{v:?}");
    let rose = Fixture::new("front").slow_service("front").build();
    assert!(
        !verdict(&rose)
            .findings
            .iter()
            .any(|f| f.kind == "alert-not-worse")
    );
}

#[test]
fn a_code_change_needs_a_change_or_logs_of_its_own() {
    // api's one series went up a hundredfold with the alert; nothing says its code changed.
    let f = || {
        quiet_peers()
            .depends("front", &["api"])
            .step(k("front", "latency_p99_ms"), 100.0, 400.0)
            .step(k("api", "queue_depth"), 10.0, 1000.0)
    };
    let rc = RootCause {
        kind: Kind::CodeChange,
        culprit: "api".into(),
        confidence: 0.5,
    };
    let ctx = f().build();
    assert!(!kind_evidenced(&ctx, &rank::rank(&ctx), &rc));
    let ctx = f().event(20, "api", "deploy", "v2").build();
    assert!(kind_evidenced(&ctx, &rank::rank(&ctx), &rc));
    // A CPU series that moved is evidence for its own kind, whatever the ranking guessed.
    let cpu = RootCause {
        kind: Kind::CpuSaturation,
        ..rc
    };
    let ctx = f().build();
    assert!(kind_evidenced(&ctx, &rank::rank(&ctx), &cpu));
}

#[test]
fn the_ranking_does_not_jump_a_candidate_the_rules_rate_higher() {
    let h = |culprit: &str, status, score| HypothesisVerdict {
        kind: Kind::Mysql,
        culprit: culprit.into(),
        status,
        rule: "none".into(),
        evidence: String::new(),
        score,
        outcomes: Vec::new(),
    };
    let rc = RootCause {
        kind: Kind::CpuSaturation,
        culprit: "api".into(),
        confidence: 0.27,
    };
    assert!(outscored(&[h("mysql:db", Status::Inconclusive, 0.4)], &rc));
    assert!(!outscored(&[h("mysql:db", Status::Eliminated, 0.4)], &rc));
    assert!(!outscored(&[h("mysql:db", Status::Inconclusive, 0.2)], &rc));
    assert!(!outscored(&[h("api", Status::Inconclusive, 0.4)], &rc));
}

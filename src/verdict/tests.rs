//! Tests of how the verdict weighs hypotheses against the path to the alert, and when the
//! culprit ranking may name a root cause.

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

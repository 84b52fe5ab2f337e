//! Tests of the culprit ranking on tiny in-memory incidents: where a fault starts, how the
//! call graph discounts inherited symptoms, logs, and when nothing stands out.

use super::*;
use crate::evidence::testing::{Fixture, ONSET, k, kp};

fn top(ctx: &Context) -> Vec<String> {
    rank(ctx).into_iter().map(|s| s.culprit).collect()
}

/// front → mid → leaf, every service serving and healthy unless a test breaks one; the leaf
/// is a workload of its own (a pod's CPU is measured), not only its caller's view of it.
fn chain() -> Fixture {
    inferred_chain().flat(kp("leaf", "leaf-6c9f-a1", "app", "cpu_usage_cores"), 0.4)
}

/// front → mid → leaf where the leaf is known only by its request metrics, as tracing draws
/// a database or a remote endpoint from its caller's spans.
fn inferred_chain() -> Fixture {
    Fixture::new("front")
        .depends("front", &["mid"])
        .depends("mid", &["leaf"])
        .healthy_service("front")
        .healthy_service("mid")
        .healthy_service("leaf")
}

/// Every service of the chain slow from the onset.
fn all_slow(f: Fixture) -> Context {
    f.slow_service("leaf")
        .slow_service("mid")
        .slow_service("front")
        .build()
}

#[test]
fn the_deepest_anomalous_service_ranks_first() {
    // The leaf slowed down; mid and front inherit it.
    let ctx = all_slow(chain());
    let r = rank(&ctx);
    assert_eq!(r[0].culprit, "leaf", "{r:?}");
    assert!(r.iter().find(|s| s.culprit == "mid").unwrap().callees > 0.5);
}

#[test]
fn a_dependency_seen_only_through_its_caller_does_not_explain_it() {
    // Only mid measures leaf: leaf's slowness is mid's view of its own calls.
    let ctx = all_slow(inferred_chain());
    let r = rank(&ctx);
    let score = |e: &str| r.iter().find(|s| s.culprit == e).unwrap();
    assert_eq!(score("mid").callees, 0.0, "{r:?}");
    // ... and, being mid's own observation, never outranks it.
    assert!(score("mid").score > score("leaf").score, "{r:?}");
    assert!(score("leaf").score > 0.0, "{r:?}");
    // front's callee is mid, a workload with callees of its own: front is still discounted.
    assert!(score("front").callees > 0.5, "{r:?}");
}

#[test]
fn a_raw_metric_of_a_pod_counts_for_its_service() {
    let ctx = chain()
        .slow_service("front")
        .step(
            kp("mid", "mid-7d9f-x1", "app", "CpuUsageRate(%)"),
            5.0,
            95.0,
        )
        .build();
    let r = rank(&ctx);
    assert_eq!(r[0].culprit, "mid", "{r:?}");
    assert_eq!(r[0].kind, Kind::CpuSaturation);
}

#[test]
fn a_new_error_template_counts_in_a_chatty_service() {
    // mid logs ten lines a minute; 14 lines of a new error are a small share but a clear sign.
    let mut f = chain();
    for _ in 0..10 {
        f = f.log("mid", 0, 40, "info", "served request {i}");
    }
    let ctx = f
        .log(
            "mid",
            26,
            14,
            "error",
            "connection reset by peer talking to billing",
        )
        .slow_service("front")
        .build();
    let r = rank(&ctx);
    let mid = r.iter().find(|s| s.culprit == "mid").unwrap();
    assert!(mid.logs > 0.7, "{r:?}");
}

/// `f` with steady info logs in leaf, then a new error template in it from the onset.
fn with_leaf_errors(f: Fixture) -> Fixture {
    f.log("leaf", 0, 20, "info", "served request {i}").log(
        "leaf",
        26,
        12,
        "error",
        "NullPointerException in PriceCalculator",
    )
}

/// The chain with steady info logs, then a new error template in leaf from the onset, and
/// `mid_line` logged by mid meanwhile.
fn leaf_errors(mid_level: &str, mid_line: &str) -> Context {
    with_leaf_errors(chain())
        .log("mid", 0, 20, "info", "served request {i}")
        .log("mid", 26, 12, mid_level, mid_line)
        .slow_service("front")
        .build()
}

#[test]
fn a_callee_logging_the_same_trouble_explains_the_callers_errors() {
    let ctx = leaf_errors("error", "call to leaf failed: 500");
    let r = rank(&ctx);
    let logs = |e: &str| r.iter().find(|s| s.culprit == e).unwrap().logs;
    assert!(logs("mid") < 0.5 * logs("leaf"), "{r:?}");
    assert_eq!(r[0].culprit, "leaf", "{r:?}");
}

#[test]
fn errors_naming_another_entity_count_half_for_the_one_logging_them() {
    // mid logs forty lines a minute, then 12 new errors: about a failed call to leaf (which
    // logs nothing), or about itself. Words that merely contain a name are not the name.
    let mid_logs = |n: usize, line: &str| {
        let mut f = chain();
        for _ in 0..40 {
            f = f.log("mid", 0, 40, "info", "served request {i}");
        }
        let ctx = f
            .log("mid", 26, n, "error", line)
            .slow_service("front")
            .build();
        rank(&ctx)
            .into_iter()
            .find(|s| s.culprit == "mid")
            .unwrap()
            .logs
    };
    let own = mid_logs(12, "IllegalStateException: no rows for order {i}");
    let client_side = mid_logs(12, "IllegalStateException: No instances available for leaf");
    let not_a_name = mid_logs(12, "IllegalStateException: no instances of leafy-thing");
    assert!(own > 0.5, "{own}");
    // Twelve lines about leaf weigh as six of mid's own.
    let six_own = mid_logs(6, "IllegalStateException: no rows for order {i}");
    assert!(
        (client_side - six_own).abs() < 1e-9,
        "{client_side} vs {six_own}"
    );
    assert!(client_side < own);
    assert_eq!(not_a_name, own);
}

#[test]
fn surging_error_logs_point_at_their_service() {
    let ctx = leaf_errors("info", "served request {i}");
    let r = rank(&ctx);
    assert_eq!(r[0].culprit, "leaf", "{r:?}");
    assert!(r[0].logs > 0.5);
}

/// Five calls a minute into leaf, each logging on the way in and, in the baseline, on the way
/// out; `mid_stops` makes mid stop logging the second step of its own handler too.
fn path_breaks(mid_stops: bool) -> Context {
    let mut f = chain();
    for _ in 0..5 {
        f = f
            .log("leaf", 0, 40, "info", "quote request {i} received")
            .log("leaf", 0, 20, "info", "quote {i} priced")
            .log("mid", 0, 40, "info", "order {i} received")
            .log(
                "mid",
                0,
                if mid_stops { 20 } else { 40 },
                "info",
                "order {i} checked",
            );
    }
    f.slow_service("front").build()
}

#[test]
fn a_code_path_that_stops_logging_points_at_its_service() {
    let ctx = path_breaks(false);
    let r = rank(&ctx);
    assert_eq!(r[0].culprit, "leaf", "{r:?}");
    assert!(r[0].fall > 0.9, "{r:?}");
    // Steady lines are not evidence.
    assert!(
        r.iter().all(|s| s.culprit == "leaf" || s.fall == 0.0),
        "{r:?}"
    );
}

#[test]
fn a_callers_fall_explains_its_callees() {
    let ctx = path_breaks(true);
    let r = rank(&ctx);
    let fall = |e: &str| r.iter().find(|s| s.culprit == e).unwrap().fall;
    assert!(fall("leaf") < 0.5 * fall("mid"), "{r:?}");
    assert_eq!(r[0].culprit, "mid", "{r:?}");
}

#[test]
fn nothing_stands_out_when_nothing_moved() {
    let ctx = chain().build();
    assert!(top(&ctx).is_empty());
    assert_eq!(root_cause(&rank(&ctx)), None);
}

#[test]
fn equal_suspects_tie_and_a_lone_one_stands_out() {
    let both = Fixture::new("front")
        .slow_service("front")
        .step(k("a", "x"), 10.0, 100.0)
        .step(k("b", "x"), 10.0, 100.0)
        .build();
    let r = rank(&both);
    assert!(
        r.iter().any(|s| s.culprit == "a") && r.iter().any(|s| s.culprit == "b"),
        "{r:?}"
    );
    let (a, b) = (
        r.iter().find(|s| s.culprit == "a").unwrap().score,
        r.iter().find(|s| s.culprit == "b").unwrap().score,
    );
    assert!((a - b).abs() < 1e-9, "{r:?}");
    assert!(
        root_cause(&r).is_none_or(|rc| rc.culprit == "front"),
        "neither of two equal suspects stands out"
    );
    let one = Fixture::new("a")
        .step(k("a", "x"), 10.0, 1000.0)
        .flat(k("b", "x"), 10.0)
        .build();
    assert_eq!(
        root_cause(&rank(&one)).map(|rc| rc.culprit),
        Some("a".to_string())
    );
}

#[test]
fn an_entity_that_moved_after_the_onset_ranks_below_one_that_moved_at_it() {
    // Both suspects' series move as far; b's begins six minutes after the alert's onset.
    let ctx = Fixture::new("front")
        .slow_service("front")
        .step(k("a", "x"), 10.0, 100.0)
        .step_at(k("b", "x"), 10.0, 100.0, ONSET + 6)
        .build();
    let r = rank(&ctx);
    let score = |e: &str| r.iter().find(|s| s.culprit == e).unwrap().score;
    assert!(score("a") > score("b"), "{r:?}");
}

#[test]
fn the_alerting_entity_earns_no_correlation_from_its_own_alert_series() {
    // The alert points at a queue's CPU, which rose with a service's CPU; the service began
    // rising three minutes earlier, in a ramp. The queue's alert series correlates with itself
    // whatever caused it: that earns the queue nothing.
    let ramp = |i: usize| match i {
        i if i < ONSET - 3 => 0.5,
        i if i < ONSET + 3 => 0.5 + 0.4 * (i + 4 - ONSET) as f64,
        _ => 3.3,
    };
    let f = Fixture::new("queue")
        .alert_metric("cpu_cores")
        .step(k("queue", "cpu_cores"), 1.0, 3.0)
        .shaped(k("svc", "cpu_cores"), ramp)
        .flat(k("other", "cpu_cores"), 1.0);
    let r = rank(&f.build());
    let part = |r: &[CulpritScore], e: &str| r.iter().find(|s| s.culprit == e).unwrap().alert;
    assert_eq!(part(&r, "queue"), 0.0, "{r:?}");
    assert!(part(&r, "svc") > 0.5, "{r:?}");
    assert_eq!(r[0].culprit, "svc", "{r:?}");
    // Its other series are judged like everyone's: memory rising with the alert counts.
    let f = Fixture::new("queue")
        .alert_metric("cpu_cores")
        .step(k("queue", "cpu_cores"), 1.0, 3.0)
        .step(k("queue", "memory_bytes"), 1e9, 3e9)
        .flat(k("other", "cpu_cores"), 1.0);
    assert!(part(&rank(&f.build()), "queue") > 0.9);
}

#[test]
fn without_an_alert_series_correlation_favours_no_entity() {
    // The alert names a metric the archive lacks: the alerting entity and another moving as
    // far score alike.
    let ctx = Fixture::new("a")
        .step(k("a", "x"), 10.0, 100.0)
        .step(k("b", "x"), 10.0, 100.0)
        .build();
    let r = rank(&ctx);
    assert!((r[0].score - r[1].score).abs() < 1e-9, "{r:?}");
}

#[test]
fn a_latency_that_fell_does_not_stand_out_as_a_fault() {
    // a's latency fell a hundredfold, b's CPU rose as far: only b's move is a symptom.
    let ctx = Fixture::new("front")
        .slow_service("front")
        .step(k("a", "latency_p50_ms"), 100.0, 1.0)
        .step(k("b", "cpu_cores"), 0.1, 10.0)
        .flat(k("c", "latency_p50_ms"), 100.0)
        .flat(k("c", "cpu_cores"), 0.1)
        .build();
    assert_eq!(
        top(&ctx).first().map(String::as_str),
        Some("b"),
        "{:?}",
        rank(&ctx)
    );
    let sig = standout::signals(&ctx);
    let (fell, rose) = (sig["latency_p50_ms"]["a"], sig["cpu_cores"]["b"]);
    assert!(fell < 0.5 * rose, "{sig:?}");
}

#[test]
fn merge_keeps_the_funnel_head_and_adds_new_culprits() {
    let r = |kind, c: &str, score| Ranked {
        kind,
        culprit: c.into(),
        score,
    };
    let funnel = vec![
        r(Kind::Redis, "redis:x", 0.9),
        r(Kind::Network, "cluster", 0.0),
    ];
    let scores = vec![
        CulpritScore {
            culprit: "redis:x".into(),
            kind: Kind::Redis,
            score: 0.8,
            own: 0.8,
            callees: 0.0,
            alert: 1.0,
            logs: 0.0,
            fall: 0.0,
            standout: 0.0,
            reason: String::new(),
        },
        CulpritScore {
            culprit: "api".into(),
            kind: Kind::CodeChange,
            score: 0.4,
            own: 0.4,
            callees: 0.8,
            alert: 1.0,
            logs: 0.0,
            fall: 0.0,
            standout: 0.0,
            reason: String::new(),
        },
    ];
    let m: Vec<String> = merge(funnel.clone(), &scores, None)
        .into_iter()
        .map(|x| x.culprit)
        .collect();
    assert_eq!(m, ["redis:x", "api", "cluster"]);
    // A root cause taken from the ranking heads the list once.
    let rc = RootCause {
        kind: Kind::CodeChange,
        culprit: "api".into(),
        confidence: 0.3,
    };
    let m: Vec<String> = merge(funnel, &scores, Some(&rc))
        .into_iter()
        .map(|x| x.culprit)
        .collect();
    assert_eq!(m, ["api", "redis:x", "cluster"]);
}

#[test]
fn a_standing_out_culprit_outranks_weak_funnel_support() {
    let funnel = vec![Ranked {
        kind: Kind::TrafficSpike,
        culprit: "front".into(),
        score: 0.55,
    }];
    let scores = vec![CulpritScore {
        culprit: "leaf".into(),
        kind: Kind::CpuSaturation,
        score: 0.9,
        own: 0.9,
        callees: 0.0,
        alert: 0.5,
        logs: 0.0,
        fall: 0.0,
        standout: 0.9,
        reason: String::new(),
    }];
    let m: Vec<String> = merge(funnel, &scores, None)
        .into_iter()
        .map(|x| x.culprit)
        .collect();
    assert_eq!(m, ["leaf", "front"]);
}

#[test]
fn a_metric_only_the_culprit_moves_on_outranks_shared_symptoms() {
    // Every service is slow (the symptom spreads), but only mid's CPU moved.
    let ctx = chain()
        .slow_service("front")
        .slow_service("mid")
        .slow_service("leaf")
        .step(k("mid", "cpu_cores"), 0.2, 1.9)
        .flat(k("front", "cpu_cores"), 0.2)
        .flat(k("leaf", "cpu_cores"), 0.2)
        .build();
    let r = rank(&ctx);
    assert_eq!(r[0].culprit, "mid", "{r:?}");
    assert!(r[0].standout > 0.5, "{r:?}");
}

#[test]
fn an_availability_that_rose_is_no_fault() {
    // A success rate read as 0 while idle, then 100: a recovery, not where a fault started.
    let ctx = chain()
        .step(k("leaf", "availability"), 0.0, 100.0)
        .slow_service("front")
        .build();
    let r = rank(&ctx);
    assert!(r.iter().all(|s| s.culprit != "leaf"), "{r:?}");
}

#[test]
fn calls_to_an_unnamed_dependency_count_half_for_the_caller_and_in_full_above_it() {
    // mid's calls to something the archive does not name slowed; front is slow with it.
    let ctx = chain()
        .step(k("mid", "dep_latency_ms"), 5.0, 500.0)
        .slow_service("front")
        .build();
    let r = rank(&ctx);
    let score = |e: &str| r.iter().find(|s| s.culprit == e).unwrap();
    assert!(score("mid").own > 0.0, "{r:?}");
    // What front waits on is mid's waiting in full.
    assert!(
        (2.0 * score("mid").own - score("front").callees).abs() < 1e-9,
        "{r:?}"
    );
}

#[test]
fn each_culprit_says_what_lifted_it() {
    let ctx = all_slow(chain());
    let why = reasons(&rank(&ctx));
    assert_eq!(
        why["leaf"],
        "its latency_p99_ms left its baseline while what it calls did not"
    );
    assert!(why["mid"].ends_with("as did something it calls"), "{why:?}");
}

#[test]
fn without_a_recorded_change_a_moving_resource_names_the_kind_before_new_logs() {
    let errors = |f: Fixture| with_leaf_errors(f).slow_service("front").build();
    let r = rank(&errors(chain()));
    assert_eq!(
        (r[0].culprit.as_str(), r[0].kind),
        ("leaf", Kind::CodeChange),
        "{r:?}"
    );
    let burning = inferred_chain().step(
        kp("leaf", "leaf-6c9f-a1", "app", "cpu_usage_cores"),
        0.4,
        1.6,
    );
    let r = rank(&errors(burning));
    assert_eq!(
        (r[0].culprit.as_str(), r[0].kind),
        ("leaf", Kind::CpuSaturation),
        "{r:?}"
    );
}

//! Rule `traffic-surge-before-onset`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::load::{SURGE, added, concentrated, spread_through_gateway};
use crate::evidence::sources::fmt_val;
use crate::model::clock;

declare_rule! {
    /// ## What it rules out
    /// A traffic spike at a service or gateway, when its request rate stayed steady or fell, or
    /// rose by less than one request per second; at a gateway, when the services behind it
    /// that surged did so through other gateways too, or when one service behind it carries
    /// most of its added load (then the spike is that service's); at a service, when its
    /// added load is a minority share of a gateway's surge that others behind the gateway, or
    /// services the archive has no request rate for, took the rest of (the spike is the
    /// gateway's). Supports it when requests rose by 40 % or more no later than
    /// the symptoms began; leaves it open when the surge was over inside the window while the
    /// alert's symptom went on.
    ///
    /// ## Evidence used
    /// The entity's `requests_per_s` (summed over pods when only per-pod data exists), its
    /// onset and last surging sample, the alert series after it, and the incident onset (the
    /// alerting entity's earliest symptom).
    ///
    /// ## Why this is sound
    /// A load-driven incident needs the load first: queues grow after arrivals outpace
    /// service. Traffic that rises only after latency does is more likely retries, an effect.
    /// And the queue goes when the load does: symptoms that outlive the surge by two samples
    /// are held up by something else (the surge may have tipped it over: a trigger at most).
    ///
    /// ## Inconclusive when
    /// No request rate exists for the entity, or the symptoms outlived the surge.
    ///
    /// ## Example
    /// `live-api` 150/s → 310/s from 13:56, symptoms from 13:58 → supported.
    pub(crate) TrafficSurgeBeforeOnset { id: "traffic-surge-before-onset", kinds: [TrafficSpike], reads: [] }
}

/// Added load below which a surge cannot be the cause: fewer than one extra request per second
/// slows no service, whatever the percentage (a rise "from zero" to 0.1/s is +∞ %). It is a new
/// flow — a test client, a retrying caller — not a spike.
const MIN_ADDED_RPS: f64 = 1.0;

/// Attempts a client makes per failed request, at most (a first try and two retries is the
/// common default of gRPC retry policies, Envoy's `num_retries: 2`, and most HTTP clients).
const RETRY_ATTEMPTS: f64 = 3.0;

/// Failed requests per second at `e` during the incident: its own errors plus the errors its
/// callers saw calling it (timeouts are seen only by the caller).
fn failed_requests(ctx: &Context, e: &str) -> f64 {
    let level = |v: Option<crate::evidence::View<'_>>| {
        v.map_or(0.0, |v| v.score.level.max(v.score.peak).max(0.0))
    };
    let own = level(ctx.metric(e, "errors_per_s"));
    let callers: f64 = ctx
        .topo
        .users_of(e)
        .into_iter()
        .map(|u| level(ctx.dep(u, e, "dep_errors_per_s")))
        .sum();
    own + callers
}

/// Samples the load must be back to its baseline for, and the symptom still beyond its own,
/// after the surge's last sample: one sample either way is noise, or a queue draining.
const OUTLIVED_SAMPLES: usize = 2;

/// When the surge ended inside the incident window while the alert's symptom went on, says
/// so. Load that is gone holds no queue up: a spike that caused the symptom takes it along
/// when it ends (a backlog drains in seconds at the old rate). The spike may still have
/// tipped something over, so this leaves the hypothesis open rather than ruling it out.
fn symptoms_outlived(ctx: &Context, load: &crate::evidence::View<'_>) -> Option<String> {
    let end = load.score.run_end?;
    let alert = ctx.alert_series()?;
    let inc_end = ctx.aligned.incident.end.min(alert.values.len());
    let finite_after = |vals: &[f64]| -> Vec<usize> {
        (end + 1..inc_end.min(vals.len()))
            .filter(|&i| vals.get(i).is_some_and(|v| v.is_finite()))
            .collect()
    };
    if finite_after(load.values).len() < OUTLIVED_SAMPLES {
        return None;
    }
    let still: Vec<usize> = finite_after(alert.values)
        .into_iter()
        .filter(|&i| alert.score.beyond(alert.values[i]))
        .collect();
    let last = *still.last()?;
    if still.len() < OUTLIVED_SAMPLES || last <= end + 1 {
        return None;
    }
    let (entity, metric) = ctx.alert_key();
    Some(format!(
        "the surge was over after {} while {entity}'s {metric} stayed up to {}: load that is gone holds no queue up (a trigger at most)",
        clock(ctx.time(end)),
        clock(ctx.time(last))
    ))
}

impl Rule for TrafficSurgeBeforeOnset {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let e = h.culprit.as_str();
        let Some(v) = ctx.metric(e, "requests_per_s") else {
            return Some(Outcome::inconclusive(
                id,
                format!("not testable: no request rate for {e}"),
            ));
        };
        let s = v.score;
        let change = format!(
            "{} → {} ({})",
            fmt_val("requests_per_s", s.base),
            fmt_val("requests_per_s", s.level),
            s.pct()
        );
        if s.up(SURGE) && s.level - s.base < MIN_ADDED_RPS {
            return Some(Outcome::eliminated(
                id,
                0.6,
                format!(
                    "requests to {e} rose {change}, less than one request per second more: too little load to slow a service"
                ),
            ));
        }
        if s.up(SURGE) {
            let onset = s.onset.unwrap_or(ctx.aligned.alert);
            return load_from_elsewhere(ctx, e, &change)
                .or_else(|| gateway_backends(ctx, e, &change))
                .or_else(|| Some(timed(ctx, &v, e, &change, onset)));
        }
        if s.normal(0.25) || s.down(0.25) {
            return Some(Outcome::eliminated(
                id,
                0.8,
                format!("requests to {e} did not surge: {change}"),
            ));
        }
        Some(Outcome::inconclusive(
            id,
            format!("requests to {e} moved {change}, too little to call a surge"),
        ))
    }
}

/// Whether `x`'s request rate surged.
fn surged(ctx: &Context, x: &str) -> bool {
    ctx.metric(x, "requests_per_s")
        .is_some_and(|v| v.score.up(SURGE))
}

/// Load flows down the call graph: a surge that a caller of `e` (or, through a gateway, the
/// services around `e`) also shows started upstream of it.
fn load_from_elsewhere(ctx: &Context, e: &str, change: &str) -> Option<Outcome> {
    let id = TrafficSurgeBeforeOnset::INFO.id;
    let surged = |x: &str| surged(ctx, x);
    let upstream: Vec<&str> = ctx
        .topo
        .users_of(e)
        .into_iter()
        .filter(|c| {
            crate::model::EntityKind::of(c) == crate::model::EntityKind::Service && surged(c)
        })
        .collect();
    if !upstream.is_empty() {
        return Some(Outcome::eliminated(
            id,
            0.65,
            format!(
                "requests to {e} rose {change}, but its callers {} surged too: the load came from upstream",
                upstream.join(", ")
            ),
        ));
    }
    if let Some((g, others)) = spread_through_gateway(ctx, e) {
        return Some(Outcome::eliminated(
            id,
            0.6,
            format!(
                "requests to {e} rose {change}, one part of a surge through {g} that {}: the spike is the gateway's",
                if others.is_empty() {
                    "went mostly to services without a request rate in the archive".to_string()
                } else {
                    format!("{} share", others.join(", "))
                }
            ),
        ));
    }
    None
}

/// A gateway's surge judged against the services behind it: the surge is theirs when it
/// follows one service, comes from some of them, or is mostly one's.
fn gateway_backends(ctx: &Context, e: &str, change: &str) -> Option<Outcome> {
    let id = TrafficSurgeBeforeOnset::INFO.id;
    let surged = |x: &str| surged(ctx, x);
    if let Some(behind) = ctx.topo.behind.get(e) {
        let with_data: Vec<&str> = behind
            .iter()
            .map(String::as_str)
            .filter(|b| ctx.metric(b, "requests_per_s").is_some())
            .collect();
        let hot: Vec<&str> = with_data.iter().copied().filter(|b| surged(b)).collect();
        // A backend that surged through other gateways as well carries the surge
        // itself: the load follows the service, whichever entry it comes through.
        let elsewhere: Vec<&str> = ctx
            .topo
            .behind
            .iter()
            .filter(|(g, svcs)| {
                g.as_str() != e && surged(g) && hot.iter().any(|h| svcs.iter().any(|s| s == h))
            })
            .map(|(g, _)| g.as_str())
            .collect();
        if !hot.is_empty() && !elsewhere.is_empty() {
            return Some(Outcome::eliminated(
                id,
                0.6,
                format!(
                    "requests through {e} rose {change}, but {} behind it surged through {} as well: the surge follows the service, not the entry",
                    hot.join(", "),
                    elsewhere.join(", ")
                ),
            ));
        }
        // One service behind it with data, carrying at least as much of the added load as
        // the services the archive has no request rate for: the gateway's requests are that
        // service's. Otherwise the spike is spread, the gateway's.
        let carries_most = |svc: &str| {
            added(ctx, e).is_some_and(|total| added(ctx, svc).is_some_and(|a| 2.0 * a >= total))
        };
        if with_data.len() == 1 && hot.len() == 1 && carries_most(hot[0]) {
            return Some(Outcome::eliminated(
                id,
                0.5,
                format!(
                    "requests through {e} rose {change}, all of it for {}, the only service behind it with data: the spike is that service's",
                    hot[0]
                ),
            ));
        }
        if !hot.is_empty() && hot.len() < with_data.len() {
            return Some(Outcome::eliminated(
                id,
                0.65,
                format!(
                    "requests through {e} rose {change}, but only {} of the {} services behind it surged: the surge came from them",
                    hot.join(", "),
                    with_data.len()
                ),
            ));
        }
        // Several services surged but one carried most of the added load: the gateway's surge is that
        // service's, the more specific (and actionable) name for the spike.
        if let Some((svc, share)) = concentrated(ctx, e, &hot) {
            return Some(Outcome::eliminated(
                id,
                0.6,
                format!(
                    "requests through {e} rose {change}, {:.0}% of the added load for {svc}: the spike is that service's",
                    share * 100.0
                ),
            ));
        }
    }
    None
}

/// A surge that originated at `e`, judged by its timing against the symptoms: before or with
/// them supports it; after them it is retries, unless far beyond what retries could add.
fn timed(
    ctx: &Context,
    v: &crate::evidence::View<'_>,
    e: &str,
    change: &str,
    onset: usize,
) -> Outcome {
    let id = TrafficSurgeBeforeOnset::INFO.id;
    let s = v.score;
    // Load that slowed nothing is no cause: the alert's service, or the surging entity
    // on the path to it, must have degraded with it.
    if !ctx.alert_worsened() && !ctx.scope.of(e).affected && !ctx.symptom_worsened(e) {
        let (a, m) = ctx.alert_key();
        return Outcome::inconclusive(
            id,
            format!(
                "requests to {e} rose {change}, but {a}'s {m} did not worsen and {e} shows no symptom: a surge that slowed nothing explains nothing"
            ),
        );
    }
    let symptoms = ctx.onset();
    let (rose_at, began_at) = (clock(ctx.time(onset)), clock(ctx.time(symptoms)));
    if let Some(outlived) = symptoms_outlived(ctx, v) {
        return Outcome::inconclusive(
            id,
            format!("requests to {e} rose {change} from {rose_at}, but {outlived}"),
        );
    }
    if onset <= symptoms + 1 {
        let lead = ctx.time(symptoms) - ctx.time(onset);
        let when = if lead > 0 {
            format!(
                ", {} before the symptoms",
                crate::model::human_duration(lead)
            )
        } else {
            ", as the symptoms began".into()
        };
        return Outcome::supported(
            id,
            0.85,
            format!("requests to {e} rose {change} from {rose_at}{when}"),
        );
    }
    // Retries multiply failures: a surge far larger than a few attempts per failed
    // request is new demand, and a noisy symptom series can seem to move first.
    let failures = failed_requests(ctx, e);
    let added = s.level - s.base;
    if added > RETRY_ATTEMPTS * failures + MIN_ADDED_RPS {
        return Outcome::supported(
            id,
            0.7,
            format!(
                "requests to {e} rose {change} from {rose_at}, after the first symptoms at {began_at}, but {} more is far beyond what retries of {} failed requests could add: new demand",
                fmt_val("requests_per_s", added),
                fmt_val("requests_per_s", failures)
            ),
        );
    }
    Outcome::eliminated(
        id,
        0.6,
        format!(
            "requests to {e} rose {change} only from {rose_at}, after the symptoms began at {began_at} (retries, not the cause)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, ONSET, k};
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Outcome {
        TrafficSurgeBeforeOnset
            .evaluate(&f.build(), &Hypothesis::new(Kind::TrafficSpike, "api"))
            .unwrap()
    }

    #[test]
    fn supported_when_requests_double_before_latency() {
        let o = eval(
            Fixture::new("api")
                .step(k("api", "latency_p99_ms"), 100.0, 500.0)
                .step_at(k("api", "requests_per_s"), 100.0, 210.0, ONSET - 2),
        );
        insta::assert_snapshot!(o, @"supported (0.85): requests to api rose 100/s → 210/s (+110%) from 00:24, 2 min before the symptoms");
    }

    #[test]
    fn a_surge_the_symptoms_outlive_is_a_trigger_at_most() {
        // Requests double over buckets 24..28, then are back; latency goes on to the end.
        let o = eval(
            Fixture::new("api")
                .step(k("api", "latency_p99_ms"), 100.0, 500.0)
                .burst(k("api", "requests_per_s"), 100.0, 210.0, ONSET - 2, 4),
        );
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(o.evidence.contains("the surge was over after"), "{o}");
        // Latency that ends with the surge (a queue draining one bucket later) is its effect.
        let o = eval(
            Fixture::new("api")
                .burst(k("api", "latency_p99_ms"), 100.0, 500.0, ONSET, 3)
                .burst(k("api", "requests_per_s"), 100.0, 210.0, ONSET - 2, 4),
        );
        assert_eq!(o.status, Status::Supported, "{o}");
    }

    #[test]
    fn a_late_surge_is_retries_only_when_failures_could_make_it() {
        // Latency from 26, requests 100 → 160/s from 30.
        let late = || {
            Fixture::new("api")
                .step(k("api", "latency_p99_ms"), 100.0, 500.0)
                .step_at(k("api", "requests_per_s"), 100.0, 160.0, ONSET + 4)
        };
        let o = eval(late().step(k("api", "errors_per_s"), 0.1, 30.0));
        assert_eq!(o.status, Status::Eliminated, "{o}");
        assert!(o.evidence.contains("retries"), "{o}");
        // 0.5 failed requests/s cannot turn into 60 requests/s more: it is new demand.
        let o = eval(late().step(k("api", "errors_per_s"), 0.1, 0.5));
        assert_eq!((o.status, o.weight), (Status::Supported, 0.7), "{o}");
    }

    #[test]
    fn eliminated_when_requests_are_steady() {
        let o = eval(Fixture::new("api").slow_service("api"));
        assert_eq!(o.status, Status::Eliminated, "{o}");
    }

    #[test]
    fn inconclusive_without_request_rate() {
        let o = eval(Fixture::new("api").step(k("api", "latency_p99_ms"), 100.0, 500.0));
        assert_eq!(o.status, Status::Inconclusive, "{o}");
    }

    #[test]
    fn eliminated_when_the_surge_adds_almost_no_load() {
        let o = eval(
            Fixture::new("api")
                .step(k("api", "latency_p99_ms"), 100.0, 500.0)
                .step_at(k("api", "requests_per_s"), 0.01, 0.1, ONSET - 2),
        );
        assert_eq!(o.status, Status::Eliminated, "{o}");
        assert!(
            o.evidence.contains("less than one request per second"),
            "{o}"
        );
    }

    #[test]
    fn a_gateway_is_not_the_origin_when_its_backend_surged_through_another_entry_too() {
        let f = Fixture::new("api")
            .step(k("api", "latency_p99_ms"), 100.0, 500.0)
            .entry("api", "ingress:a")
            .entry("api", "ingress:b")
            .step_at(k("api", "requests_per_s"), 100.0, 300.0, ONSET - 2)
            .step_at(k("ingress:a", "requests_per_s"), 50.0, 150.0, ONSET - 2)
            .step_at(k("ingress:b", "requests_per_s"), 50.0, 150.0, ONSET - 2)
            .build();
        let o = TrafficSurgeBeforeOnset
            .evaluate(&f, &Hypothesis::new(Kind::TrafficSpike, "ingress:a"))
            .unwrap();
        assert_eq!(o.status, Status::Eliminated, "{o}");
        assert!(o.evidence.contains("through ingress:b as well"), "{o}");
        let o = TrafficSurgeBeforeOnset
            .evaluate(&f, &Hypothesis::new(Kind::TrafficSpike, "api"))
            .unwrap();
        assert_eq!(o.status, Status::Supported, "{o}");
    }

    #[test]
    fn a_surge_that_slowed_nothing_explains_nothing() {
        // Requests double while the alert's latency falls: the service did better.
        let o = eval(
            Fixture::new("api")
                .step(k("api", "latency_p99_ms"), 100.0, 20.0)
                .step_at(k("api", "requests_per_s"), 100.0, 210.0, ONSET - 2),
        );
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(o.evidence.contains("did not worsen"), "{o}");
    }

    /// A gateway in front of `a` and `b`, both surging by `added_a` and `added_b` requests/s
    /// from 100/s each.
    fn gateway_surge(added_a: f64, added_b: f64) -> Context {
        gateway_surge_from((100.0, 100.0 + added_a), (100.0, 100.0 + added_b))
    }

    /// A gateway in front of `a` and `b`, whose request rates go `(from, to)`.
    fn gateway_surge_from(a: (f64, f64), b: (f64, f64)) -> Context {
        Fixture::new("a")
            .step(k("a", "latency_p99_ms"), 100.0, 500.0)
            .entry("a", "ingress:gw")
            .entry("b", "ingress:gw")
            .step_at(k("a", "requests_per_s"), a.0, a.1, ONSET - 2)
            .step_at(k("b", "requests_per_s"), b.0, b.1, ONSET - 2)
            .step_at(
                k("ingress:gw", "requests_per_s"),
                a.0 + b.0,
                a.1 + b.1,
                ONSET - 2,
            )
            .build()
    }

    fn judge(ctx: &Context, culprit: &str) -> Outcome {
        TrafficSurgeBeforeOnset
            .evaluate(ctx, &Hypothesis::new(Kind::TrafficSpike, culprit))
            .unwrap()
    }

    #[test]
    fn a_gateway_surge_carried_by_one_service_is_that_services() {
        let ctx = gateway_surge(900.0, 60.0);
        let o = judge(&ctx, "ingress:gw");
        assert_eq!(o.status, Status::Eliminated, "{o}");
        assert!(o.evidence.contains("of the added load for a"), "{o}");
        assert_eq!(judge(&ctx, "a").status, Status::Supported);
    }

    #[test]
    fn a_surge_spread_over_the_services_behind_a_gateway_is_the_gateways() {
        let ctx = gateway_surge(300.0, 300.0);
        let o = judge(&ctx, "a");
        assert_eq!(o.status, Status::Eliminated, "{o}");
        assert!(o.evidence.contains("the spike is the gateway's"), "{o}");
        assert_eq!(judge(&ctx, "ingress:gw").status, Status::Supported);
    }

    #[test]
    fn a_gateway_surge_of_the_same_proportion_everywhere_is_the_gateways() {
        // a carries three quarters of the added load, but only because it carries three
        // quarters of the traffic: both went ×4.
        let ctx = gateway_surge_from((300.0, 1200.0), (100.0, 400.0));
        assert_eq!(judge(&ctx, "ingress:gw").status, Status::Supported);
        assert_eq!(judge(&ctx, "a").status, Status::Eliminated);
    }

    #[test]
    fn load_the_services_with_data_do_not_carry_went_to_those_without() {
        // a has a request rate; c, also behind the gateway, has none.
        let ctx = |added_a: f64| {
            Fixture::new("a")
                .step(k("a", "latency_p99_ms"), 100.0, 500.0)
                .entry("a", "ingress:gw")
                .entry("c", "ingress:gw")
                .step_at(k("a", "requests_per_s"), 300.0, 300.0 + added_a, ONSET - 2)
                .step_at(k("ingress:gw", "requests_per_s"), 900.0, 1800.0, ONSET - 2)
                .build()
        };
        let spread = ctx(300.0);
        let o = judge(&spread, "a");
        assert_eq!(o.status, Status::Eliminated, "{o}");
        assert!(o.evidence.contains("without a request rate"), "{o}");
        assert_eq!(judge(&spread, "ingress:gw").status, Status::Supported);
        let carried = ctx(800.0);
        assert_eq!(judge(&carried, "a").status, Status::Supported);
        assert_eq!(judge(&carried, "ingress:gw").status, Status::Eliminated);
    }
}

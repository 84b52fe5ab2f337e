//! Rule `gateway-other-services-healthy`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::scope::LATENCY_RISE;
use crate::model::{MINUTE_MS, buckets};

declare_rule! {
    /// ## What it rules out
    /// An ingress gateway, when other services behind it stayed healthy or its own latency and
    /// errors did not move. Supports it when the gateway degraded while the services behind it
    /// served at normal latency (the time is lost in the gateway, north-south).
    ///
    /// ## Evidence used
    /// The gateway's `latency_p99_ms`/`latency_avg_ms`/`errors_per_s`; the health and server
    /// latency of the services whose `entry` names it.
    ///
    /// ## Why this is sound
    /// A gateway fault hits every route through it; east-west traffic never crosses it. A
    /// healthy service behind the same gateway shows the gateway forwarded normally, and a
    /// gateway slower than the services behind it is adding the time itself. Errors add up
    /// through it: when the services behind it added at least half of the gateway's added
    /// errors, it passes them on, whichever of the two crossed its threshold first.
    ///
    /// ## Inconclusive when
    /// The gateway has no metrics and no other service behind it has data, or the gateway
    /// degraded with the services behind it, or it degraded alone while the alert is on an
    /// entity that does not call through it (the gateway's move is not what fired it).
    ///
    /// ## Example
    /// `chat-api` also enters through `ingress:public-gw` and stayed healthy → eliminated.
    pub(crate) GatewayOtherServicesHealthy { id: "gateway-other-services-healthy", kinds: [Ingress], reads: [Topology] }
}

impl Rule for GatewayOtherServicesHealthy {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let gw = h.culprit.as_str();
        let behind: Vec<&str> = ctx
            .topo
            .behind
            .get(gw)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let healthy: Vec<&str> = behind
            .iter()
            .copied()
            .filter(|s| ctx.scope.of(s).healthy())
            .collect();
        let sick: Vec<&str> = behind
            .iter()
            .copied()
            .filter(|s| ctx.scope.of(s).affected)
            .collect();
        let own = ctx.scope.entities.get(gw);
        let own_up = own.is_some_and(|g| g.affected);
        let backends_degraded =
            backends_degraded(ctx, gw, own.and_then(|g| g.onset), &behind, &sick);
        if own_up && !backends_degraded && !behind.is_empty() {
            // No backend degraded before or with it: the time is lost in the gateway.
            let what = own.map(|g| g.symptoms.join(", ")).unwrap_or_default();
            let later = if sick.is_empty() {
                String::new()
            } else {
                format!(" ({} degraded only later)", sick.join(", "))
            };
            // Time lost in a gateway shows at the gateway and at whatever calls through it,
            // never in the server-side series of the services behind it.
            let (alert, metric) = ctx.alert_key();
            if alert != gw && !ctx.topo.calls_through(alert, gw) {
                return Some(Outcome::inconclusive(
                    id,
                    format!(
                        "{gw} degraded ({what}) while the services behind it served at normal latency, but the alert is on {alert} {metric}, which does not call through it: the gateway's move is not what fired it"
                    ),
                ));
            }
            return Some(Outcome::supported(
                id,
                0.85,
                format!(
                    "{gw} degraded ({what}) while the services behind it served at normal latency{later}"
                ),
            ));
        }
        if !healthy.is_empty() {
            return Some(Outcome::eliminated(
                id,
                0.85,
                format!(
                    "{} also {} through {gw} and stayed healthy{}",
                    healthy.join(", "),
                    if healthy.len() == 1 { "comes" } else { "come" },
                    if sick.is_empty() {
                        String::new()
                    } else {
                        format!(" while {} degraded", sick.join(", "))
                    }
                ),
            ));
        }
        if own.is_some_and(|g| g.healthy()) {
            return Some(Outcome::eliminated(
                id,
                0.7,
                format!("{gw}'s own latency and errors stayed normal"),
            ));
        }
        if own_up {
            return Some(Outcome::inconclusive(
                id,
                format!(
                    "{gw} degraded, but so did the services behind it: it may only reflect them"
                ),
            ));
        }
        Some(Outcome::inconclusive(
            id,
            format!("not testable: no metrics for {gw} and no other service behind it with data"),
        ))
    }
}

/// Whether the services behind `gw` degraded before it or with it, or add up to most of its
/// new errors: then they explain a gateway that passes their latency and 5xx through.
fn backends_degraded(
    ctx: &Context,
    gw: &str,
    gw_onset: Option<usize>,
    behind: &[&str],
    sick: &[&str],
) -> bool {
    // A backend that degraded only well after the gateway did cannot be what the gateway
    // passed through (an unknown onset is given the benefit of the doubt).
    let slack = buckets(2 * MINUTE_MS, ctx.aligned.grid.step).max(2);
    let in_time = |onset: Option<usize>| match (gw_onset, onset) {
        (Some(g), Some(o)) => o <= g + slack,
        _ => true,
    };
    // Backends that are slower or failing on their own explain a gateway that passes their
    // latency and 5xx through; a gateway degraded while its backends serve normally is
    // adding the time or the errors itself.
    let degraded_in_time = sick.iter().any(|s| in_time(ctx.scope.of(s).onset))
        || behind.iter().any(|s| {
            ["latency_p99_ms", "latency_avg_ms"]
                .iter()
                .filter_map(|m| ctx.metric(s, m))
                .any(|v| v.score.up(LATENCY_RISE) && in_time(v.score.onset))
                || ctx.metric(s, "errors_per_s").is_some_and(|v| {
                    v.score.up(0.5)
                        && v.score.level - v.score.base >= 0.05
                        && in_time(v.score.onset)
                })
        });
    // Errors add up through a gateway: when the backends' added errors account for at
    // least half of the gateway's, it is passing them on, whichever crossed its
    // threshold first (a sum over many backends rises out of its noise sooner).
    let added = |e: &str| {
        ctx.metric(e, "errors_per_s")
            .filter(|v| v.score.up(0.5))
            .map_or(0.0, |v| (v.score.level - v.score.base).max(0.0))
    };
    let gw_added = added(gw);
    let passed_on =
        gw_added > 0.0 && behind.iter().map(|s| added(s)).sum::<f64>() >= 0.5 * gw_added;
    degraded_in_time || passed_on
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k};
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Outcome {
        GatewayOtherServicesHealthy
            .evaluate(
                &f.entry("a", "ingress:gw").entry("b", "ingress:gw").build(),
                &Hypothesis::new(Kind::Ingress, "ingress:gw"),
            )
            .unwrap()
    }

    #[test]
    fn eliminated_when_a_sibling_behind_it_is_healthy() {
        insta::assert_snapshot!(eval(Fixture::new("a").slow_service("a").healthy_service("b")), @"eliminated (0.85): b also comes through ingress:gw and stayed healthy while a degraded");
    }

    #[test]
    fn supported_when_the_gateway_alone_is_slow() {
        let f = Fixture::new("ingress:gw")
            .step(k("ingress:gw", "latency_p99_ms"), 50.0, 900.0)
            .healthy_service("a")
            .healthy_service("b");
        assert_eq!(eval(f).status, Status::Supported);
    }

    #[test]
    fn a_slow_gateway_does_not_explain_an_alert_elsewhere_that_saw_nothing() {
        let f = Fixture::new("a")
            .step(k("ingress:gw", "latency_p99_ms"), 50.0, 900.0)
            .healthy_service("a")
            .healthy_service("b");
        let o = eval(f);
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(o.evidence.contains("not what fired it"), "{o}");
    }

    #[test]
    fn inconclusive_without_data() {
        assert_eq!(
            eval(Fixture::new("a").slow_service("a")).status,
            Status::Inconclusive
        );
    }

    #[test]
    fn a_degraded_backend_explains_the_gateway() {
        // The gateway's errors burst, and so did a service behind it: the gateway passes
        // them through; it is not the one adding them.
        let f = Fixture::new("ingress:gw")
            .step(k("ingress:gw", "errors_per_s"), 10.0, 200.0)
            .slow_service("a")
            .healthy_service("b");
        assert_ne!(eval(f).status, Status::Supported);
    }

    #[test]
    fn errors_the_backends_add_up_to_are_passed_on_whatever_crossed_first() {
        // The gateway's error rate crossed its threshold ten minutes before a's (a ramp shows
        // sooner in a sum), but a's added errors are all of the gateway's.
        let f = Fixture::new("ingress:gw")
            .step(k("ingress:gw", "errors_per_s"), 10.0, 200.0)
            .step_at(k("a", "errors_per_s"), 5.0, 195.0, 36);
        assert_ne!(eval(f).status, Status::Supported);
    }

    #[test]
    fn a_backend_that_degraded_only_later_does_not_explain_the_gateway() {
        // The gateway from 26; `a` behind it only from 36, ten minutes on.
        let f = Fixture::new("ingress:gw")
            .step(k("ingress:gw", "latency_p99_ms"), 50.0, 900.0)
            .step_at(k("a", "latency_p99_ms"), 100.0, 500.0, 36)
            .healthy_service("b");
        let o = eval(f);
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(o.evidence.contains("a degraded only later"), "{o}");
    }
}

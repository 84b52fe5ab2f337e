//! Rule `third-party-callers`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::scope::DEP_LATENCY_RISE;
use crate::evidence::sources::fmt_val;

declare_rule! {
    /// ## What it rules out
    /// A third-party dependency, when one of its callers saw normal latency and errors to it.
    /// Supports it when its callers got slower or failed towards it while their other
    /// dependencies stayed normal.
    ///
    /// ## Evidence used
    /// Each caller's client-side `dep_latency_ms` and `dep_errors_per_s` towards the `http:`
    /// entity, and towards its other dependencies.
    ///
    /// ## Why this is sound
    /// A slow vendor is slow for every caller. A caller slow to everything at once has a
    /// problem of its own (its proxy, node or network); a caller slow to the vendor alone
    /// isolates the vendor.
    ///
    /// ## Inconclusive when
    /// No caller has client-side data towards it, or the callers were slow to all their
    /// dependencies alike.
    ///
    /// ## Example
    /// `gift-api` calls `http:gift-vendor` at 180 ms → 182 ms throughout → eliminated.
    pub(crate) ThirdPartyCallers { id: "third-party-callers", kinds: [ThirdParty], reads: [Traces] }
}

impl Rule for ThirdPartyCallers {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let tp = h.culprit.as_str();
        let Callers {
            isolated,
            isolated_callers,
            everywhere,
            healthy,
        } = callers(ctx, tp);
        if !healthy.is_empty() {
            let verb = if healthy.len() == 1 { "calls" } else { "call" };
            return Some(Outcome::eliminated(
                id,
                0.85,
                format!("{} also {verb} {tp} and saw no change", healthy.join(", ")),
            ));
        }
        if !isolated.is_empty() {
            let w = if isolated.len() >= 2 { 0.85 } else { 0.7 };
            let (f, note) = ctx
                .network_discount(&isolated_callers)
                .unwrap_or((1.0, String::new()));
            return Some(Outcome::supported(
                id,
                w * f,
                format!(
                    "callers got slower or failed towards {tp} while their other dependencies stayed normal: {}{note}",
                    isolated.join("; ")
                ),
            ));
        }
        if !everywhere.is_empty() {
            return Some(Outcome::inconclusive(
                id,
                format!(
                    "callers were slower to {tp} but equally to all their other dependencies: {}",
                    everywhere.join("; ")
                ),
            ));
        }
        Some(Outcome::inconclusive(
            id,
            format!("not testable: no caller has client-side data towards {tp}"),
        ))
    }
}

/// The callers of a third party, in words, by how they saw it.
#[derive(Default)]
struct Callers<'c> {
    /// Slower or failing towards it while their other dependencies stayed normal.
    isolated: Vec<String>,
    isolated_callers: Vec<&'c str>,
    /// Slower towards it and equally towards every other dependency they measure.
    everywhere: Vec<String>,
    /// Calling it at normal latency, healthy themselves.
    healthy: Vec<String>,
}

fn callers<'c>(ctx: &'c Context, tp: &str) -> Callers<'c> {
    let mut out = Callers::default();
    for caller in ctx.topo.users_of(tp) {
        let lat = ctx.dep(caller, tp, "dep_latency_ms");
        let err = ctx.dep(caller, tp, "dep_errors_per_s");
        let slow = lat.is_some_and(|v| v.score.up(DEP_LATENCY_RISE));
        let degraded = ctx.scope.of(caller).affected;
        // Errors towards a vendor matter when they hurt the caller; a healthy caller with a
        // few more failed calls is noise, not evidence either way.
        let err_up = err.is_some_and(|v| v.score.up(1.0) && v.score.level - v.score.base >= 0.1);
        let failing = err_up && degraded;
        if slow || failing {
            let what = lat.filter(|_| slow).map_or_else(
                || {
                    format!(
                        "{caller} errors to it {}",
                        err.map(|v| v.score.pct()).unwrap_or_default()
                    )
                },
                |v| {
                    format!(
                        "{caller} {} → {}",
                        fmt_val("dep_latency_ms", v.score.base),
                        fmt_val("dep_latency_ms", v.score.level)
                    )
                },
            );
            if slow_to_all_others(ctx, caller, tp) {
                out.everywhere.push(what);
            } else {
                out.isolated.push(what);
                out.isolated_callers.push(caller);
            }
        } else if let Some(v) =
            lat.filter(|v| v.score.normal(DEP_LATENCY_RISE) && !degraded && !err_up)
        {
            out.healthy.push(format!(
                "{caller} ({} → {})",
                fmt_val("dep_latency_ms", v.score.base),
                fmt_val("dep_latency_ms", v.score.level)
            ));
        }
    }
    out
}

/// Whether `caller` got slower towards every other dependency whose latency it measures (and
/// measures at least one): its own trouble, not the third party's.
fn slow_to_all_others(ctx: &Context, caller: &str, tp: &str) -> bool {
    let others: Vec<&str> = ctx
        .topo
        .deps_of(caller)
        .into_iter()
        .filter(|d| *d != tp)
        .collect();
    let others_slow = others
        .iter()
        .filter(|d| {
            ctx.dep(caller, d, "dep_latency_ms")
                .is_some_and(|v| v.score.up(DEP_LATENCY_RISE))
        })
        .count();
    let others_known = others
        .iter()
        .filter(|d| {
            ctx.dep(caller, d, "dep_latency_ms")
                .is_some_and(|v| v.score.testable())
        })
        .count();
    others_known > 0 && others_slow == others_known
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k, kd, kp};
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Outcome {
        ThirdPartyCallers
            .evaluate(
                &f.depends("a", &["http:v", "redis:c"])
                    .depends("b", &["http:v"])
                    .build(),
                &Hypothesis::new(Kind::ThirdParty, "http:v"),
            )
            .unwrap()
    }

    #[test]
    fn eliminated_by_a_healthy_caller() {
        let f = Fixture::new("a")
            .slow_service("a")
            .step(kd("a", "http:v", "dep_latency_ms"), 100.0, 300.0)
            .healthy_service("b")
            .flat(kd("b", "http:v", "dep_latency_ms"), 100.0);
        insta::assert_snapshot!(eval(f), @"eliminated (0.85): b (100 ms → 100 ms) also calls http:v and saw no change");
    }

    #[test]
    fn supported_when_only_the_vendor_is_slow() {
        let f = Fixture::new("a")
            .slow_service("a")
            .step(kd("a", "http:v", "dep_latency_ms"), 100.0, 900.0)
            .flat(kd("a", "redis:c", "dep_latency_ms"), 1.0);
        assert_eq!(eval(f).status, Status::Supported);
    }

    #[test]
    fn inconclusive_when_the_caller_is_slow_to_everything() {
        let f = Fixture::new("a")
            .slow_service("a")
            .step(kd("a", "http:v", "dep_latency_ms"), 100.0, 900.0)
            .step(kd("a", "redis:c", "dep_latency_ms"), 1.0, 9.0);
        assert_eq!(eval(f).status, Status::Inconclusive);
    }

    #[test]
    fn discounted_when_every_caller_sits_on_a_node_losing_packets() {
        // The only failing caller runs on node:d, whose network errors rose: the node explains
        // its failures towards the vendor as well as the vendor does.
        let f = Fixture::new("a")
            .slow_service("a")
            .step(kd("a", "http:v", "dep_latency_ms"), 100.0, 900.0)
            .flat(kd("a", "redis:c", "dep_latency_ms"), 1.0)
            .step(kp("a", "a-1", "app", "latency_p99_ms"), 100.0, 500.0)
            .place("a-1", "d")
            .step(k("node:d", "net_errors_per_s"), 0.2, 40.0);
        let o = eval(f);
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(o.weight <= 0.5 && o.evidence.contains("node:d"), "{o}");
    }
}

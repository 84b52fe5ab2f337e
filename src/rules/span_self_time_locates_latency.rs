//! Rule `span-self-time-locates-latency`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::scope::{DEP_LATENCY_RISE, LATENCY_RISE};
use crate::evidence::{Context, View};
use crate::model::{Kind, SeriesKey};

declare_rule! {
    /// ## What it rules out
    /// A service's mesh sidecar when the added latency sits in the service's own code, and
    /// the service's own code (CPU, a code change) when the added latency sits in the hops
    /// around it, as the spans attached with `funnel attach traces` time them.
    ///
    /// ## Evidence used
    /// Two trace-derived series (source `traces`): `self_time_ms`, the mean time the
    /// service's spans spend in the service itself (a span's duration minus the part its
    /// children cover), and `dep_hop_ms`, the p99 self-time of client spans answered by a
    /// server span: the time between the caller's request and the callee's handler, which is
    /// the network plus both sides' mesh proxies. Hops into the service (from its callers)
    /// and out of it (to its callees) both pass through its sidecar.
    ///
    /// ## Why this is sound
    /// A span's self-time is time no child accounts for. When a service's handlers take as
    /// long as before while every hop through its proxy got slower, the time was added
    /// between the services, not in the code; when the handlers themselves got slower while
    /// the hops stayed flat, the proxy forwards as fast as before. Aggregated series (p99
    /// latency, client-side latency) cannot tell these apart, because both kinds of delay add
    /// up in the caller's view.
    ///
    /// ## Inconclusive when
    /// Both rose, or neither did, or only one of the two is measured. Without attached traces
    /// the rule does not apply at all, so archives without spans are judged as before.
    ///
    /// ## Example
    /// `live-api` hops to `gift-api` p99 8 ms → 70 ms, live-api's self-time 12 ms → 12 ms →
    /// the sidecar of live-api supported, a code change in live-api eliminated.
    pub(crate) SpanSelfTimeLocatesLatency { id: "span-self-time-locates-latency", kinds: [Sidecar, CpuSaturation, CodeChange], reads: [Traces] }
}

/// The hop series through `s`: calls into it and calls out of it, with a label each.
fn hops<'a>(ctx: &'a Context, s: &'a str) -> Vec<(String, View<'a>)> {
    let into = ctx.topo.users_of(s).into_iter().filter_map(move |c| {
        ctx.dep(c, s, "dep_hop_ms")
            .map(|v| (format!("{c} → {s}"), v))
    });
    let out = ctx.topo.deps_of(s).into_iter().filter_map(move |d| {
        ctx.dep(s, d, "dep_hop_ms")
            .map(|v| (format!("{s} → {d}"), v))
    });
    into.chain(out)
        .filter(|(_, v)| v.score.testable())
        .collect()
}

fn pct(v: &View<'_>) -> String {
    format!("{:+.0}%", v.score.rel * 100.0)
}

impl Rule for SpanSelfTimeLocatesLatency {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let s = h.culprit.as_str();
        let own = ctx
            .get(&SeriesKey::entity(s, "self_time_ms"))
            .filter(|v| v.score.testable());
        let hops = hops(ctx, s);
        if own.is_none() && hops.is_empty() {
            return None;
        }
        let (Some(own), false) = (own, hops.is_empty()) else {
            return Some(Outcome::inconclusive(
                id,
                format!(
                    "the spans time only one side of {s}: its own code or the hops around it, not both"
                ),
            ));
        };
        let rose: Vec<String> = hops
            .iter()
            .filter(|(_, v)| v.score.up(DEP_LATENCY_RISE))
            .map(|(l, v)| format!("{l} {}", pct(v)))
            .collect();
        let self_rose = own.score.up(LATENCY_RISE);
        let self_text = format!("{s}'s own span self-time {}", pct(&own));
        match (self_rose, rose.is_empty()) {
            (false, false) => {
                let evidence = format!(
                    "the added latency sits in the hops through {s}'s proxy ({}) while {self_text}",
                    rose.join(", ")
                );
                Some(if h.kind == Kind::Sidecar {
                    Outcome::supported(id, 0.5, evidence)
                } else {
                    Outcome::eliminated(id, 0.5, evidence)
                })
            }
            (true, true) => {
                let evidence = format!(
                    "{self_text} while the {} hops through its proxy stayed flat",
                    hops.len()
                );
                Some(if h.kind == Kind::Sidecar {
                    Outcome::eliminated(id, 0.5, evidence)
                } else {
                    Outcome::inconclusive(id, evidence)
                })
            }
            _ => Some(Outcome::inconclusive(
                id,
                format!(
                    "{self_text}; hops that rose: {}",
                    if rose.is_empty() {
                        "none".into()
                    } else {
                        rose.join(", ")
                    }
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k, kd};
    use crate::rules::Status;

    fn fx() -> Fixture {
        Fixture::new("api")
            .slow_service("api")
            .depends("web", &["api"])
            .depends("api", &["redis:c"])
    }

    fn eval(f: Fixture, kind: Kind) -> Option<Outcome> {
        SpanSelfTimeLocatesLatency.evaluate(&f.build(), &Hypothesis::new(kind, "api"))
    }

    fn hop_rise(f: Fixture) -> Fixture {
        f.step(kd("web", "api", "dep_hop_ms"), 5.0, 60.0)
            .flat(k("api", "self_time_ms"), 12.0)
    }

    #[test]
    fn slower_hops_with_steady_code_support_the_sidecar() {
        let o = eval(hop_rise(fx()), Kind::Sidecar).unwrap();
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(o.evidence.contains("web → api"), "{o}");
        let o = eval(hop_rise(fx()), Kind::CodeChange).unwrap();
        assert_eq!(o.status, Status::Eliminated, "{o}");
    }

    #[test]
    fn slower_code_with_steady_hops_eliminates_the_sidecar() {
        let f = fx().flat(kd("web", "api", "dep_hop_ms"), 5.0).step(
            k("api", "self_time_ms"),
            12.0,
            80.0,
        );
        assert_eq!(eval(f, Kind::Sidecar).unwrap().status, Status::Eliminated);
        let f = fx().flat(kd("web", "api", "dep_hop_ms"), 5.0).step(
            k("api", "self_time_ms"),
            12.0,
            80.0,
        );
        assert_eq!(
            eval(f, Kind::CpuSaturation).unwrap().status,
            Status::Inconclusive
        );
    }

    #[test]
    fn inconclusive_with_one_side_and_silent_without_traces() {
        let f = fx().step(k("api", "self_time_ms"), 12.0, 80.0);
        assert_eq!(eval(f, Kind::Sidecar).unwrap().status, Status::Inconclusive);
        assert_eq!(eval(fx(), Kind::Sidecar), None);
    }
}

//! Rule `sidecar-at-limit`.

use super::helpers::limit_already_reached;
use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::resources::{LimitVerdict, Saturation, restarts, saturation};
use crate::evidence::scope::{CRASH_LOOP, DEP_LATENCY_RISE};
use crate::model::SIDECAR;

declare_rule! {
    /// ## What it rules out
    /// The mesh sidecar of a service as the bottleneck, when its proxies stayed well below
    /// their CPU limit. Supports it when they ran at the limit while the service's client-side
    /// (east-west) latencies rose.
    ///
    /// ## Evidence used
    /// Per-pod `cpu_cores` of the `sidecar` container from the trusted source (see the
    /// metric-disagreement findings), its `cpu_cores` limit (`cpu_limit_cores` or
    /// incident.toml `resources.sidecar_cpu`), and the service's `dep_latency_ms` per target.
    ///
    /// ## Why this is sound
    /// Every inbound and outbound call of the pod crosses the proxy. A proxy pinned at its CPU
    /// limit is throttled, queues requests and adds latency to every call at once, which shows
    /// as client-side latency rising towards all dependencies while the servers stay normal.
    ///
    /// Supports it more weakly when the proxies came close to the limit (70–90 % at their
    /// 95th percentile) without reaching it, but each request cost them far more CPU than in
    /// the baseline: the kernel's quota is enforced per 100 ms period, so a bursty proxy whose
    /// minute average sits that close is throttled in its bursts, and a proxy doing more work
    /// per request (a new filter, mTLS renegotiation, a bigger config) is a change at the proxy,
    /// not more traffic.
    ///
    /// A proxy pinned through the baseline as well is a standing condition, not what changed
    /// at the onset.
    ///
    /// ## Inconclusive when
    /// The proxies were pinned at the limit through the baseline too. There is no sidecar CPU usage or no limit to compare it with, or usage came close to
    /// the limit without reaching it and rose no faster than the service's requests (more
    /// traffic, which the traffic-spike hypothesis weighs), or without request rates to tell,
    /// or while the app's pods crash-looped (each restart re-opens the proxy's connections).
    ///
    /// ## Example
    /// `live-api` sidecars pinned at p95 1.98 of 2.0 cores in 3 of 3 pods while latency to
    /// MySQL, Redis and the gift vendor rose → supported.
    pub(crate) SidecarAtLimit { id: "sidecar-at-limit", kinds: [Sidecar], reads: [Limits] }
}

impl Rule for SidecarAtLimit {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let svc = h.culprit.as_str();
        let Some(sat) = saturation(ctx, svc, SIDECAR, "cpu_cores", "cpu") else {
            return Some(Outcome::inconclusive(
                id,
                format!("not testable: no sidecar CPU usage or limit for {svc}"),
            ));
        };
        let src = sat
            .source
            .as_deref()
            .map(|s| format!(", per {s}"))
            .unwrap_or_default();
        match sat.cpu_verdict("sidecar", 0.7, &src) {
            LimitVerdict::AtLimit(head) if sat.standing() => Some(limit_already_reached(id, &head)),
            LimitVerdict::AtLimit(head) => {
                let slow: Vec<String> = ctx
                    .topo
                    .deps_of(svc)
                    .into_iter()
                    .filter_map(|d| {
                        ctx.dep(svc, d, "dep_latency_ms")
                            .filter(|v| v.score.up(DEP_LATENCY_RISE))
                            .map(|v| format!("{d} {}", v.score.pct()))
                    })
                    .collect();
                Some(if slow.is_empty() {
                    Outcome::supported(id, 0.7, head)
                } else {
                    Outcome::supported(
                        id,
                        0.9,
                        format!(
                            "{head}, while client-side latency rose to {}",
                            slow.join(", ")
                        ),
                    )
                })
            }
            LimitVerdict::Below(text) => Some(
                match dearer_per_request(ctx, svc, &sat).filter(|_| sat.peak_ratio >= HALF) {
                    Some(costlier) => Outcome::supported(
                        id,
                        HALF_WEIGHT,
                        format!(
                            "sidecar CPU reached {:.0}% of its limit {costlier}",
                            sat.peak_ratio * 100.0
                        ),
                    ),
                    None => Outcome::eliminated(id, 0.8, text),
                },
            ),
            LimitVerdict::Close(text) => Some(match dearer_per_request(ctx, svc, &sat) {
                Some(costlier) => {
                    Outcome::supported(id, CLOSE_WEIGHT, format!("{text}, {costlier}"))
                }
                None => Outcome::inconclusive(id, text),
            }),
        }
    }
}

/// Support for a proxy close to its limit whose work per request rose: below the at-limit
/// weight, since the throttling is inferred, not seen.
const CLOSE_WEIGHT: f64 = 0.6;
/// Below the close band, a proxy at half its quota or more whose work per request rose is
/// still throttled in its bursts, more weakly supported again.
const HALF: f64 = 0.5;
const HALF_WEIGHT: f64 = 0.5;
/// How much faster than the requests the proxies' CPU must have risen.
const COSTLIER: f64 = 1.5;

/// How far the proxies' CPU rose against the service's requests, when it rose `COSTLIER`×
/// faster: each request cost the proxy more.
///
/// Not when the app's pods crash-looped: every restart re-opens the proxy's connections (mTLS
/// handshakes, retries of the requests it lost), which costs the proxy more per request
/// without any fault of its own.
fn dearer_per_request(ctx: &Context, svc: &str, sat: &Saturation) -> Option<String> {
    if restarts(ctx, svc).is_some_and(|r| r >= CRASH_LOOP) {
        return None;
    }
    let req = ctx
        .metric(svc, "requests_per_s")
        .filter(|v| v.score.testable() && v.score.base > 0.0)?;
    let req_ratio = req.score.level / req.score.base;
    let cpu_ratio = (sat.base > 0.0).then(|| sat.peak / sat.base)?;
    (cpu_ratio >= COSTLIER * req_ratio.max(1.0)).then(|| {
        format!(
            "while its CPU rose {cpu_ratio:.1}× against {req_ratio:.1}× the requests: each request cost the proxy more, and a proxy this close to its quota is throttled in its bursts"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k, kd, kp, sidecar_cpu};
    use crate::model::Kind;
    use crate::rules::Status;

    fn fx() -> Fixture {
        Fixture::new("api")
            .slow_service("api")
            .sidecar("api", 4.0, 2.0)
            .depends("api", &["redis:c"])
            .place("api-1", "n1")
    }

    fn eval(f: Fixture) -> Outcome {
        SidecarAtLimit
            .evaluate(&f.build(), &Hypothesis::new(Kind::Sidecar, "api"))
            .unwrap()
    }

    #[test]
    fn supported_when_pinned_at_limit_and_east_west_slows() {
        let o = eval(fx().step(sidecar_cpu("api", "api-1"), 0.9, 1.97).step(
            kd("api", "redis:c", "dep_latency_ms"),
            1.0,
            12.0,
        ));
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(o.weight > 0.85 && o.evidence.contains("redis:c +"), "{o}");
    }

    #[test]
    fn pinned_through_the_baseline_too_is_a_standing_condition() {
        let o = eval(fx().flat(sidecar_cpu("api", "api-1"), 1.97).step(
            kd("api", "redis:c", "dep_latency_ms"),
            1.0,
            12.0,
        ));
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(o.evidence.contains("standing condition"), "{o}");
    }

    #[test]
    fn eliminated_when_far_below_limit() {
        let o = eval(fx().flat(sidecar_cpu("api", "api-1"), 0.5));
        insta::assert_snapshot!(o, @"eliminated (0.80): sidecar containers stayed below their CPU limit: p95 0.51 of 2.0 cores (26%)");
    }

    #[test]
    fn close_to_the_limit_supports_only_when_each_request_costs_more() {
        let dearer = fx().flat(k("api", "requests_per_s"), 100.0).step(
            sidecar_cpu("api", "api-1"),
            0.6,
            1.6,
        );
        let o = eval(dearer);
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(
            o.weight < 0.7 && o.evidence.contains("each request cost the proxy more"),
            "{o}"
        );
        let busier = fx().step(k("api", "requests_per_s"), 100.0, 260.0).step(
            sidecar_cpu("api", "api-1"),
            0.6,
            1.6,
        );
        assert_eq!(eval(busier).status, Status::Inconclusive);
    }

    #[test]
    fn dearer_requests_while_the_app_crash_looped_are_the_restarts_not_the_proxy() {
        let o = eval(
            fx().flat(k("api", "requests_per_s"), 100.0)
                .step(sidecar_cpu("api", "api-1"), 0.6, 1.6)
                .step(kp("api", "api-1", "app", "restarts"), 0.0, 5.0),
        );
        assert_eq!(o.status, Status::Inconclusive, "{o}");
    }

    #[test]
    fn half_the_limit_with_dearer_requests_is_weak_support_and_less_is_eliminated() {
        let half = eval(fx().step(sidecar_cpu("api", "api-1"), 0.5, 1.2));
        assert_eq!(half.status, Status::Supported, "{half}");
        assert!(half.weight <= 0.5, "{half}");
        let low = eval(fx().step(sidecar_cpu("api", "api-1"), 0.3, 0.8));
        assert_eq!(low.status, Status::Eliminated, "{low}");
    }

    #[test]
    fn inconclusive_without_sidecar_cpu() {
        let o = eval(fx());
        assert_eq!(o.status, Status::Inconclusive, "{o}");
    }
}

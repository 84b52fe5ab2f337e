//! Rule `sidecar-at-limit`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::resources::{LimitVerdict, saturation};
use crate::evidence::scope::DEP_LATENCY_RISE;
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
    /// ## Inconclusive when
    /// There is no sidecar CPU usage or no limit to compare it with, or usage came close to
    /// the limit (70–90 %) without reaching it.
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
            LimitVerdict::Below(text) => Some(Outcome::eliminated(id, 0.8, text)),
            LimitVerdict::Close(text) => Some(Outcome::inconclusive(id, text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kd, sidecar_cpu};
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
    fn eliminated_when_far_below_limit() {
        let o = eval(fx().flat(sidecar_cpu("api", "api-1"), 0.5));
        insta::assert_snapshot!(o, @"eliminated (0.80): sidecar containers stayed below their CPU limit: p95 0.51 of 2.0 cores (26%)");
    }

    #[test]
    fn inconclusive_without_sidecar_cpu() {
        let o = eval(fx());
        assert_eq!(o.status, Status::Inconclusive, "{o}");
    }
}

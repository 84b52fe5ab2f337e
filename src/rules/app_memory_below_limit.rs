//! Rule `app-memory-below-limit`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::resources::{pods_restarted, restarts, saturation};
use crate::model::APP;

declare_rule! {
    /// ## What it rules out
    /// App memory pressure of a service, when resident memory stayed well below the limit and
    /// no pod restarted. Supports it when RSS reached the limit or pods were restarted while
    /// RSS was high (OOM kills).
    ///
    /// ## Evidence used
    /// Per-pod `mem_rss_bytes` of the `app` container against `mem_limit_bytes` or
    /// incident.toml `resources.app_mem_bytes`, and the `restarts` counters. Page cache
    /// (`mem_cache_bytes`) is deliberately not counted.
    ///
    /// ## Why this is sound
    /// The kernel reclaims page cache before it OOM-kills; only anonymous memory (RSS) near the
    /// cgroup limit causes reclaim stalls and kills. A container far from its limit with no
    /// restarts had no memory pressure, however large its cache.
    ///
    /// ## Inconclusive when
    /// Neither RSS with a limit nor restart counters exist, or RSS (p95) reached 80–90 % of the
    /// limit without restarts, or short of the limit only half of the pods or fewer restarted
    /// (a limit too low for the load kills the pods alike, since the load spreads over them).
    ///
    /// ## Example
    /// RSS p95 0.9 of 2.0 GiB (45 %), no restarts → eliminated.
    pub(crate) AppMemoryBelowLimit { id: "app-memory-below-limit", kinds: [MemoryPressure], reads: [Limits] }
}

impl Rule for AppMemoryBelowLimit {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let svc = h.culprit.as_str();
        let sat = saturation(ctx, svc, APP, "mem_rss_bytes", "mem");
        let restarted = restarts(ctx, svc);
        let gib = |b: f64| b / 1_073_741_824.0;
        let rss = sat.as_ref().map(|s| {
            format!(
                "RSS p95 {:.2} of {:.2} GiB ({:.0}%)",
                gib(s.peak),
                gib(s.limit),
                s.peak_ratio * 100.0
            )
        });
        let n_restarts = restarted.unwrap_or(0.0);
        let restarted_pods = pods_restarted(ctx, svc);
        match (&sat, restarted) {
            (None, None) => Some(Outcome::inconclusive(
                id,
                format!("not testable: no app memory usage, limit or restart counts for {svc}"),
            )),
            (Some(s), _) if s.pods_at_limit > 0 => {
                let extra = if n_restarts >= 1.0 {
                    format!(" and pods restarted {n_restarts:.0} times")
                } else {
                    String::new()
                };
                Some(Outcome::supported(
                    id,
                    0.85,
                    format!(
                        "{} in {} of {} pods{extra}",
                        rss.unwrap_or_default(),
                        s.pods_at_limit,
                        s.pods
                    ),
                ))
            }
            // A limit too low for the service's load kills its pods alike, since the load
            // spreads over them; restarts in half of them or fewer, with RSS short of the limit,
            // are those pods' own trouble (a crash loop, a bad node), which the pod hypothesis
            // judges.
            (Some(s), _) if n_restarts >= 1.0 && s.peak_ratio >= 0.75 && few(restarted_pods) => {
                let (n, of) = restarted_pods.unwrap_or_default();
                Some(Outcome::inconclusive(
                    id,
                    format!(
                        "only {n} of {of} pods restarted ({n_restarts:.0} times) while {}: those pods' own trouble more than the service's memory",
                        rss.unwrap_or_default()
                    ),
                ))
            }
            (Some(s), _) if n_restarts >= 1.0 && s.peak_ratio >= 0.75 => Some(Outcome::supported(
                id,
                0.8,
                format!(
                    "pods restarted {n_restarts:.0} times while {}",
                    rss.unwrap_or_default()
                ),
            )),
            (Some(s), _) if s.peak_ratio < 0.8 && n_restarts < 1.0 => Some(Outcome::eliminated(
                id,
                0.85,
                format!(
                    "{} (page cache not counted) and no pod restarted",
                    rss.unwrap_or_default()
                ),
            )),
            (None, Some(r)) if r < 1.0 => Some(Outcome::eliminated(
                id,
                0.5,
                format!("no pod of {svc} restarted (no memory usage data)"),
            )),
            _ => Some(Outcome::inconclusive(
                id,
                format!(
                    "{}; {n_restarts:.0} restarts: not enough to call memory pressure",
                    rss.unwrap_or_else(|| "no RSS data".into())
                ),
            )),
        }
    }
}

/// Restarts in half of the service's pods or fewer, of two or more.
fn few(restarted_pods: Option<(usize, usize)>) -> bool {
    restarted_pods.is_some_and(|(n, of)| of >= 2 && 2 * n <= of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kp};
    use crate::model::Kind;
    use crate::rules::Status;

    const GIB: f64 = 1_073_741_824.0;

    fn eval(f: Fixture) -> Outcome {
        AppMemoryBelowLimit
            .evaluate(
                &f.sidecar("api", 4.0, 2.0).place("api-1", "n1").build(),
                &Hypothesis::new(Kind::MemoryPressure, "api"),
            )
            .unwrap()
    }

    #[test]
    fn eliminated_far_from_limit_without_restarts() {
        let o = eval(
            Fixture::new("api")
                .slow_service("api")
                .flat(kp("api", "api-1", "app", "mem_rss_bytes"), 0.9 * GIB)
                .flat(kp("api", "api-1", "app", "restarts"), 0.0),
        );
        assert_eq!(o.status, Status::Eliminated, "{o}");
    }

    #[test]
    fn supported_at_limit_with_restarts() {
        let o = eval(
            Fixture::new("api")
                .slow_service("api")
                .step(
                    kp("api", "api-1", "app", "mem_rss_bytes"),
                    1.0 * GIB,
                    1.97 * GIB,
                )
                .step(kp("api", "api-1", "app", "restarts"), 0.0, 3.0),
        );
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(o.evidence.contains("restarted 3 times"), "{o}");
    }

    #[test]
    fn restarts_in_one_pod_of_three_short_of_the_limit_are_that_pods_own() {
        let mut f = Fixture::new("api").slow_service("api");
        for pod in ["api-1", "api-2", "api-3"] {
            let restarts = if pod == "api-1" { 6.0 } else { 0.0 };
            f = f
                .place(pod, "n1")
                .flat(kp("api", pod, "app", "mem_rss_bytes"), 1.7 * GIB)
                .step(kp("api", pod, "app", "restarts"), 0.0, restarts);
        }
        let o = eval(f);
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(o.evidence.contains("only 1 of 3 pods restarted"), "{o}");
    }

    #[test]
    fn inconclusive_without_memory_data() {
        assert_eq!(
            eval(Fixture::new("api").slow_service("api")).status,
            Status::Inconclusive
        );
    }
}

//! Rule `app-cpu-below-limit`.

use super::helpers::limit_already_reached;
use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::resources::{LimitVerdict, saturation};
use crate::model::APP;

declare_rule! {
    /// ## What it rules out
    /// App CPU saturation of a service, when its app containers stayed well below their CPU
    /// limit. Supports it when they ran at the limit.
    ///
    /// ## Evidence used
    /// Per-pod `cpu_cores` of the `app` container (trusted source) against `cpu_limit_cores`
    /// or incident.toml `resources.app_cpu`; the 95th percentile in the incident window.
    ///
    /// ## Why this is sound
    /// The CFS quota throttles a container only when it uses its whole limit; below about
    /// 80 % of it there is headroom and no throttling, so CPU cannot be what slowed the app.
    ///
    /// ## Inconclusive when
    /// Usage or limit is missing, or usage peaked between 80 % and 90 % of the limit, or only
    /// half of the pods or fewer ran at the limit while the others' CPU did not double (a pod's
    /// trouble, not the service's; doubled, it is supported more weakly), or they
    /// were pinned through the baseline too.
    ///
    /// ## Example
    /// `live-api` app containers peaked at 2.4 of 4.0 cores (60 %) → eliminated.
    pub(crate) AppCpuBelowLimit { id: "app-cpu-below-limit", kinds: [CpuSaturation], reads: [Limits] }
}

impl Rule for AppCpuBelowLimit {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let svc = h.culprit.as_str();
        let Some(sat) = saturation(ctx, svc, APP, "cpu_cores", "cpu") else {
            return Some(Outcome::inconclusive(
                id,
                format!("not testable: no app CPU usage or limit for {svc}"),
            ));
        };
        Some(match sat.cpu_verdict("app", 0.8, "") {
            // Load spreads over a service's pods, so a service short of CPU runs hot in most of
            // them; pinned in half of them or fewer, the trouble is those pods' own (a hot
            // shard, a spinning process), which the pod hypothesis judges.
            LimitVerdict::AtLimit(text)
                if sat.pods >= 2
                    && 2 * sat.pods_at_limit <= sat.pods
                    && 2 * sat.pods_doubled <= sat.pods =>
            {
                Outcome::inconclusive(
                    id,
                    format!(
                        "{text}, the other {} at work without it: those pods' own trouble more than the service's",
                        sat.pods - sat.pods_at_limit
                    ),
                )
            }
            LimitVerdict::AtLimit(text) if sat.standing() => limit_already_reached(id, &text),
            // Pinned in few pods, but the CPU of most at least doubled: the service's load.
            LimitVerdict::AtLimit(text) if 2 * sat.pods_at_limit <= sat.pods => Outcome::supported(
                id,
                0.7,
                format!(
                    "{text}; the CPU of {} of {} pods at least doubled: the service's load, not those pods' own",
                    sat.pods_doubled, sat.pods
                ),
            ),
            LimitVerdict::AtLimit(text) => Outcome::supported(id, 0.85, text),
            LimitVerdict::Below(text) => Outcome::eliminated(id, 0.85, text),
            LimitVerdict::Close(text) => Outcome::inconclusive(id, text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kp};
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Outcome {
        AppCpuBelowLimit
            .evaluate(
                &f.sidecar("api", 4.0, 2.0).place("api-1", "n1").build(),
                &Hypothesis::new(Kind::CpuSaturation, "api"),
            )
            .unwrap()
    }

    #[test]
    fn eliminated_below_limit() {
        let o = eval(Fixture::new("api").slow_service("api").step(
            kp("api", "api-1", "app", "cpu_cores"),
            1.2,
            2.4,
        ));
        assert_eq!(o.status, Status::Eliminated, "{o}");
        assert!(o.evidence.contains("of 4.0 cores"), "{o}");
    }

    #[test]
    fn supported_at_limit() {
        let o = eval(Fixture::new("api").slow_service("api").step(
            kp("api", "api-1", "app", "cpu_cores"),
            2.0,
            3.95,
        ));
        assert_eq!(o.status, Status::Supported, "{o}");
    }

    #[test]
    fn one_pinned_pod_of_two_is_the_pods_trouble() {
        let o = eval(
            Fixture::new("api")
                .slow_service("api")
                .place("api-2", "n2")
                .step(kp("api", "api-1", "app", "cpu_cores"), 2.0, 3.95)
                .flat(kp("api", "api-2", "app", "cpu_cores"), 2.0),
        );
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(o.evidence.contains("in 1 of 2 pods"), "{o}");
    }

    #[test]
    fn one_pinned_pod_of_two_whose_replica_doubled_too_is_the_services_load() {
        let o = eval(
            Fixture::new("api")
                .slow_service("api")
                .place("api-2", "n2")
                .step(kp("api", "api-1", "app", "cpu_cores"), 1.0, 3.95)
                .step(kp("api", "api-2", "app", "cpu_cores"), 1.0, 2.6),
        );
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(
            o.weight < 0.85 && o.evidence.contains("2 of 2 pods at least doubled"),
            "{o}"
        );
    }

    #[test]
    fn inconclusive_without_usage() {
        let o = eval(Fixture::new("api").slow_service("api"));
        assert_eq!(o.status, Status::Inconclusive, "{o}");
    }
}

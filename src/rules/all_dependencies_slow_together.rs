//! Rule `all-dependencies-slow-together`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::scope::DEP_LATENCY_RISE;

declare_rule! {
    /// ## What it rules out
    /// A single dependency (MySQL, Redis, a third party) as the root cause, when every caller
    /// that got slower to it got slower, at the same time, to all its other dependencies too.
    ///
    /// ## Evidence used
    /// Client-side `dep_latency_ms` of each caller towards each of its dependencies.
    ///
    /// ## Why this is sound
    /// Independent dependencies do not fail in step. When one caller's latency to three
    /// unrelated backends rises together, the common factor is on the caller's side of every
    /// connection: its sidecar proxy, its node or its network path.
    ///
    /// ## Inconclusive when
    /// No caller got slower to the dependency, or the callers call nothing else with data.
    ///
    /// ## Example
    /// `live-api` latency to MySQL +400 %, Redis +900 %, gift vendor +200 % at once → Redis
    /// eliminated as a single cause.
    pub(crate) AllDependenciesSlowTogether { id: "all-dependencies-slow-together", kinds: [Mysql, Redis, ThirdParty], reads: [Traces] }
}

impl Rule for AllDependenciesSlowTogether {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let dep = h.culprit.as_str();
        let mut together = Vec::new();
        let mut slow_callers = 0;
        for caller in ctx.topo.users_of(dep) {
            if !ctx
                .dep(caller, dep, "dep_latency_ms")
                .is_some_and(|v| v.score.up(DEP_LATENCY_RISE))
            {
                continue;
            }
            slow_callers += 1;
            let others: Vec<(&str, f64, bool)> = ctx
                .topo
                .deps_of(caller)
                .into_iter()
                .filter(|d| *d != dep)
                .filter_map(|d| {
                    ctx.dep(caller, d, "dep_latency_ms")
                        .filter(|v| v.score.testable())
                        .map(|v| (d, v.score.rel, v.score.up(DEP_LATENCY_RISE)))
                })
                .collect();
            if others.len() >= 2 && others.iter().all(|o| o.2) {
                let list: Vec<String> = others
                    .iter()
                    .map(|(d, r, _)| format!("{d} {:+.0}%", r * 100.0))
                    .collect();
                together.push(format!(
                    "{caller} got slower to all {} of its dependencies at once ({dep} and {})",
                    others.len() + 1,
                    list.join(", ")
                ));
            }
        }
        if slow_callers == 0 {
            return None;
        }
        if together.len() == slow_callers {
            return Some(Outcome::eliminated(
                id,
                0.6,
                format!(
                    "{}: a common cause on the caller's side, not {dep}",
                    together.join("; ")
                ),
            ));
        }
        Some(Outcome::inconclusive(
            id,
            format!(
                "{slow_callers} callers got slower to {dep} without all their other dependencies slowing"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kd};
    use crate::model::Kind;
    use crate::rules::Status;

    fn fx() -> Fixture {
        Fixture::new("a")
            .slow_service("a")
            .depends("a", &["redis:c", "mysql:d", "http:v"])
            .step(kd("a", "redis:c", "dep_latency_ms"), 1.0, 10.0)
    }

    fn eval(f: Fixture) -> Option<Outcome> {
        AllDependenciesSlowTogether.evaluate(&f.build(), &Hypothesis::new(Kind::Redis, "redis:c"))
    }

    #[test]
    fn eliminated_when_everything_slows_together() {
        let f = fx()
            .step(kd("a", "mysql:d", "dep_latency_ms"), 2.0, 10.0)
            .step(kd("a", "http:v", "dep_latency_ms"), 100.0, 300.0);
        assert_eq!(eval(f).unwrap().status, Status::Eliminated);
    }

    #[test]
    fn inconclusive_when_only_this_dependency_slows() {
        let f = fx()
            .flat(kd("a", "mysql:d", "dep_latency_ms"), 2.0)
            .flat(kd("a", "http:v", "dep_latency_ms"), 100.0);
        assert_eq!(eval(f).unwrap().status, Status::Inconclusive);
    }

    #[test]
    fn silent_when_no_caller_is_slower() {
        let f = Fixture::new("a")
            .slow_service("a")
            .depends("a", &["redis:c"])
            .flat(kd("a", "redis:c", "dep_latency_ms"), 1.0);
        assert_eq!(eval(f), None);
    }
}

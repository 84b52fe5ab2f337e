//! Rule `new-errors-after-deploy`.

use super::helpers::{CHANGE_LOOKBACK_MS, ROLLOUT_KINDS};
use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::logs::evidence::Severity;
use crate::model::clock;

declare_rule! {
    /// ## What it rules out
    /// Nothing on its own: it supports a code change in a service that was deployed before
    /// the onset and whose logs then show error templates never seen in the baseline
    /// (panics, new exceptions).
    ///
    /// ## Evidence used
    /// `deploy`/`rollout`/`release` events of the service in the two hours before the onset;
    /// its error-level log templates that are new in the incident window and first appear
    /// after the deploy, within 20 minutes, and are not failed calls (timeouts, resets).
    ///
    /// ## Why this is sound
    /// A new error template is a code path that did not fail before; appearing right after a
    /// rollout of that same service, it dates the fault to the new version.
    ///
    /// ## Inconclusive when
    /// No deploy, or no logs for the service (the rule stays silent).
    ///
    /// ## Example
    /// `cart` deployed at 13:58; `panic: runtime error: index out of range` ×40 from 13:59,
    /// never seen before → supported.
    pub(crate) NewErrorsAfterDeploy { id: "new-errors-after-deploy", kinds: [CodeChange], reads: [Events, Logs] }
}

impl Rule for NewErrorsAfterDeploy {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let svc = h.culprit.as_str();
        let onset = ctx.time(ctx.onset());
        let deploy = ctx
            .events_of(
                svc,
                onset - CHANGE_LOOKBACK_MS,
                onset + ctx.aligned.grid.step + 1,
            )
            .filter(|e| ROLLOUT_KINDS.contains(&e.kind.as_str()))
            .last()?;
        // Failed calls (timeouts, resets) point at a dependency or the network, not at code;
        // and a code fault shows within minutes of the rollout reaching traffic.
        let t = ctx.logs.notable_of(svc).find(|t| {
            t.new
                && t.severity == Severity::Error
                && !t.is_timeout_like()
                && t.first_seen
                    .is_some_and(|f| f >= deploy.ts_ms && f - deploy.ts_ms <= 20 * 60_000)
        })?;
        Some(Outcome::supported(
            id,
            0.7,
            format!(
                "after the {} at {}, {svc} logs a new error template: {}",
                deploy.kind,
                clock(deploy.ts_ms),
                super::helpers::describe_template(t)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::Fixture;
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Option<Outcome> {
        NewErrorsAfterDeploy.evaluate(&f.build(), &Hypothesis::new(Kind::CodeChange, "a"))
    }

    #[test]
    fn supported_by_panics_after_a_deploy() {
        let f = Fixture::new("a")
            .slow_service("a")
            .event(25, "a", "deploy", "v1 -> v2")
            .log("a", 0, 40, "info", "ok {i}")
            .log(
                "a",
                26,
                8,
                "error",
                "panic: runtime error: index out of range [{i}]",
            );
        assert_eq!(eval(f).unwrap().status, Status::Supported);
    }

    #[test]
    fn silent_when_errors_predate_the_deploy() {
        let f = Fixture::new("a")
            .slow_service("a")
            .event(25, "a", "deploy", "v1 -> v2")
            .log(
                "a",
                0,
                40,
                "error",
                "panic: runtime error: index out of range [{i}]",
            );
        assert_eq!(eval(f), None);
    }

    #[test]
    fn silent_without_a_deploy() {
        assert_eq!(
            eval(
                Fixture::new("a")
                    .slow_service("a")
                    .log("a", 26, 8, "error", "panic: x {i}")
            ),
            None
        );
    }
}

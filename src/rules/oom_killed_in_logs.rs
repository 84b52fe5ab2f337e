//! Rule `oom-killed-in-logs`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;

declare_rule! {
    /// ## What it rules out
    /// Nothing on its own: it supports memory pressure of a service whose logs report OOM kills
    /// or allocation failures that are new or surging in the incident window.
    ///
    /// ## Evidence used
    /// The service's notable log templates mentioning `OOMKilled`, `out of memory`,
    /// `OutOfMemoryError`, `cannot allocate memory` or `oom-kill`.
    ///
    /// ## Why this is sound
    /// The kernel and the runtimes say so when they kill or fail for lack of memory; a line
    /// that did not occur in the baseline dates the pressure.
    ///
    /// ## Inconclusive when
    /// The service has no logs (the rule then stays silent; metrics rules decide).
    ///
    /// ## Example
    /// `cart` logs `container app OOMKilled (exit 137)` ×6, new → supported.
    pub(crate) OomKilledInLogs { id: "oom-killed-in-logs", kinds: [MemoryPressure], reads: [Logs] }
}

impl Rule for OomKilledInLogs {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let svc = h.culprit.as_str();
        if !ctx.logs.has_logs(svc) {
            return None;
        }
        let t = ctx
            .logs
            .notable_of(svc)
            .find(|t| t.mentions_any(crate::logs::words::OOM))?;
        Some(Outcome::supported(
            id,
            0.7,
            format!("{svc} logs {}", super::helpers::describe_template(t)),
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
        OomKilledInLogs.evaluate(&f.build(), &Hypothesis::new(Kind::MemoryPressure, "a"))
    }

    #[test]
    fn supported_by_new_oom_kills() {
        let o = eval(
            Fixture::new("a")
                .slow_service("a")
                .log("a", 0, 40, "info", "ok {i}")
                .log(
                    "a",
                    30,
                    5,
                    "error",
                    "container app OOMKilled (exit 137) restart {i}",
                ),
        )
        .unwrap();
        assert_eq!(o.status, Status::Supported, "{o}");
    }

    #[test]
    fn silent_when_oom_lines_are_routine() {
        let f = Fixture::new("a").slow_service("a").log(
            "a",
            0,
            40,
            "warn",
            "cache evicted: out of memory budget {i}",
        );
        assert_eq!(eval(f), None);
    }

    #[test]
    fn silent_without_logs() {
        assert_eq!(eval(Fixture::new("a").slow_service("a")), None);
    }
}

//! Rule `dependency-errors-in-logs`.

use super::helpers::describe_template;
use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::logs::TemplateStat;
use crate::model::EntityKind;

declare_rule! {
    /// ## What it rules out
    /// A dependency (MySQL, Redis, a third party) whose failures only one of its callers logs:
    /// the others, calling the same instance, log nothing new, so the failures sit on that
    /// caller's side. Supports the dependency when every caller with logs reports new or
    /// surging timeouts or errors against it.
    ///
    /// ## Evidence used
    /// Per-entity log templates new in the incident window or at least 3× their baseline rate,
    /// that look like failed calls (timeouts, resets, refusals, deadlines) or are errors, and
    /// that name the dependency (its name, or its kind when the caller has one of that kind).
    ///
    /// ## Why this is sound
    /// A failing server fails for every client. Timeouts logged by one caller only, while its
    /// peers on the same instance stay quiet, are produced on the way out of that caller: its
    /// proxy, its pool, its node.
    ///
    /// ## Inconclusive when
    /// No caller has logs, or the only caller that has logs is the one reporting the errors.
    ///
    /// ## Example
    /// `live-api` logs `redis: dial tcp <*>: i/o timeout` 700 times (new); `gift-api`, on the same
    /// `redis:live-cache`, logs none → eliminated.
    pub(crate) DependencyErrorsInLogs { id: "dependency-errors-in-logs", kinds: [Mysql, Redis, ThirdParty], reads: [Logs] }
}

/// Notable failure templates of `caller` that name `dep`.
pub(crate) fn failures_naming<'a>(
    ctx: &'a Context,
    caller: &'a str,
    dep: &'a str,
) -> Vec<&'a TemplateStat> {
    let name = dep.split_once(':').map_or(dep, |(_, n)| n);
    let kind = EntityKind::of(dep);
    let kind_word = match kind {
        EntityKind::Mysql => Some("mysql"),
        EntityKind::Redis => Some("redis"),
        _ => None,
    };
    let only_one_of_kind = ctx
        .topo
        .deps_of(caller)
        .iter()
        .filter(|d| EntityKind::of(d) == kind)
        .count()
        == 1;
    ctx.logs
        .notable_of(caller)
        .filter(|t| t.is_timeout_like() || t.severity == crate::logs::evidence::Severity::Error)
        .filter(|t| {
            t.mentions(name) || (only_one_of_kind && kind_word.is_some_and(|w| t.mentions(w)))
        })
        .collect()
}

impl Rule for DependencyErrorsInLogs {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let dep = h.culprit.as_str();
        let mut logging = Vec::new();
        let mut loggers = Vec::new();
        let mut silent = Vec::new();
        for caller in ctx.topo.users_of(dep) {
            if !ctx.logs.has_logs(caller) {
                continue;
            }
            match failures_naming(ctx, caller, dep).first() {
                Some(t) => {
                    logging.push(format!("{caller} logs {}", describe_template(t)));
                    loggers.push(caller);
                }
                None => silent.push(caller),
            }
        }
        match (logging.len(), silent.len()) {
            (0, _) => None,
            (_, 0) if logging.len() >= 2 => {
                let (f, note) = ctx
                    .network_discount(&loggers)
                    .unwrap_or((1.0, String::new()));
                Some(Outcome::supported(
                    id,
                    0.6 * f,
                    format!(
                        "every caller of {dep} logs failures against it: {}{note}",
                        logging.join("; ")
                    ),
                ))
            }
            (_, 0) => Some(Outcome::inconclusive(
                id,
                format!(
                    "{}, but no other caller of {dep} has logs to compare",
                    logging.join("; ")
                ),
            )),
            _ => Some(Outcome::eliminated(
                id,
                0.55,
                format!(
                    "only some callers log failures against {dep} ({}); {} also {} it and {} nothing new: the failures sit on the callers' side",
                    logging.join("; "),
                    silent.join(", "),
                    if silent.len() == 1 { "calls" } else { "call" },
                    if silent.len() == 1 { "logs" } else { "log" }
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::Fixture;
    use crate::model::Kind;
    use crate::rules::Status;

    fn fx() -> Fixture {
        Fixture::new("a")
            .slow_service("a")
            .depends("a", &["redis:cache"])
            .depends("b", &["redis:cache"])
            .log("a", 0, 40, "info", "GET /x/{i} 200")
            .log("b", 0, 40, "info", "GET /y/{i} 200")
    }

    fn eval(f: Fixture) -> Option<Outcome> {
        DependencyErrorsInLogs.evaluate(&f.build(), &Hypothesis::new(Kind::Redis, "redis:cache"))
    }

    #[test]
    fn eliminated_when_one_caller_alone_logs_timeouts() {
        let o = eval(fx().log(
            "a",
            26,
            10,
            "error",
            "redis: dial tcp 10.0.0.{i}:6379: i/o timeout",
        ))
        .unwrap();
        assert_eq!(o.status, Status::Eliminated, "{o}");
        assert!(o.evidence.contains("b also calls it"), "{o}");
    }

    #[test]
    fn supported_when_every_caller_logs_them() {
        let o = eval(
            fx().log("a", 26, 10, "error", "redis: i/o timeout after {i}ms")
                .log(
                    "b",
                    26,
                    10,
                    "error",
                    "cache read failed: redis timeout ({i})",
                ),
        )
        .unwrap();
        assert_eq!(o.status, Status::Supported, "{o}");
    }

    #[test]
    fn silent_without_failure_logs() {
        assert_eq!(eval(fx()), None);
    }
}

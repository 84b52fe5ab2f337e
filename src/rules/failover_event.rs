//! Rule `failover-event`.

use super::helpers::{FAILOVER_LOOKBACK_MS as LOOKBACK_MS, is_failover};
use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::model::clock_s;

declare_rule! {
    /// ## What it rules out
    /// A storage failover, when the change log shows no failover or switchover of the
    /// instance around the incident. Supports it when one happened just before the onset,
    /// above all with a burst of client-side errors from its users.
    ///
    /// ## Evidence used
    /// `events` of kind `failover`, `switchover` or `promote` (or any event whose detail says
    /// so) for the instance; its users' `dep_errors_per_s`; its `connections`.
    ///
    /// ## Why this is sound
    /// A failover is an operation with a record: HA managers log the promotion. Its signature
    /// is brief: every client's connections reset at once, then reconnect to the new primary.
    /// The burst lasts seconds to a minute, too short to move the incident window's level, so
    /// it is looked for as a peak near the event, against the baseline's own peak. The record
    /// comes once the manager has detected the dead primary and promoted a replica (seconds
    /// for orchestrator, 30–40 s for Sentinel or Patroni defaults, a minute or two for managed
    /// databases), so an event up to two minutes after the onset is still the cause; later, it
    /// is more likely a remediation.
    ///
    /// ## Inconclusive when
    /// The archive exported no events and the connections show no drop.
    ///
    /// ## Example
    /// `failover mysql:orders primary -> replica-1` at 14:00, users' errors 0 → 30/s → supported.
    pub(crate) FailoverEvent { id: "failover-event", kinds: [StorageFailover], reads: [Events] }
}

/// How long after the onset an HA manager's promotion record may come and still be the cause.
const DETECTION_MS: i64 = 2 * 60_000;

/// A burst of errors within a few minutes of `at`: a peak at least 0.5/s and three times
/// anything the baseline saw.
fn burst_near(ctx: &Context, values: &[f64], at: i64) -> bool {
    use crate::stats;
    let grid = &ctx.aligned.grid;
    let from = grid.floor_index(at - DETECTION_MS);
    let to = (grid.floor_index(at + DETECTION_MS) + 1).min(values.len());
    let Some(peak) = values.get(from..to).and_then(stats::max) else {
        return false;
    };
    let base = values
        .get(ctx.aligned.baseline.clone())
        .and_then(stats::max)
        .unwrap_or(0.0)
        .max(0.0);
    peak >= 0.5 && peak >= 3.0 * base
}

impl Rule for FailoverEvent {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let s = h.culprit.as_str();
        let w = ctx.windows;
        let onset = ctx.time(ctx.onset());
        let event = ctx
            .events_of(s, w.start - LOOKBACK_MS, w.end)
            .find(|e| is_failover(&e.kind, e.detail.as_deref()));
        let near = event.map_or(onset, |e| e.ts_ms);
        let burst = error_bursts(ctx, s, near);
        let conn_drop = connections_halved(ctx, s);
        if let Some(e) = event {
            let before = e.ts_ms <= onset + DETECTION_MS.max(2 * ctx.aligned.grid.step);
            let what = format!(
                "{} of {s} at {}{}",
                e.kind,
                clock_s(e.ts_ms),
                e.detail
                    .as_deref()
                    .map(|d| format!(" (`{d}`)"))
                    .unwrap_or_default()
            );
            if !before {
                return Some(Outcome::eliminated(
                    id,
                    0.6,
                    format!("{what} came after the onset at {}", clock_s(onset)),
                ));
            }
            return Some(if burst.is_empty() {
                Outcome::supported(id, 0.7, what)
            } else {
                Outcome::supported(
                    id,
                    0.9,
                    format!(
                        "{what}, with a burst of client-side errors from {}",
                        burst.join(", ")
                    ),
                )
            });
        }
        if conn_drop && !burst.is_empty() {
            return Some(Outcome::supported(
                id,
                0.55,
                format!(
                    "connections to {s} dropped by more than half and {} saw a burst of errors, but no failover event is recorded",
                    burst.join(", ")
                ),
            ));
        }
        if !ctx.has_events {
            return Some(Outcome::inconclusive(
                id,
                "not testable: the archive has no change events",
            ));
        }
        Some(Outcome::eliminated(
            id,
            0.8,
            format!("no failover or switchover of {s} is recorded around the incident"),
        ))
    }
}

/// The users of `s` whose client-side errors towards it rose, or burst near `near` (the
/// failover, else the onset).
fn error_bursts(ctx: &Context, s: &str, near: i64) -> Vec<String> {
    ctx.topo
        .users_of(s)
        .into_iter()
        .filter(|u| {
            ctx.dep(u, s, "dep_errors_per_s").is_some_and(|v| {
                (v.score.up(1.0) && v.score.level - v.score.base >= 0.1)
                    || burst_near(ctx, v.values, near)
            })
        })
        .map(str::to_string)
        .collect()
}

/// Whether `s`'s connection count fell below half its baseline at some point of the
/// incident, as when its clients reconnect to a new primary.
fn connections_halved(ctx: &Context, s: &str) -> bool {
    ctx.metric(s, "connections").is_some_and(|v| {
        let min = v.values[ctx.aligned.incident.clone()]
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f64::INFINITY, f64::min);
        v.score.testable() && min < 0.5 * v.score.base
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kd};
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Outcome {
        FailoverEvent
            .evaluate(
                &f.depends("a", &["mysql:db"]).build(),
                &Hypothesis::new(Kind::StorageFailover, "mysql:db"),
            )
            .unwrap()
    }

    #[test]
    fn supported_by_event_and_error_burst() {
        let f = Fixture::new("a")
            .slow_service("a")
            .step(kd("a", "mysql:db", "dep_errors_per_s"), 0.0, 20.0)
            .event(25, "mysql:db", "failover", "primary -> replica-1");
        insta::assert_snapshot!(eval(f), @"supported (0.90): failover of mysql:db at 00:25:00 (`primary -> replica-1`), with a burst of client-side errors from a");
    }

    #[test]
    fn a_burst_of_resets_one_bucket_long_counts() {
        // Far too short to move the incident level: the peak near the event is what shows it.
        let f = Fixture::new("a")
            .slow_service("a")
            .burst(kd("a", "mysql:db", "dep_errors_per_s"), 0.0, 40.0, 27, 1)
            .event(27, "mysql:db", "failover", "promoted replica db-1");
        let o = eval(f);
        assert_eq!((o.status, o.weight), (Status::Supported, 0.9), "{o}");
    }

    #[test]
    fn the_promotion_record_may_follow_the_onset_by_the_detection_time() {
        // Onset at 26; the HA manager promoted a replica a minute later.
        let late = |at| {
            eval(Fixture::new("a").slow_service("a").event(
                at,
                "mysql:db",
                "failover",
                "promoted replica db-1",
            ))
            .status
        };
        assert_eq!(late(27), Status::Supported);
        assert_eq!(late(36), Status::Eliminated);
    }

    #[test]
    fn eliminated_when_the_log_has_no_failover() {
        assert_eq!(
            eval(Fixture::new("a").slow_service("a").events_exported()).status,
            Status::Eliminated
        );
    }

    #[test]
    fn inconclusive_without_events() {
        assert_eq!(
            eval(Fixture::new("a").slow_service("a")).status,
            Status::Inconclusive
        );
    }

    #[test]
    fn a_recorded_failover_is_a_hypothesis_even_when_no_user_is_in_scope() {
        // b uses redis:kv and stayed healthy; only a (which does not use it) is in scope.
        let ctx = Fixture::new("a")
            .slow_service("a")
            .depends("b", &["redis:kv"])
            .healthy_service("b")
            .event(25, "redis:kv", "failover", "promoted replica kv-1")
            .build();
        let hyps = crate::rules::enumerate(&ctx);
        assert!(
            hyps.contains(&Hypothesis::new(Kind::StorageFailover, "redis:kv")),
            "{hyps:?}"
        );
    }
}

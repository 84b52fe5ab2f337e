//! Rule `deploy-before-onset`.

use super::helpers::{CHANGE_LOOKBACK_MS as LOOKBACK_MS, last_change};
use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::load::change_drove;
use crate::evidence::scope::judge;
use crate::model::{clock, human_duration};

declare_rule! {
    /// ## What it rules out
    /// A code change in a service, when no deploy or configuration change of that service
    /// happened in the two hours before the onset. Supports it when one did, the service's
    /// errors rose after it, and services sharing its dependencies stayed healthy; less the
    /// longer before the onset it happened (full weight for half an hour, two thirds at two
    /// hours: new code meets its traffic as it rolls out).
    ///
    /// ## Evidence used
    /// `events` of kind `deploy`, `rollout`, `release` or `config` for the service; its
    /// `errors_per_s`; the health of other users of its dependencies.
    ///
    /// ## Why this is sound
    /// A change can only cause symptoms that start after it. Errors appearing in the changed
    /// service alone, while unchanged peers on the same dependencies stay healthy, isolate the
    /// change from its environment.
    ///
    /// Supports it too when the dependencies that degraded are storage instances that began
    /// straining within minutes after the change, doing more work while their users sent no
    /// more requests: the change sent them that work (an N+1 query loop, a bypassed cache).
    ///
    /// ## Inconclusive when
    /// The archive exported no events at all: an absent change log proves nothing. Or a
    /// dependency of the service degraded as the service saw it (changed or not), or another
    /// user of its dependencies degraded without a change of its own: that explains the
    /// symptoms as well as the change (unless the change drove it, above). Or the service shows
    /// no sustained symptom at all.
    ///
    /// ## Example
    /// `cart` deployed `v1.4.2 -> v1.4.3` at 13:58, errors 0.1/s → 6/s from 14:00 → supported.
    pub(crate) DeployBeforeOnset { id: "deploy-before-onset", kinds: [CodeChange], reads: [Events] }
}

/// Support for a change that drove its storage dependency's load: as firm as errors rising
/// after it, since the order and the work done say the same.
const DROVE_WEIGHT: f64 = 0.85;

/// How long after a change its fault is expected to show in full.
const FRESH_MS: f64 = 30.0 * 60_000.0;

impl Rule for DeployBeforeOnset {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let svc = h.culprit.as_str();
        if !ctx.has_events {
            return Some(Outcome::inconclusive(
                id,
                "not testable: the archive has no change events",
            ));
        }
        let onset = ctx.time(ctx.onset());
        let Some(change) = last_change(ctx, svc) else {
            return Some(Outcome::eliminated(
                id,
                0.75,
                format!(
                    "no deploy or config change of {svc} in the {} before the onset",
                    human_duration(LOOKBACK_MS)
                ),
            ));
        };
        let what = format!(
            "{} {}at {}",
            change.kind,
            change
                .detail
                .as_deref()
                .map(|d| format!("`{d}` "))
                .unwrap_or_default(),
            clock(change.ts_ms)
        );
        let lead = human_duration((onset - change.ts_ms).max(0));
        let errors = ctx
            .metric(svc, "errors_per_s")
            .filter(|v| v.score.up(0.5) && v.score.level - v.score.base >= 0.05);
        let deps_sick = sick_dependencies(ctx, svc);
        let driven: Vec<String> = deps_sick
            .iter()
            .filter_map(|d| change_drove(ctx, svc, d, change.ts_ms))
            .collect();
        if !deps_sick.is_empty() && driven.len() == deps_sick.len() {
            return Some(Outcome::supported(
                id,
                DROVE_WEIGHT * freshness(onset - change.ts_ms),
                format!("{what}, {lead} before the onset; {}", driven.join("; ")),
            ));
        }
        if !deps_sick.is_empty() {
            let said: Vec<String> = deps_sick
                .iter()
                .map(|d| {
                    if unchanged(ctx, d, onset) {
                        format!("{d} degraded too without a change")
                    } else {
                        format!("{d} degraded too after a change of its own")
                    }
                })
                .collect();
            return Some(Outcome::inconclusive(
                id,
                format!(
                    "{what}, {lead} before the onset, but its dependency {}, which explains its symptoms as well",
                    said.join(", ")
                ),
            ));
        }
        let peers_sick = sick_peers(ctx, svc, onset);
        match (errors, peers_sick.is_empty()) {
            (Some(v), true) => Some(Outcome::supported(
                id,
                0.85 * freshness(onset - change.ts_ms),
                format!(
                    "{what}, {lead} before the onset; errors then rose {} ({} → {:.2}/s) and unchanged services on the same dependencies stayed healthy",
                    v.score.pct(),
                    format_args!("{:.2}/s", v.score.base),
                    v.score.level
                ),
            )),
            // A change to a service that shows no symptom at all (an alert that fired on a
            // blip) has nothing to have caused.
            (None, true) if !ctx.scope.of(svc).affected => Some(Outcome::inconclusive(
                id,
                format!("{what}, {lead} before the onset, but {svc} shows no sustained symptom"),
            )),
            (None, true) => Some(Outcome::supported(
                id,
                0.5,
                format!("{what}, {lead} before the onset (no error rise to confirm it)"),
            )),
            (_, false) => Some(Outcome::inconclusive(
                id,
                format!(
                    "{what}, but {} degraded too without a change",
                    peers_sick.join(", ")
                ),
            )),
        }
    }
}

/// The weight of a change `lead_ms` before the onset, 2/3..1. New code meets its traffic as it
/// rolls out: a fault it brings shows within minutes. A change long before the onset is a
/// weaker suspect (a slow leak is memory pressure's to judge): full weight for half an hour,
/// down to two thirds at the lookback's end.
fn freshness(lead_ms: i64) -> f64 {
    let age = lead_ms.max(0) as f64;
    1.0 - (((age - FRESH_MS) / (LOOKBACK_MS as f64 - FRESH_MS)).clamp(0.0, 1.0) / 3.0)
}

/// How `svc` saw dependency `d`, when it measures its calls to it: a dependency it reached at
/// normal latency and error rate explains none of its trouble, whatever else that dependency
/// did. Judged like any client-side symptom (`scope::judge`); None when `svc` does not measure
/// its calls to `d`.
fn seen_sick(ctx: &Context, svc: &str, d: &str) -> Option<bool> {
    let seen = ctx.find_entity(svc, |k| k.target.as_deref() == Some(d));
    (!seen.is_empty()).then(|| judge(&seen).affected)
}

/// Whether `u` had no event at all in the lookback before the onset.
fn unchanged(ctx: &Context, u: &str, onset: i64) -> bool {
    ctx.events_of(u, onset - LOOKBACK_MS, onset + 1)
        .next()
        .is_none()
}

/// `svc`'s own dependencies that degraded: one passes its trouble up to this service, which
/// explains the symptoms as well as this change does, unless the change drove it.
fn sick_dependencies<'c>(ctx: &'c Context, svc: &str) -> Vec<&'c str> {
    ctx.topo
        .deps_of(svc)
        .into_iter()
        .filter(|d| seen_sick(ctx, svc, d).unwrap_or_else(|| ctx.scope.of(d).affected))
        .collect()
}

/// Unchanged services on the same dependencies that degraded too: the shared dependency then
/// explains both better than this change. Not its own callers, near or far: they degrade
/// through it; not through a dependency this service reached normally.
fn sick_peers<'c>(ctx: &'c Context, svc: &str, onset: i64) -> Vec<&'c str> {
    ctx.topo
        .deps_of(svc)
        .into_iter()
        .filter(|d| seen_sick(ctx, svc, d) != Some(false))
        .flat_map(|d| ctx.topo.users_of(d))
        .filter(|u| {
            *u != svc
                && !ctx.topo.reach(u).contains(svc)
                && ctx.scope.of(u).affected
                && unchanged(ctx, u, onset)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k, kd};
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Outcome {
        DeployBeforeOnset
            .evaluate(&f.build(), &Hypothesis::new(Kind::CodeChange, "api"))
            .unwrap()
    }

    #[test]
    fn supported_when_errors_follow_a_deploy() {
        let f = Fixture::new("api")
            .slow_service("api")
            .step(k("api", "errors_per_s"), 0.1, 6.0)
            .event(24, "api", "deploy", "v1 -> v2");
        insta::assert_snapshot!(eval(f), @"supported (0.85): deploy `v1 -> v2` at 00:24, 2 min before the onset; errors then rose +5900% (0.10/s → 6.00/s) and unchanged services on the same dependencies stayed healthy");
    }

    /// api, erring tenfold, calls wallet; both slowed.
    fn api_calls_slow_wallet() -> Fixture {
        Fixture::new("api")
            .depends("api", &["wallet"])
            .slow_service("api")
            .slow_service("wallet")
            .step(k("api", "errors_per_s"), 0.1, 6.0)
    }

    #[test]
    fn a_dependency_degraded_without_a_change_explains_it_as_well() {
        // api deployed just before, but the service it calls slowed on its own.
        let f = api_calls_slow_wallet().event(24, "api", "deploy", "v1 -> v2");
        let o = eval(f);
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(
            o.evidence.contains("its dependency wallet degraded too"),
            "{o}"
        );
    }

    #[test]
    fn a_dependency_its_calls_to_stayed_normal_explains_nothing() {
        let f = Fixture::new("api")
            .depends("api", &["wallet"])
            .slow_service("api")
            .slow_service("wallet")
            .flat(kd("api", "wallet", "dep_latency_ms"), 20.0)
            .step(k("api", "errors_per_s"), 0.1, 6.0)
            .event(24, "api", "deploy", "v1 -> v2");
        assert_eq!(eval(f).status, Status::Supported);
    }

    #[test]
    fn a_caller_on_the_same_dependency_degrades_through_it() {
        // front calls api and the cache api uses; front slowed because api did.
        let f = Fixture::new("front")
            .depends("front", &["api", "redis:cache"])
            .depends("api", &["redis:cache"])
            .slow_service("front")
            .slow_service("api")
            .step(k("api", "errors_per_s"), 0.1, 6.0)
            .event(24, "api", "deploy", "v1 -> v2");
        assert_eq!(eval(f).status, Status::Supported);
    }

    #[test]
    fn a_dependency_changed_just_before_explains_it_better() {
        // api deployed long before; wallet, which it calls, deployed just before and slowed.
        let f = api_calls_slow_wallet()
            .event(0, "api", "deploy", "v1 -> v2")
            .event(25, "wallet", "deploy", "v7 -> v8");
        let o = eval(f);
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(o.evidence.contains("after a change of its own"), "{o}");
    }

    /// api, changed at `changed`, calls mysql:db, which strains from the onset (26) with its
    /// CPU ×3 while api's requests stay flat.
    fn api_loads_its_database(changed: i64) -> Fixture {
        Fixture::new("api")
            .depends("api", &["mysql:db"])
            .slow_service("api")
            .flat(k("api", "requests_per_s"), 100.0)
            .step(kd("api", "mysql:db", "dep_latency_ms"), 3.0, 30.0)
            .step(k("mysql:db", "server_latency_ms"), 3.0, 30.0)
            .step(k("mysql:db", "cpu_utilization"), 0.3, 0.9)
            .event(changed, "api", "config", "feature flag new-pricing enabled")
    }

    #[test]
    fn a_change_that_sent_its_database_more_work_explains_the_database() {
        let o = eval(api_loads_its_database(25));
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(o.evidence.contains("mysql:db began straining"), "{o}");
        // Strain that began minutes after the change came from elsewhere.
        let late = eval(api_loads_its_database(20));
        assert_eq!(late.status, Status::Inconclusive, "{late}");
    }

    #[test]
    fn an_old_change_is_a_weaker_suspect() {
        let at = |bucket| {
            eval(
                Fixture::new("api")
                    .slow_service("api")
                    .step(k("api", "errors_per_s"), 0.1, 6.0)
                    .event(bucket, "api", "deploy", "v1 -> v2"),
            )
            .weight
        };
        // Buckets are minutes and the onset is at 26: within half an hour, full weight; an
        // hour before, less; two hours before, two thirds.
        assert!((at(24) - 0.85).abs() < 1e-9);
        assert!((at(0) - 0.85).abs() < 1e-9);
        assert!(
            (at(-34) - 0.85 * (1.0 - 1.0 / 9.0)).abs() < 1e-9,
            "{}",
            at(-34)
        );
        assert!((at(-94) - 0.85 * 2.0 / 3.0).abs() < 1e-9, "{}", at(-94));
    }

    #[test]
    fn a_change_to_a_service_without_symptoms_caused_nothing() {
        let f = Fixture::new("api")
            .healthy_service("api")
            .event(24, "api", "deploy", "v1 -> v2");
        let o = eval(f);
        assert_eq!(o.status, Status::Inconclusive, "{o}");
        assert!(o.evidence.contains("shows no sustained symptom"), "{o}");
    }

    #[test]
    fn eliminated_without_a_change() {
        assert_eq!(
            eval(
                Fixture::new("api")
                    .slow_service("api")
                    .event(5, "other", "deploy", "x")
            )
            .status,
            Status::Eliminated
        );
    }

    #[test]
    fn inconclusive_without_events() {
        assert_eq!(
            eval(Fixture::new("api").slow_service("api")).status,
            Status::Inconclusive
        );
    }
}

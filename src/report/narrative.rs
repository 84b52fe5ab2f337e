//! The prose of the postmortem: summary, impact and timeline, computed from the evidence.

use crate::detect::Direction;
use crate::evidence::Context;
use crate::evidence::sources::{fmt_val, metric_label};
use crate::model::{EntityKind, Kind, clock_s};
use crate::rules::Status;
use crate::verdict::Verdict;
use crate::verdict::timing::Timing;

/// The first clause of an evidence text, for a summary sentence.
fn gist(evidence: &str) -> &str {
    evidence
        .split(", while")
        .next()
        .unwrap_or(evidence)
        .split("; ")
        .next()
        .unwrap_or(evidence)
}

/// `HH:MM:SS`, the one way the report prints a time of day.
#[must_use]
pub fn hms(ms: i64) -> String {
    clock_s(ms)
}

/// `5 min 15 s`: detection times are compared to the second.
#[must_use]
pub fn exact_duration(ms: i64) -> String {
    let s = ms / 1000;
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// Whether a move in `direction` of this metric is a worsening (latency and errors up; a fall
/// of requests is no symptom on its own, so only the former two have a good direction).
#[must_use]
pub fn worsens(metric: &str, up: bool) -> bool {
    let bad_up = metric.contains("latency") || metric.contains("error") || metric.ends_with("_ms");
    !bad_up || up
}

/// When the alert fired against the onset: "2 min after the onset", or before it (an alert on
/// a shorter window, or on data the archive does not hold, can fire before the breach it shows).
#[must_use]
pub fn fired_relative(fired_at: i64, onset: i64) -> String {
    if fired_at >= onset {
        format!("{} after the onset", exact_duration(fired_at - onset))
    } else {
        format!(
            "{} before its series crossed the threshold in this archive",
            exact_duration(onset - fired_at)
        )
    }
}

/// The opening sentence: what the alert's series did, by the timing model.
fn alert_sentence(ctx: &Context, t: &Timing, spread: &str) -> String {
    let a = &ctx.spec.alert;
    let metric = ctx.aliased(&a.metric);
    let label = metric_label(metric);
    let fired = hms(ctx.windows.fired_at);
    let moved = ctx
        .alert_series()
        .filter(|s| s.score.testable() && s.score.direction != Direction::Flat);
    match (moved, &t.onset) {
        (Some(s), Some(o)) => {
            let up = s.score.direction == Direction::Up;
            let (base, level) = (
                fmt_val(metric, s.score.base),
                fmt_val(metric, s.score.level),
            );
            let after = fired_relative(ctx.windows.fired_at, o.at);
            if worsens(metric, up) {
                format!(
                    "{}'s {label} {} from {base} (baseline median) to {level} (median after the onset, {}) from {} UTC, when it crossed {}; the alert fired at {fired}, {after}{spread}.",
                    a.entity,
                    if up { "rose" } else { "fell" },
                    s.score.pct(),
                    hms(o.at),
                    fmt_val(metric, o.threshold),
                )
            } else {
                format!(
                    "{}'s {label} did not worsen: it fell from {base} (baseline median) to {level} ({}) from {} UTC; the alert fired at {fired}{spread}.",
                    a.entity,
                    s.score.pct(),
                    hms(o.at)
                )
            }
        }
        _ => format!(
            "The alert on {}'s {label} fired at {fired} UTC; the series itself never left its baseline for a sustained run{spread}.",
            a.entity
        ),
    }
}

/// The trigger in one clause, timed by the timing model.
#[must_use]
pub fn trigger_clause(ctx: &Context, v: &Verdict, t: &Timing) -> Option<String> {
    let tr = v.trigger.as_ref()?;
    let mut s = tr.kind.describe(&tr.culprit);
    if let (Some(m), Some(r)) = (&t.trigger, ctx.metric(&tr.culprit, "requests_per_s")) {
        let lead = t.lead_ms().map_or(String::new(), |l| match l {
            l if l > 0 => format!(", {} before the onset", exact_duration(l)),
            0 => ", at the onset".into(),
            l => format!(", {} after the onset", exact_duration(-l)),
        });
        s.push_str(&format!(
            " (requests to {} rose from {} (baseline median) to {} (median after the rise, {}) from {} UTC{lead})",
            tr.culprit,
            fmt_val("requests_per_s", r.score.base),
            fmt_val("requests_per_s", r.score.level),
            r.score.pct(),
            hms(m.at)
        ));
    }
    Some(s)
}

/// At most three sentences, with numbers.
#[must_use]
pub fn summary(ctx: &Context, v: &Verdict) -> String {
    let a = &ctx.spec.alert;
    let t = v.timing(ctx);
    let mut out = Vec::new();
    let others = ctx
        .scope
        .affected()
        .into_iter()
        .filter(|e| *e != a.entity && EntityKind::of(e) == EntityKind::Service)
        .count();
    let spread = if others > 0 {
        format!(
            "; {others} other service{} degraded with it",
            if others == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    out.push(alert_sentence(ctx, &t, &spread));
    match &v.root_cause {
        Some(rc) => {
            let ev = super::condition::statement(ctx, v, &t).unwrap_or_else(|| {
                v.hypothesis(rc.kind, &rc.culprit)
                    .map(|h| gist(&h.evidence).to_string())
                    .unwrap_or_default()
            });
            let trig =
                trigger_clause(ctx, v, &t).map_or(String::new(), |c| format!(", triggered by {c}"));
            // A root cause the culprit ranking found has no rule evidence to quote: say what
            // lifted it in the ranking.
            let ev = if ev.is_empty() {
                let why = v
                    .reasons
                    .get(&rc.culprit)
                    .map_or(String::new(), |w| format!("{w}; "));
                format!(
                    "{why}it stands out from every other entity in the culprit ranking (confidence {:.2})",
                    rc.confidence
                )
            } else {
                ev
            };
            out.push(format!(
                "The root cause is {}: {ev}{trig}.",
                rc.kind.describe(&rc.culprit)
            ));
        }
        None => {
            let survivors: Vec<String> = v
                .ranking
                .iter()
                .filter(|r| {
                    v.hypothesis(r.kind, &r.culprit)
                        .is_none_or(|h| h.status != Status::Eliminated)
                })
                .take(4)
                .map(|r| format!("{} {}", r.kind, r.culprit))
                .collect();
            out.push(format!(
                "The evidence does not single out a root cause; {} hypotheses survive{}.",
                survivors.len(),
                if survivors.is_empty() {
                    String::new()
                } else {
                    format!(", led by {}", survivors.join(", "))
                }
            ));
        }
    }
    out.push(super::confidence::elimination_sentence(v));
    out.join(" ")
}

/// A short layer name for lists.
#[must_use]
pub fn short_layer(k: Kind) -> &'static str {
    match k {
        Kind::TrafficSpike => "traffic",
        Kind::CpuSaturation => "CPU",
        Kind::MemoryPressure => "memory",
        Kind::CodeChange => "code changes",
        Kind::Mysql => "MySQL",
        Kind::Redis => "Redis",
        Kind::StorageFailover => "failover",
        Kind::Ingress => "ingress",
        Kind::Sidecar => "sidecar",
        Kind::Pod => "pod",
        Kind::Node => "node",
        Kind::Network => "network",
        Kind::ThirdParty => "third party",
    }
}

/// "a, b and c".
#[must_use]
pub fn join_and(items: &[&str]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use crate::evidence::testing::Fixture;
    use crate::model::Kind;
    use crate::verdict::Verdict;

    #[test]
    fn an_alert_that_fired_before_the_onset_says_so() {
        assert_eq!(super::fired_relative(120_000, 0), "2 min after the onset");
        assert!(super::fired_relative(0, 420_000).starts_with("7 min before its series crossed"));
    }

    #[test]
    fn a_root_cause_without_rule_evidence_says_where_it_came_from() {
        let ctx = Fixture::new("front").slow_service("front").build();
        let v = Verdict::blaming(Kind::CodeChange, "mid", 0.34);
        let s = super::summary(&ctx, &v);
        assert!(
            s.contains("mid: it stands out from every other entity in the culprit ranking (confidence 0.34)."),
            "{s}"
        );
    }
}

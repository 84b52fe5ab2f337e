//! The prose of the postmortem: summary, impact and timeline, computed from the evidence.

use crate::evidence::Context;
use crate::evidence::sources::fmt_val;
use crate::model::{EntityKind, Kind, fmt_ms, human_duration};
use crate::rules::Status;
use crate::verdict::Verdict;

fn hm(ms: i64) -> String {
    fmt_ms(ms, "%H:%M")
}

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

/// At most three sentences, with numbers.
#[must_use]
pub fn summary(ctx: &Context, v: &Verdict) -> String {
    let a = &ctx.spec.alert;
    let metric = ctx.aliased(&a.metric);
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
    match ctx.alert_series() {
        Some(s) if s.score.testable() => out.push(format!(
            "{}'s {metric} rose from {} to {} ({}) from {} UTC and the alert fired at {}{spread}.",
            a.entity,
            fmt_val(metric, s.score.base),
            fmt_val(metric, s.score.level),
            s.score.pct(),
            hm(ctx.time(ctx.onset())),
            hm(ctx.windows.fired_at)
        )),
        _ => out.push(format!(
            "The alert on {}'s {metric} fired at {} UTC{spread}.",
            a.entity,
            hm(ctx.windows.fired_at)
        )),
    }
    match &v.root_cause {
        Some(rc) => {
            let ev = v
                .hypothesis(rc.kind, &rc.culprit)
                .map(|h| gist(&h.evidence).to_string())
                .unwrap_or_default();
            let trig = v.trigger.as_ref().map_or(String::new(), |t| {
                let tev = v
                    .hypothesis(t.kind, &t.culprit)
                    .map(|h| format!(" ({})", gist(&h.evidence)))
                    .unwrap_or_default();
                format!(", triggered by {}{tev}", t.kind.describe(&t.culprit))
            });
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
                .take(4)
                .map(|r| format!("{} {}", r.kind, r.culprit))
                .collect();
            out.push(format!(
                "The evidence does not single out a root cause; {} hypotheses survive{}.",
                v.ranking.len(),
                if survivors.is_empty() {
                    String::new()
                } else {
                    format!(", led by {}", survivors.join(", "))
                }
            ));
        }
    }
    let eliminated: Vec<&str> = {
        let mut layers: Vec<Kind> = v
            .hypotheses
            .iter()
            .filter(|h| h.status == Status::Eliminated)
            .map(|h| h.kind)
            .collect();
        layers.dedup();
        layers.sort();
        layers.dedup();
        layers.into_iter().map(short_layer).collect()
    };
    let n_elim = v
        .hypotheses
        .iter()
        .filter(|h| h.status == Status::Eliminated)
        .count();
    let conf = v
        .root_cause
        .as_ref()
        .map(|r| format!(" (confidence {:.2})", r.confidence))
        .unwrap_or_default();
    out.push(format!(
        "{n_elim} of {} hypotheses were eliminated by cross-service evidence, covering {}{conf}.",
        v.hypotheses.len(),
        join_and(&eliminated)
    ));
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

/// Impact bullet points.
#[must_use]
pub fn impact(ctx: &Context) -> Vec<String> {
    let mut out = Vec::new();
    let step_s = ctx.aligned.grid.step as f64 / 1000.0;
    for e in ctx.scope.affected() {
        let h = ctx.scope.of(e);
        let start = h.onset.map_or(ctx.windows.start, |o| ctx.time(o));
        let mut line = format!(
            "**{e}**: {} (from {} UTC, {} until the end of the window)",
            h.brief(3),
            hm(start),
            human_duration(ctx.windows.end - start)
        );
        if let Some(v) = ctx.metric(e, "errors_per_s") {
            let excess: f64 = v.values[ctx.aligned.incident.clone()]
                .iter()
                .filter(|x| x.is_finite())
                .map(|x| (x - v.score.base).max(0.0) * step_s)
                .sum();
            if excess >= 1.0 && v.score.up(0.5) {
                line.push_str(&format!(
                    "; about {excess:.0} more failed requests than at baseline"
                ));
            }
        }
        out.push(line);
    }
    if out.is_empty() {
        out.push("No service shows a sustained symptom beyond the alert itself.".into());
    }
    out
}

/// Timeline rows (epoch ms, text), sorted.
#[must_use]
pub fn timeline(ctx: &Context, v: &Verdict) -> Vec<(i64, String)> {
    let mut rows: Vec<(i64, String)> = Vec::new();
    for e in &ctx.events {
        if e.ts_ms <= ctx.windows.end {
            rows.push((
                e.ts_ms,
                format!(
                    "{} `{}`{}",
                    e.kind,
                    e.entity,
                    e.detail
                        .as_deref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
            ));
        }
    }
    if let Some(t) = &v.trigger {
        if let Some(o) = ctx
            .metric(&t.culprit, "requests_per_s")
            .and_then(|s| s.score.onset.map(|o| (o, s.score.pct())))
        {
            rows.push((
                ctx.time(o.0),
                format!(
                    "traffic to `{}` starts rising ({} at its peak level)",
                    t.culprit, o.1
                ),
            ));
        }
    }
    if let Some(rc) = &v.root_cause {
        let key = match rc.kind {
            Kind::Sidecar => Some(("sidecar", "cpu_cores", "sidecar CPU reaches its limit")),
            Kind::CpuSaturation => Some(("app", "cpu_cores", "app CPU reaches its limit")),
            Kind::MemoryPressure => {
                Some(("app", "mem_rss_bytes", "app memory climbs to its limit"))
            }
            _ => None,
        };
        if let Some((container, metric, text)) = key {
            let first = ctx
                .find(|k| {
                    k.entity == rc.culprit
                        && k.container == container
                        && k.metric == metric
                        && k.pod.is_some()
                })
                .into_iter()
                .filter_map(|s| s.score.onset)
                .min();
            if let Some(o) = first {
                rows.push((ctx.time(o), format!("`{}`: {text}", rc.culprit)));
            }
        }
    }
    for e in ctx.scope.affected() {
        let h = ctx.scope.of(e);
        if let (Some(o), Some(first)) = (h.onset, h.symptoms.first()) {
            rows.push((ctx.time(o), format!("`{e}` degrades: {first}")));
        }
    }
    rows.push((
        ctx.windows.fired_at,
        format!(
            "alert fires: `{}` {}",
            ctx.spec.alert.entity, ctx.spec.alert.metric
        ),
    ));
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    rows.dedup();
    rows
}

#[cfg(test)]
mod tests {
    use crate::evidence::testing::Fixture;
    use crate::model::Kind;
    use crate::verdict::{RootCause, Verdict};

    #[test]
    fn a_root_cause_without_rule_evidence_says_where_it_came_from() {
        let ctx = Fixture::new("front").slow_service("front").build();
        let v = Verdict {
            format: 1,
            incident: "fixture".into(),
            root_cause: Some(RootCause {
                kind: Kind::CodeChange,
                culprit: "mid".into(),
                confidence: 0.34,
            }),
            trigger: None,
            ranking: Vec::new(),
            hypotheses: Vec::new(),
            findings: Vec::new(),
            reasons: std::collections::BTreeMap::new(),
        };
        let s = super::summary(&ctx, &v);
        assert!(
            s.contains("mid: it stands out from every other entity in the culprit ranking (confidence 0.34)."),
            "{s}"
        );
    }
}

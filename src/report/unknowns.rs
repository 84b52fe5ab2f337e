//! What we don't know: the data the verdict could not use or did not have, and what would
//! overturn it. Generated from the archive, never a fixed list: each item names what is
//! missing, where, or which samples are unexplained.

use crate::evidence::Context;
use crate::evidence::resources::pinned_through_baseline;
use crate::evidence::sources::{fmt_val, metric_label};
use crate::model::{Kind, clock_s};
use crate::rules::Status;
use crate::verdict::Verdict;
use crate::verdict::timing::{AT_LIMIT, Timing, limit_series};

use super::narrative::hms;

fn has_metric(ctx: &Context, pred: impl Fn(&str) -> bool) -> bool {
    ctx.find(|k| pred(&k.metric)).into_iter().next().is_some()
}

/// The list of gaps in knowledge.
#[must_use]
pub fn unknowns(ctx: &Context, v: &Verdict) -> Vec<String> {
    let t = v.timing(ctx);
    let mut out = Vec::new();
    let rc_kind = v.root_cause.as_ref().map(|r| r.kind);
    if matches!(rc_kind, Some(Kind::Sidecar | Kind::CpuSaturation))
        && !has_metric(ctx, |m| m.contains("throttl"))
    {
        out.push("**No CPU-throttling counters** (cgroup `nr_throttled`): saturation is inferred from usage near the limit; the same proxy judges the other containers' headroom.".into());
    }
    if rc_kind == Some(Kind::Sidecar)
        && !ctx
            .find(|k| k.container == "sidecar")
            .iter()
            .any(|s| !s.key.metric.starts_with("cpu") && !s.key.metric.starts_with("mem"))
    {
        out.push("**No proxy statistics** (upstream latency, queueing, active connections of the sidecar): the added time is located in the proxy by elimination, not measured there.".into());
    }
    if !has_metric(ctx, |m| m.contains("span") || m.contains("trace")) {
        out.push("**No traces**: where inside a request the time went is inferred from per-service and client-side latencies.".into());
    }
    if v.trigger.is_some() {
        out.push("**Whether the traffic rise was organic or retries** is not in the data (no per-client or retry counters).".into());
    }
    out.extend(pre_onset_spikes(ctx, v, &t));
    out.extend(gaps(ctx));
    for f in v
        .findings
        .iter()
        .filter(|f| f.kind == "metric-disagreement")
    {
        out.push(format!(
            "**Sources disagree** on `{}`: {}",
            f.entity,
            f.detail.split("; trusted").next().unwrap_or(&f.detail)
        ));
    }
    let untested = v
        .hypotheses
        .iter()
        .flat_map(|h| h.outcomes.iter())
        .filter(|o| o.evidence.starts_with("not testable"))
        .count();
    if untested > 0 {
        out.push(format!(
            "**{untested} rule checks could not run** for lack of data (see Coverage)."
        ));
    }
    if out.is_empty() {
        out.push("Nothing the analysis looked for was missing.".into());
    }
    out
}

/// Samples of the root cause's container at its limit before it reached it for good.
fn pre_onset_spikes(ctx: &Context, v: &Verdict, t: &Timing) -> Vec<String> {
    let (Some(rc), Some(l)) = (&v.root_cause, &t.limit) else {
        return Vec::new();
    };
    let Some((container, metric, resource)) = limit_series(rc.kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for pod in ctx.topo.pods_of(&rc.culprit) {
        let (Some(s), Some(limit)) = (
            ctx.pod_metric(&rc.culprit, pod, container, metric),
            ctx.limit(&rc.culprit, Some(pod), container, resource),
        ) else {
            continue;
        };
        let before = ctx.aligned.baseline.start..l.mark.bucket;
        let total = before.len();
        let hits: Vec<usize> = before
            .filter(|&i| s.values[i].is_finite() && s.values[i] >= AT_LIMIT * limit)
            .collect();
        if hits.is_empty() {
            continue;
        }
        let what = metric_label(metric);
        let near = format!(
            "pod {pod}'s {container} {what} was within {:.0} % of its limit in {} of {total} samples before {}",
            (1.0 - AT_LIMIT) * 100.0,
            hits.len(),
            hms(ctx.time(l.mark.bucket)),
        );
        // The rules' own judgement of a standing limit, so the report never contradicts them.
        if pinned_through_baseline(ctx, s.values, limit) {
            out.push(format!(
                "**At its limit before the incident**: {near}: a standing condition, so what changed at the onset needs more than this limit to explain it."
            ));
            continue;
        }
        if hits.len() * OFTEN >= total {
            out.push(format!(
                "**Near its limit before the incident**: {near}, and went further into it from then: the onset added to a load the container already barely carried."
            ));
            continue;
        }
        let shown: Vec<String> = hits
            .iter()
            .take(SHOWN)
            .map(|&i| format!("{} at {}", fmt_val(metric, s.values[i]), hms(ctx.time(i))))
            .collect();
        let more = match hits.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        out.push(format!(
            "**Unexplained spikes before the limit was reached**: pod {pod}'s {container} {what} reached {}{more} — isolated samples that did not last.",
            shown.join(", ")
        ));
    }
    out
}

/// Spikes named one by one at most; more are counted.
const SHOWN: usize = 5;
/// A container near its limit in a quarter of the samples before the mark sat near it, not
/// spiked.
const OFTEN: usize = 4;

/// Missing samples of the alert's series inside the windows.
fn gaps(ctx: &Context) -> Vec<String> {
    let Some(s) = ctx.alert_series() else {
        return Vec::new();
    };
    let range = ctx.aligned.baseline.start..ctx.aligned.incident.end.min(s.values.len());
    let missing: Vec<usize> = range.filter(|&i| !s.values[i].is_finite()).collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let shown: Vec<String> = missing
        .iter()
        .take(5)
        .map(|&i| clock_s(ctx.time(i)))
        .collect();
    vec![format!(
        "**Gaps in the alert's series**: {} sample{} missing ({}{}).",
        missing.len(),
        if missing.len() == 1 { "" } else { "s" },
        shown.join(", "),
        if missing.len() > 5 { ", …" } else { "" }
    )]
}

/// Observations that would overturn the verdict.
#[must_use]
pub fn falsifiers(ctx: &Context, v: &Verdict) -> Vec<String> {
    let mut out = Vec::new();
    let Some(rc) = &v.root_cause else {
        out.push("Any supported hypothesis gathering evidence the others lack would settle the question; none does in this archive.".into());
        return out;
    };
    let c = &rc.culprit;
    match rc.kind {
        Kind::Sidecar => {
            out.push(format!("Throttling counters of {c}'s sidecars flat through the incident (usage near a limit without throttling is not saturation)."));
            out.push(format!(
                "Calls of {c} that bypass the proxy slowing down by the same amount."
            ));
        }
        Kind::CpuSaturation | Kind::MemoryPressure => {
            out.push(format!("The container runtime's own counters of {c} staying well below the limit (a second collector)."));
        }
        Kind::Mysql | Kind::Redis | Kind::ThirdParty => {
            out.push(format!(
                "Another caller of {c} that stayed healthy when measured at a finer step."
            ));
        }
        Kind::CodeChange => {
            out.push(format!(
                "The same slow-down on a replica of {c} still running the old version."
            ));
        }
        _ => out.push(format!("A degraded entity that {c} cannot reach.")),
    }
    if let Some(t) = &v.trigger {
        out.push(format!(
            "A request rate of {} that rose only after the onset (a finer step would show it).",
            t.culprit
        ));
    }
    // The storage the alert's service calls, which the meeting will argue about.
    let called = ctx.topo.deps_of(&ctx.spec.alert.entity);
    for h in v.hypotheses.iter().filter(|h| {
        h.status == Status::Eliminated
            && matches!(h.kind, Kind::Mysql | Kind::Redis)
            && called.contains(&h.culprit.as_str())
    }) {
        out.push(format!(
            "Server-side latency of {} rising with the incident (now eliminated by `{}`).",
            h.culprit, h.rule
        ));
    }
    out
}

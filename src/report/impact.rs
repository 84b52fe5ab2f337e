//! Impact in user and SLO terms: error ratio before and during, failed requests, error budget,
//! duration and whether it was still going on when the data ends; all from the timing model.

use crate::evidence::Context;
use crate::model::human_duration;
use crate::verdict::Verdict;
use crate::verdict::outage::Impact;
use crate::verdict::timing::Timing;

use super::narrative::hms;

/// A ratio as a percentage with the precision it needs (0.3 %, 2.4 %, 0.05 %).
#[must_use]
pub fn pct(r: f64) -> String {
    let p = r * 100.0;
    if p.abs() >= 10.0 {
        format!("{p:.0} %")
    } else if p.abs() >= 0.1 || p == 0.0 {
        format!("{p:.1} %")
    } else {
        format!("{p:.2} %")
    }
}

/// A whole number with thousands separators.
#[must_use]
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The user-level bullets, then one per degraded entity.
#[must_use]
pub fn bullets(ctx: &Context, v: &Verdict) -> Vec<String> {
    let t = v.timing(ctx);
    let i = &v.outage.impact;
    let mut out = Vec::new();
    if let Some(o) = &t.onset {
        let until = match t.recovered {
            Some(r) => format!("recovered at {} UTC", hms(r)),
            None => format!(
                "**still ongoing when the data ends** at {} UTC",
                hms(t.data_end)
            ),
        };
        out.push(format!(
            "**Duration**: {} from the onset at {} UTC; {until}.",
            human_duration(t.duration_ms().unwrap_or(0)),
            hms(o.at)
        ));
    }
    if let Some(line) = ratio_line(i) {
        out.push(line);
    }
    if let Some(line) = failed_line(i) {
        out.push(line);
    }
    if let Some(line) = budget_line(ctx, &t, i) {
        out.push(line);
    }
    for e in ctx.scope.affected() {
        let h = ctx.scope.of(e);
        let from = h.onset.map_or(String::new(), |o| {
            format!(" (first symptom {} UTC)", hms(ctx.time(o)))
        });
        out.push(format!("**{e}**: {}{from}", h.brief(3)));
    }
    if ctx.scope.affected().is_empty() {
        out.push("No service shows a sustained symptom beyond the alert itself.".into());
    }
    out
}

fn ratio_line(i: &Impact) -> Option<String> {
    let peak = i.error_ratio_peak?;
    let base = i.error_ratio_base.map_or(String::new(), |b| {
        format!(
            "{} at baseline (median errors / median requests) → ",
            pct(b)
        )
    });
    Some(format!(
        "**Error ratio of `{}`**: {base}{} at its peak (highest one-minute ratio after the onset).",
        i.entity,
        pct(peak)
    ))
}

fn failed_line(i: &Impact) -> Option<String> {
    let n = i.failed_requests?;
    let bound = if i.ongoing {
        "; a lower bound, since the impact was still ongoing when the data ends"
    } else {
        ""
    };
    Some(format!(
        "**Failed requests**: about {} at `{}` beyond the baseline error rate, from the onset to {}{bound}.",
        thousands(n),
        i.entity,
        if i.ongoing {
            "the end of the data"
        } else {
            "the recovery"
        }
    ))
}

/// Minutes whose error ratio exceeded the objective's allowance, when incident.toml gives an
/// availability objective.
fn budget_line(ctx: &Context, t: &Timing, i: &Impact) -> Option<String> {
    let slo = ctx.spec.postmortem.as_ref()?.slo?;
    let allowed = 1.0 - slo;
    let (errs, reqs) = (
        ctx.metric(&i.entity, "errors_per_s")?,
        ctx.metric(&i.entity, "requests_per_s")?,
    );
    let o = t.onset.as_ref()?;
    let step = ctx.aligned.grid.step;
    let end = ctx
        .aligned
        .grid
        .floor_index(t.recovered.unwrap_or(t.data_end))
        .min(errs.values.len());
    let bad = (o.bucket..end)
        .filter(|&k| {
            let (e, r) = (errs.values[k], reqs.values[k]);
            e.is_finite() && r > 0.0 && e / r > allowed
        })
        .count();
    let minutes = bad as f64 * step as f64 / 60_000.0;
    // A 30-day budget at the baseline request rate: allowed failures = (1 − SLO) · requests.
    let budget = allowed * reqs.score.base * 30.0 * 86_400.0;
    let used = i
        .failed_requests
        .filter(|_| budget > 0.0)
        .map_or(String::new(), |n| {
            format!(
                "; the failed requests used {} of a 30-day error budget at the baseline request rate",
                pct(n as f64 / budget)
            )
        });
    Some(format!(
        "**Error budget** (objective {} of requests succeed): {minutes:.1} bad minutes (error ratio above {}){used}.",
        objective(slo),
        pct(allowed)
    ))
}

/// An availability objective with every digit it was given: 0.999 is `99.9 %`, not `100 %`.
fn objective(slo: f64) -> String {
    let p = format!("{:.4}", slo * 100.0);
    format!("{} %", p.trim_end_matches('0').trim_end_matches('.'))
}

//! Findings beside the verdict: configuration smells the evidence exposed, and data that was
//! missing for the alert itself.

use crate::evidence::Context;
use crate::evidence::resources::saturation;
use crate::evidence::sources::fmt_val;
use crate::model::{APP, Finding, SIDECAR, fmt_ms};

fn cores(v: f64) -> String {
    format!("{v:.1} CPU").replace(".0 CPU", " CPU")
}

fn gib(v: f64) -> String {
    format!("{:.1} GiB", v / 1_073_741_824.0).replace(".0 GiB", " GiB")
}

/// A sidecar whose CPU limit is below its app's and that ran at that limit: the proxy did not
/// grow with the app.
pub(super) fn configuration(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for svc in &ctx.topo.sidecars {
        let Some(sat) = saturation(ctx, svc, SIDECAR, "cpu_cores", "cpu") else {
            continue;
        };
        let app_cpu = ctx.limit(svc, None, APP, "cpu");
        if sat.pods_at_limit == 0 || app_cpu.is_none_or(|a| a <= sat.limit) {
            continue;
        }
        let app_cpu = app_cpu.unwrap_or_default();
        let mem = match (
            ctx.limit(svc, None, SIDECAR, "mem"),
            ctx.limit(svc, None, APP, "mem"),
        ) {
            (Some(s), Some(a)) => (format!(" / {}", gib(s)), format!(" / {}", gib(a))),
            _ => (String::new(), String::new()),
        };
        let change = ctx
            .events
            .iter()
            .rfind(|e| &e.entity == svc && e.kind == "config" && e.ts_ms <= ctx.windows.end)
            .map(|e| {
                format!(
                    " (config change {}: `{}`)",
                    fmt_ms(e.ts_ms, "%Y-%m-%d"),
                    e.detail.as_deref().unwrap_or("")
                )
            })
            .unwrap_or_default();
        out.push(Finding {
            kind: "configuration".into(),
            entity: svc.clone(),
            detail: format!(
                "the sidecar stayed at {}{} while the app runs at {}{}{change}; every call of the pod crosses the proxy, so at high load the proxy saturates first ({} of {} pods at its limit)",
                cores(sat.limit),
                mem.0,
                cores(app_cpu),
                mem.1,
                sat.pods_at_limit,
                sat.pods
            ),
        });
    }
    out
}

/// The alert's own series missing from the archive.
pub(super) fn missing(ctx: &Context) -> Vec<Finding> {
    let a = &ctx.spec.alert;
    if ctx.alert_series().is_some() {
        return Vec::new();
    }
    vec![Finding {
        kind: "missing-data".into(),
        entity: a.entity.clone(),
        detail: format!(
            "the alert metric `{}` of {} has no samples in the archive; the analysis relies on the other symptoms",
            a.metric, a.entity
        ),
    }]
}

/// The alert's own series moved its good way (latency or errors falling, availability
/// rising): the report says so rather than reading the move as the symptom, and whatever the
/// analysis names rests on the other entities' series.
pub(super) fn alert_not_worse(ctx: &Context) -> Vec<Finding> {
    let a = &ctx.spec.alert;
    let Some(v) = ctx.alert_series() else {
        return Vec::new();
    };
    let s = v.score;
    let moved = s.up(0.3) || s.down(0.3);
    if !moved || crate::detect::worsened(&v.key.metric, s.direction) {
        return Vec::new();
    }
    vec![Finding {
        kind: "alert-not-worse".into(),
        entity: a.entity.clone(),
        detail: format!(
            "the alert metric `{}` of {} moved its good way ({} → {}, {}): the alert saw no symptom of its own, and the analysis rests on the other series",
            v.key.metric,
            a.entity,
            fmt_val(&v.key.metric, s.base),
            fmt_val(&v.key.metric, s.level),
            s.pct()
        ),
    }]
}

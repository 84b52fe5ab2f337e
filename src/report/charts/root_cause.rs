//! The root-cause chart: what the verdict blames, drawn the way that shows it best (a
//! container against its limit, a pod beside its siblings, a node's pods beside their
//! replicas, a dependency beside its peers), with the request rate and the culprit's events.

use super::{Chart, Dash, base, container_vs_limit, entity_lines, line, line_of, peers};
use crate::evidence::Context;
use crate::model::{APP, Kind, SIDECAR, SeriesKey};
use crate::verdict::Verdict;

/// The chart of the root cause's evidence, chosen by kind.
#[must_use]
pub fn root_cause(ctx: &Context, verdict: &Verdict) -> Option<Chart> {
    let rc = verdict.root_cause.as_ref()?;
    let who = rc.culprit.as_str();
    let mut c = match rc.kind {
        Kind::Sidecar => container_vs_limit(
            ctx,
            who,
            SIDECAR,
            "cpu_cores",
            "cpu",
            format!("{who} sidecar CPU per pod against its limit"),
        ),
        Kind::CpuSaturation => container_vs_limit(
            ctx,
            who,
            APP,
            "cpu_cores",
            "cpu",
            format!("{who} app CPU per pod against its limit"),
        ),
        Kind::MemoryPressure => container_vs_limit(
            ctx,
            who,
            APP,
            "mem_rss_bytes",
            "mem",
            format!("{who} app RSS per pod against its limit"),
        ),
        Kind::TrafficSpike => entity_lines(
            ctx,
            "root-cause.svg",
            format!("Requests per second at {who}"),
            "requests_per_s",
            &[who],
        ),
        Kind::Mysql | Kind::Redis | Kind::StorageFailover => peers(ctx, who, "root-cause.svg")
            .or_else(|| {
                entity_lines(
                    ctx,
                    "root-cause.svg",
                    format!("{who} server latency"),
                    "server_latency_ms",
                    &[who],
                )
            }),
        Kind::ThirdParty => peers(ctx, who, "root-cause.svg"),
        Kind::CodeChange => entity_lines(
            ctx,
            "root-cause.svg",
            format!("Errors per second at {who}"),
            "errors_per_s",
            &[who],
        ),
        Kind::Ingress => ingress_and_backends(ctx, who),
        Kind::Node => pods_on_node(ctx, who),
        Kind::Pod => pod_and_siblings(ctx, who),
        Kind::Network => {
            let nodes = ctx.topo.of_kind(crate::model::EntityKind::Node);
            entity_lines(
                ctx,
                "root-cause.svg",
                "Network errors per node".into(),
                "net_errors_per_s",
                &nodes,
            )
        }
    }?;
    decorate(ctx, rc, &mut c);
    Some(c)
}

/// p99 latency at an ingress and at the services behind it.
fn ingress_and_backends(ctx: &Context, who: &str) -> Option<Chart> {
    let mut es = vec![who];
    es.extend(
        ctx.topo
            .behind
            .get(who)
            .map(|s| s.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    entity_lines(
        ctx,
        "root-cause.svg",
        format!("p99 latency at {who} and the services behind it"),
        "latency_p99_ms",
        &es,
    )
}

/// p99 latency of the pods on a node (solid) beside their replicas elsewhere (dashed).
fn pods_on_node(ctx: &Context, who: &str) -> Option<Chart> {
    let mut c = base(
        ctx,
        "root-cause.svg",
        format!("p99 latency of pods on {who} and their replicas elsewhere"),
        "latency_p99_ms",
    );
    for (i, p) in ctx.topo.pods_on(who).into_iter().take(6).enumerate() {
        let Some(svc) = ctx.topo.pod_entity.get(p) else {
            continue;
        };
        for q in ctx.topo.pods_of(svc).into_iter().take(3) {
            let dash = if q == p { Dash::Solid } else { Dash::Dashed };
            let label = format!(
                "{q}{}",
                if q == p {
                    format!(" (on {who})")
                } else {
                    String::new()
                }
            );
            if let Some(l) = line(
                ctx,
                &SeriesKey {
                    pod: Some(q.into()),
                    ..SeriesKey::entity(svc, "latency_p99_ms")
                },
                label,
                dash,
                Some(i),
            ) {
                c.lines.push(l);
            }
        }
    }
    (!c.lines.is_empty()).then_some(c)
}

/// p99 latency of one pod (solid) beside its siblings (dashed).
fn pod_and_siblings(ctx: &Context, who: &str) -> Option<Chart> {
    let svc = ctx.topo.pod_entity.get(who)?;
    let mut c = base(
        ctx,
        "root-cause.svg",
        format!("p99 latency of {who} and its siblings"),
        "latency_p99_ms",
    );
    for (i, q) in ctx.topo.pods_of(svc).into_iter().enumerate() {
        let dash = if q == who { Dash::Solid } else { Dash::Dashed };
        if let Some(l) = line(
            ctx,
            &SeriesKey {
                pod: Some(q.into()),
                ..SeriesKey::entity(svc, "latency_p99_ms")
            },
            q.to_string(),
            dash,
            Some(i),
        ) {
            c.lines.push(l);
        }
    }
    (!c.lines.is_empty()).then_some(c)
}

/// What every root-cause chart adds: the request rate on the right axis where a capacity
/// limit is reached by traffic, and markers for the culprit's events in the chart's range.
fn decorate(ctx: &Context, rc: &crate::verdict::RootCause, c: &mut Chart) {
    let who = rc.culprit.as_str();
    // A capacity limit is reached by traffic: the service's request rate on the right axis.
    if crate::verdict::timing::limit_series(rc.kind).is_some() {
        if let Some(v) = ctx.metric(who, "requests_per_s") {
            let l = line_of(
                ctx,
                v.values,
                format!("{who} requests/s (right axis)"),
                Dash::Solid,
                None,
            );
            c.right = Some(("requests per second".into(), l));
        }
    }
    for e in &ctx.events {
        if e.entity == rc.culprit && e.ts_ms >= c.x_range.0 && e.ts_ms <= c.x_range.1 {
            c.markers.push((e.ts_ms, e.kind.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kp, sidecar_cpu};

    #[test]
    fn a_bad_pod_is_drawn_solid_beside_its_dashed_siblings() {
        let ctx = Fixture::new("api")
            .slow_service("api")
            .place("api-1", "n1")
            .place("api-2", "n2")
            .step(kp("api", "api-1", APP, "latency_p99_ms"), 50.0, 400.0)
            .flat(kp("api", "api-2", APP, "latency_p99_ms"), 50.0)
            .build();
        let c = root_cause(&ctx, &Verdict::blaming(Kind::Pod, "api-1", 0.9)).expect("a chart");
        let styles: Vec<(&str, Dash)> =
            c.lines.iter().map(|l| (l.label.as_str(), l.dash)).collect();
        assert_eq!(styles, [("api-1", Dash::Solid), ("api-2", Dash::Dashed)]);
    }

    #[test]
    fn a_sidecar_is_drawn_against_its_limit_per_pod() {
        let ctx = Fixture::new("api")
            .slow_service("api")
            .sidecar("api", 4.0, 2.0)
            .place("api-1", "n1")
            .step(sidecar_cpu("api", "api-1"), 0.9, 1.97)
            .build();
        let c = root_cause(&ctx, &Verdict::blaming(Kind::Sidecar, "api", 0.9)).expect("a chart");
        assert!(
            c.lines.iter().any(|l| l.label.contains("api-1")),
            "{:?}",
            c.lines.len()
        );
        assert!(c.title.contains("sidecar CPU"), "{}", c.title);
    }

    #[test]
    fn no_root_cause_draws_no_root_cause_chart() {
        let ctx = Fixture::new("api").slow_service("api").build();
        let mut v = Verdict::blaming(Kind::Pod, "api-1", 0.9);
        v.root_cause = None;
        assert!(root_cause(&ctx, &v).is_none());
    }
}

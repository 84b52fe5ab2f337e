//! The candidate list: one hypothesis per root-cause kind and plausible culprit in scope.
//!
//! Scope starts from the degraded services (and the alerting one) and follows the topology to
//! what could have hurt them: their storage, gateways, third parties, proxies, pods and nodes.
//! Listing a candidate costs nothing; leaving one out would hide it from the funnel.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::evidence::Context;
use crate::model::{EntityKind, Kind};

/// "`kind` at `culprit` is the root cause."
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Hypothesis {
    /// Root-cause kind.
    pub kind: Kind,
    /// What the kind names: a service, instance, pod, node, gateway or `cluster`.
    pub culprit: String,
}

impl Hypothesis {
    /// Shorthand constructor.
    #[must_use]
    pub fn new(kind: Kind, culprit: &str) -> Hypothesis {
        Hypothesis {
            kind,
            culprit: culprit.to_string(),
        }
    }
}

/// Services in scope: the degraded ones plus the alerting entity when it is a service.
#[must_use]
pub fn scope_services(ctx: &Context) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = ctx
        .scope
        .affected()
        .into_iter()
        .filter(|e| EntityKind::of(e) == EntityKind::Service)
        .map(str::to_string)
        .collect();
    if EntityKind::of(&ctx.spec.alert.entity) == EntityKind::Service {
        s.insert(ctx.spec.alert.entity.clone());
    }
    s
}

/// Whether `entity` is one of [`scope_services`], without building the set: rules ask this
/// per pod.
#[must_use]
pub fn in_scope(ctx: &Context, entity: &str) -> bool {
    EntityKind::of(entity) == EntityKind::Service
        && (entity == ctx.spec.alert.entity || ctx.scope.of(entity).affected)
}

/// Every hypothesis worth testing, sorted by kind then culprit.
#[must_use]
pub fn enumerate(ctx: &Context) -> Vec<Hypothesis> {
    let mut out = BTreeSet::new();
    let mut gateways: BTreeSet<String> = ctx
        .scope
        .affected()
        .into_iter()
        .filter(|e| EntityKind::of(e) == EntityKind::Ingress)
        .map(str::to_string)
        .collect();
    if EntityKind::of(&ctx.spec.alert.entity) == EntityKind::Ingress {
        gateways.insert(ctx.spec.alert.entity.clone());
    }
    let mut nodes = BTreeSet::new();
    for s in &scope_services(ctx) {
        service_hypotheses(&mut out, ctx, s, &mut gateways);
        nodes.extend(pod_hypotheses(&mut out, ctx, s));
    }
    for g in &gateways {
        out.insert(Hypothesis::new(Kind::Ingress, g));
        out.insert(Hypothesis::new(Kind::TrafficSpike, g));
    }
    for n in &nodes {
        out.insert(Hypothesis::new(Kind::Node, n));
    }
    failover_hypotheses(&mut out, ctx);
    out.insert(Hypothesis::new(Kind::Network, "cluster"));
    out.into_iter().collect()
}

/// What service `s` itself could be (its load, resources, code, sidecar) and what its
/// dependencies could be; the gateways in front of it or among its dependencies go into
/// `gateways`.
fn service_hypotheses(
    out: &mut BTreeSet<Hypothesis>,
    ctx: &Context,
    s: &str,
    gateways: &mut BTreeSet<String>,
) {
    let mut add = |k: Kind, c: &str| {
        out.insert(Hypothesis::new(k, c));
    };
    for k in [
        Kind::TrafficSpike,
        Kind::CpuSaturation,
        Kind::MemoryPressure,
        Kind::CodeChange,
    ] {
        add(k, s);
    }
    if ctx.topo.sidecars.contains(s) {
        add(Kind::Sidecar, s);
    }
    for d in ctx.topo.deps_of(s) {
        match EntityKind::of(d) {
            EntityKind::Mysql => {
                add(Kind::Mysql, d);
                add(Kind::StorageFailover, d);
            }
            EntityKind::Redis => {
                add(Kind::Redis, d);
                add(Kind::StorageFailover, d);
            }
            EntityKind::ThirdParty => add(Kind::ThirdParty, d),
            EntityKind::Ingress => {
                gateways.insert(d.to_string());
            }
            _ => {}
        }
    }
    if let Some(g) = ctx.topo.entries.get(s) {
        gateways.extend(g.iter().cloned());
    }
}

/// A pod hypothesis per degraded pod of `s`; returns the nodes to suspect: those of its
/// degraded pods, or of all its pods when none is degraded.
fn pod_hypotheses(out: &mut BTreeSet<Hypothesis>, ctx: &Context, s: &str) -> Vec<String> {
    let pods = ctx.topo.pods_of(s);
    let sick: Vec<&str> = pods
        .iter()
        .copied()
        .filter(|p| ctx.scope.pod(p).affected)
        .collect();
    for p in &sick {
        out.insert(Hypothesis::new(Kind::Pod, p));
    }
    let suspects = if sick.is_empty() { &pods } else { &sick };
    suspects
        .iter()
        .filter_map(|p| ctx.topo.node_of(p))
        .map(str::to_string)
        .collect()
}

/// A recorded failover is evidence on its own: its users' burst of resets can be too short
/// to put them in scope, and then the storage would never be asked about.
fn failover_hypotheses(out: &mut BTreeSet<Hypothesis>, ctx: &Context) {
    let w = ctx.windows;
    for e in ctx.events.iter().filter(|e| {
        e.ts_ms >= w.start - super::helpers::FAILOVER_LOOKBACK_MS
            && e.ts_ms < w.end
            && super::helpers::is_failover(&e.kind, e.detail.as_deref())
    }) {
        let kind = match EntityKind::of(&e.entity) {
            EntityKind::Mysql => Kind::Mysql,
            EntityKind::Redis => Kind::Redis,
            _ => continue,
        };
        out.insert(Hypothesis::new(kind, &e.entity));
        out.insert(Hypothesis::new(Kind::StorageFailover, &e.entity));
    }
}

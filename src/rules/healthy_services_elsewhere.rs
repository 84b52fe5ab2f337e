//! Rule `healthy-services-elsewhere`.

use std::collections::BTreeSet;

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::model::EntityKind;

declare_rule! {
    /// ## What it rules out
    /// The cluster network, when other services in the cluster stayed healthy. Supports it
    /// when most services degraded across several nodes and node network errors rose, or
    /// when calls to two or more services slowed at their callers by more than those services'
    /// own latency explains (the time went between them) and at most one service with data
    /// stayed healthy.
    ///
    /// ## Evidence used
    /// The health of every service with symptom data, the nodes their pods run on, and the
    /// nodes' `net_errors_per_s`.
    ///
    /// ## Why this is sound
    /// The pod network is shared: a fault in it (CNI, overlay, DNS, a congested link) slows
    /// east-west calls of every service whose traffic crosses it. Healthy services on the same
    /// nodes show that their packets were delivered normally, unless their callers saw their
    /// calls slow down: a callee's own latency does not count the time on the wire, so a
    /// service can look healthy from the inside while every call to it is late. A slow callee
    /// slows its callers by its own delay; only time between the two ends widens that gap.
    ///
    /// ## Inconclusive when
    /// No service outside the degraded ones has data.
    ///
    /// ## Example
    /// `user-api`, `chat-api` and `gift-api` healthy on the same nodes → network eliminated.
    pub(crate) HealthyServicesElsewhere { id: "healthy-services-elsewhere", kinds: [Network], reads: [] }
}

impl Rule for HealthyServicesElsewhere {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, _h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let (healthy, sick) = (services(ctx, true), services(ctx, false));
        let nodes_up: Vec<&str> = ctx
            .topo
            .of_kind(EntityKind::Node)
            .into_iter()
            .filter(|n| {
                ctx.metric(n, "net_errors_per_s")
                    .is_some_and(|v| v.score.up(1.0) && v.score.level - v.score.base >= 0.5)
            })
            .collect();
        let nodes_with_data = ctx
            .topo
            .of_kind(EntityKind::Node)
            .into_iter()
            .filter(|n| {
                ctx.metric(n, "net_errors_per_s")
                    .is_some_and(|v| v.score.testable())
            })
            .count();
        // Packet loss reported by most nodes is the network speaking for itself; a few
        // healthy services then only show that not every path was hit.
        if nodes_up.len() >= 2 && 2 * nodes_up.len() >= nodes_with_data && sick.len() >= 2 {
            let w = if healthy.len() >= 3 { 0.7 } else { 0.9 };
            return Some(Outcome::supported(
                id,
                w,
                format!(
                    "network errors rose on {} of {nodes_with_data} nodes and {} services degraded ({} healthy)",
                    nodes_up.len(),
                    sick.len(),
                    healthy.len()
                ),
            ));
        }
        // A healthy service whose callers saw its calls slow down is no witness against the
        // network: the time went on the wire, outside its own handling.
        let gaps = ctx.wire_gaps();
        let gap_callees: BTreeSet<&str> = gaps.iter().map(|(_, callee)| *callee).collect();
        let witnesses: Vec<&str> = healthy
            .iter()
            .copied()
            .filter(|s| !gap_callees.contains(s))
            .collect();
        if gap_callees.len() >= 2 && sick.len() >= 2 && witnesses.len() <= 1 {
            // More pairs widened alike, less room for one slow proxy or link.
            let w = (0.5 + 0.1 * gap_callees.len() as f64).min(0.9);
            return Some(Outcome::supported(id, w, describe_gaps(&gaps)));
        }
        if !witnesses.is_empty() && 2 * witnesses.len() >= sick.len().min(3) {
            return Some(healthy_elsewhere(
                ctx,
                &witnesses,
                &sick,
                !nodes_up.is_empty(),
            ));
        }
        let sick_nodes = nodes_of(ctx, &sick);
        if sick.len() >= 3 && (sick_nodes.len() >= 2 || !nodes_up.is_empty()) {
            // Without packet loss on the nodes, widespread degradation is just as well explained
            // by a dependency they share: weak support only.
            let w = match (nodes_up.len() >= 2, healthy.is_empty()) {
                (true, true) => 0.95,
                (true, false) => 0.85,
                _ => 0.35,
            };
            let mut text = format!(
                "{} services degraded across {} nodes, {} healthy",
                sick.len(),
                sick_nodes.len(),
                healthy.len()
            );
            if !nodes_up.is_empty() {
                text.push_str(&format!("; network errors rose on {}", nodes_up.join(", ")));
            }
            return Some(Outcome::supported(id, w, text));
        }
        Some(Outcome::inconclusive(
            id,
            "not testable: no service outside the incident has data",
        ))
    }
}

/// The healthy (or else the affected) services; other kinds of entity have their own rules.
fn services(ctx: &Context, healthy: bool) -> Vec<&str> {
    let list = if healthy {
        ctx.scope.healthy()
    } else {
        ctx.scope.affected()
    };
    list.into_iter()
        .filter(|e| EntityKind::of(e) == EntityKind::Service)
        .collect()
}

/// The nodes running pods of `svcs`.
fn nodes_of<'c>(ctx: &'c Context, svcs: &[&str]) -> BTreeSet<&'c str> {
    svcs.iter()
        .flat_map(|s| ctx.topo.pods_of(s))
        .filter_map(|p| ctx.topo.node_of(p))
        .collect()
}

/// The support text for calls slowed between healthy ends.
fn describe_gaps(gaps: &[(&str, &str)]) -> String {
    let callees: BTreeSet<&str> = gaps.iter().map(|(_, b)| *b).collect();
    let callers: BTreeSet<&str> = gaps.iter().map(|(a, _)| *a).collect();
    format!(
        "calls from {} to {} slowed down at the caller by more than {} own latency explains: the time went between them",
        callers.into_iter().collect::<Vec<_>>().join(", "),
        callees.iter().copied().collect::<Vec<_>>().join(", "),
        if callees.len() == 1 {
            "the callee's"
        } else {
            "the callees'"
        }
    )
}

/// The elimination by services that stayed healthy, weaker when some node lost packets.
fn healthy_elsewhere(ctx: &Context, healthy: &[&str], sick: &[&str], loss: bool) -> Outcome {
    let shared: BTreeSet<&str> = nodes_of(ctx, healthy)
        .intersection(&nodes_of(ctx, sick))
        .copied()
        .collect();
    let where_ = if shared.is_empty() {
        String::new()
    } else {
        format!(
            ", on the same nodes ({})",
            shared.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    let weight = (0.55 + 0.1 * healthy.len() as f64).min(0.9) - if loss { 0.3 } else { 0.0 };
    let list = if healthy.len() > 6 {
        format!("{} and {} more", healthy[..6].join(", "), healthy.len() - 6)
    } else {
        healthy.join(", ")
    };
    Outcome::eliminated(
        HealthyServicesElsewhere::INFO.id,
        weight,
        format!(
            "{} other services stayed healthy ({list}){where_}: a network fault would have reached them",
            healthy.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k};
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Outcome {
        HealthyServicesElsewhere
            .evaluate(&f.build(), &Hypothesis::new(Kind::Network, "cluster"))
            .unwrap()
    }

    #[test]
    fn eliminated_by_healthy_neighbours() {
        let o = eval(
            Fixture::new("a")
                .slow_service("a")
                .healthy_service("b")
                .healthy_service("c"),
        );
        insta::assert_snapshot!(o, @"eliminated (0.75): 2 other services stayed healthy (b, c): a network fault would have reached them");
    }

    #[test]
    fn supported_when_everything_degrades_and_nodes_drop_packets() {
        let mut f = Fixture::new("a");
        for s in ["a", "b", "c"] {
            f = f.slow_service(s);
        }
        for n in ["node:x", "node:y"] {
            f = f.step(k(n, "net_errors_per_s"), 0.0, 30.0);
        }
        assert_eq!(eval(f).status, Status::Supported);
    }

    #[test]
    fn inconclusive_with_a_single_service() {
        assert_eq!(
            eval(Fixture::new("a").slow_service("a")).status,
            Status::Inconclusive
        );
    }
}

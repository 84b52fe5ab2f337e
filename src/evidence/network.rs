//! Whether the network is in trouble, and where: a node's own interface, network errors
//! on most nodes, or calls whose time between caller and callee grew. The network, node and
//! dependency rules all ask; they must get the same answers.

use std::collections::BTreeSet;

use super::Context;
use super::scope::DEP_LATENCY_RISE;
use crate::model::EntityKind;

/// How much the time between caller and callee must grow, at least, in milliseconds and as a
/// share of the caller's baseline latency to the callee, to count as a widened call.
const GAP_RISE_MS: f64 = 10.0;
const GAP_RISE: f64 = 0.25;

impl Context {
    /// Whether a node's network errors rose: sustained, doubled, and at least 0.5/s more than
    /// the baseline (a node going from 0.2 to 0.6 errors/s drops nobody's requests).
    #[must_use]
    pub fn node_net_errors_rose(&self, node: &str) -> bool {
        self.metric(node, "net_errors_per_s")
            .is_some_and(|v| v.score.up(1.0) && v.score.level - v.score.base >= 0.5)
    }

    /// Nodes whose network errors rose ([`Context::node_net_errors_rose`]). Two or more of them
    /// mean a fault that reaches every dependency at once.
    #[must_use]
    pub fn network_trouble(&self) -> Vec<&str> {
        self.topo
            .of_kind(EntityKind::Node)
            .into_iter()
            .filter(|n| self.node_net_errors_rose(n))
            .collect()
    }

    /// When the network is in trouble, a note for evidence that a single dependency would
    /// otherwise claim from its `callers`, and the factor to discount it by: network errors on
    /// several nodes reach every dependency at once, and errors on one node reach every
    /// dependency of the pods on it, so callers that all have pods there are no witnesses.
    #[must_use]
    pub fn network_discount(&self, callers: &[&str]) -> Option<(f64, String)> {
        let nodes = self.network_trouble();
        if nodes.len() >= 2 {
            return Some((
                0.5,
                format!(
                    " (but network errors rose on {} nodes at the same time, which explains this too)",
                    nodes.len()
                ),
            ));
        }
        if let Some(node) = nodes.first() {
            let on_node = |c: &&str| {
                self.topo
                    .pods_of(c)
                    .into_iter()
                    .any(|p| self.topo.node_of(p) == Some(*node))
            };
            return (!callers.is_empty() && callers.iter().all(on_node)).then(|| {
                (
                    0.5,
                    format!(" (but each of them has pods on {node}, whose network errors rose at the same time, which explains this too)"),
                )
            });
        }
        let callees: BTreeSet<&str> = self.wire_gaps().into_iter().map(|(_, b)| b).collect();
        (callees.len() >= 2).then(|| {
            (
                0.5,
                format!(
                    " (but calls to {} services slowed between caller and callee at the same time, which explains this too)",
                    callees.len()
                ),
            )
        })
    }

    /// Whether `node`'s own network errors rose while most nodes reporting them did not: a
    /// failing interface on that node, not the network. Its pods may look healthy from the
    /// inside (calls fail on the wire, and their callers see the errors).
    #[must_use]
    pub fn node_nic_failing(&self, node: &str) -> bool {
        self.node_net_errors_rose(node) && !self.net_errors_widespread()
    }

    /// Whether network errors rose on more than half of the nodes that report them, three or
    /// more (then they are the network's, not one node's).
    #[must_use]
    pub fn net_errors_widespread(&self) -> bool {
        let reporting = self
            .topo
            .of_kind(EntityKind::Node)
            .into_iter()
            .filter(|n| self.metric(n, "net_errors_per_s").is_some())
            .count();
        reporting >= 3 && 2 * self.network_trouble().len() > reporting
    }

    /// Calls whose time between the two ends grew (caller, callee): the caller's client-side
    /// latency rose beyond what the callee's own average latency explains. A slow callee slows its
    /// callers by its own delay and leaves that gap alone; the network (or a proxy) widens it.
    /// Kept only when no one entity takes part in every such call (a slow sidecar on one service
    /// widens its inbound and outbound calls alike) and no single node's interface is failing (its
    /// pods' calls are its own).
    #[must_use]
    pub fn wire_gaps(&self) -> Vec<(&str, &str)> {
        // A failing interface on one node: some node's errors rose, on too few to be widespread.
        if !self.network_trouble().is_empty() && !self.net_errors_widespread() {
            return Vec::new();
        }
        let gaps: Vec<(&str, &str)> = self
            .find(|k| k.metric == "dep_latency_ms" && k.pod.is_none() && k.target.is_some())
            .into_iter()
            .filter(|v| v.score.testable() && v.score.up(DEP_LATENCY_RISE))
            .filter_map(|v| {
                let callee = v.key.target.as_deref()?;
                let widened = match self
                    .metric(callee, "latency_avg_ms")
                    .filter(|c| c.score.testable())
                {
                    Some(own) => {
                        let rise =
                            (v.score.level - own.score.level) - (v.score.base - own.score.base);
                        rise >= GAP_RISE_MS.max(GAP_RISE * v.score.base)
                    }
                    None => self.scope.entities.get(callee).is_some_and(|h| h.healthy()),
                };
                widened.then_some((v.key.entity.as_str(), callee))
            })
            .collect();
        let everywhere = |e: &str| gaps.iter().all(|(a, b)| *a == e || *b == e);
        let one_entity = gaps
            .first()
            .is_some_and(|(a, b)| everywhere(a) || everywhere(b));
        if one_entity { Vec::new() } else { gaps }
    }
}

#[cfg(test)]
mod tests {
    use crate::evidence::testing::{Fixture, k, kp};

    /// Service api with pods p1 on n1, p2 on n2, p3 on n3.
    fn api() -> Fixture {
        let mut f = Fixture::new("api").slow_service("api");
        for i in 1..=3 {
            let pod = format!("p{i}");
            f = f
                .step(kp("api", &pod, "app", "latency_p99_ms"), 100.0, 500.0)
                .place(&pod, &format!("n{i}"));
        }
        f
    }

    #[test]
    fn network_errors_on_one_node_of_three_are_its_interface() {
        let f = api()
            .step(k("node:n1", "net_errors_per_s"), 0.0, 40.0)
            .flat(k("node:n2", "net_errors_per_s"), 0.0)
            .flat(k("node:n3", "net_errors_per_s"), 0.0);
        let ctx = f.build();
        assert!(ctx.node_nic_failing("node:n1"));
        assert!(!ctx.node_nic_failing("node:n2"));
    }

    /// a calls b and c calls d; the callers' latency to them goes 20 ms → `seen`, the
    /// callees' own average latency 15 ms → `own`.
    fn calls(seen: f64, own: f64) -> Fixture {
        let mut f = Fixture::new("a").slow_service("a").slow_service("c");
        for (caller, callee) in [("a", "b"), ("c", "d")] {
            let mut dep = k(caller, "dep_latency_ms");
            dep.target = Some(callee.into());
            f = f
                .step(dep, 20.0, seen)
                .step(k(callee, "latency_avg_ms"), 15.0, own)
                .flat(k(callee, "requests_per_s"), 50.0);
        }
        f
    }

    #[test]
    fn calls_slowed_beyond_their_callees_own_latency_widened_on_the_wire() {
        assert_eq!(
            calls(120.0, 15.0).build().wire_gaps(),
            [("a", "b"), ("c", "d")]
        );
    }

    #[test]
    fn slow_callees_explain_their_callers() {
        assert!(calls(120.0, 115.0).build().wire_gaps().is_empty());
    }
}

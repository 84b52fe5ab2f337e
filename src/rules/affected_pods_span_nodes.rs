//! Rule `affected-pods-span-nodes`.

use std::collections::BTreeSet;

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;

declare_rule! {
    /// ## What it rules out
    /// A single node as the root cause, when the degraded pods of a service sit on two or more
    /// nodes and are degraded alike, or when no degraded pod runs on the node at all.
    ///
    /// ## Evidence used
    /// Per-pod symptoms (latency, errors, client-side dependency latency) and the pod → node
    /// placement from the `node` column.
    ///
    /// ## Why this is sound
    /// A node fault (noisy neighbour, kernel, NIC, disk) hurts the pods on that node and not
    /// their siblings elsewhere. When replicas on different nodes degrade together, the cause
    /// is something they share that is not the node. If some pods on the node are degraded
    /// while their siblings elsewhere are not, this rule stays silent and
    /// `node-pods-degrade-together` weighs the node.
    ///
    /// ## Inconclusive when
    /// No pod on the node has per-pod symptom data; or none is degraded but the node's own
    /// network errors rose while most nodes' did not (calls through a failing interface fail
    /// on the wire, so its pods' callers see the failures, not the pods).
    ///
    /// ## Example
    /// The three `live-api` pods on node-a, node-b and node-c are all slow → node-a eliminated.
    pub(crate) AffectedPodsSpanNodes { id: "affected-pods-span-nodes", kinds: [Node], reads: [] }
}

impl Rule for AffectedPodsSpanNodes {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let node = h.culprit.as_str();
        let on_node: Vec<&str> = ctx
            .topo
            .pods_on(node)
            .into_iter()
            .filter(|p| ctx.scope.pod(p).testable)
            .collect();
        if on_node.is_empty() {
            return Some(Outcome::inconclusive(
                id,
                format!("not testable: no pod on {node} has per-pod symptom data"),
            ));
        }
        let mut spanning = Vec::new();
        for pod in on_node.iter().filter(|p| ctx.scope.pod(p).affected) {
            match spread(ctx, node, pod) {
                // A node-local split: node-pods-degrade-together decides.
                Spread::NodeLocal => return None,
                Spread::Across(text) => spanning.push(text),
                Spread::Nothing => {}
            }
        }
        if !spanning.is_empty() {
            spanning.dedup();
            return Some(Outcome::eliminated(
                id,
                0.8,
                format!(
                    "{}, so {node} alone does not explain them",
                    spanning.join("; ")
                ),
            ));
        }
        let sick_in_scope = on_node.iter().any(|p| {
            ctx.scope.pod(p).affected
                && ctx
                    .topo
                    .pod_entity
                    .get(*p)
                    .is_some_and(|s| super::hypotheses::in_scope(ctx, s))
        });
        if !sick_in_scope && ctx.node_nic_failing(node) {
            // Calls through a failing interface fail on the wire: the pods' own latency and
            // errors stay clean while their callers see the failures.
            return Some(Outcome::inconclusive(
                id,
                format!(
                    "none of the {} pods with data on {node} is degraded, but its own network errors rose, which its pods' callers would see instead",
                    on_node.len()
                ),
            ));
        }
        if !sick_in_scope {
            return Some(Outcome::eliminated(
                id,
                0.7,
                format!(
                    "none of the {} pods with data on {node} belongs to a degraded service and is degraded",
                    on_node.len()
                ),
            ));
        }
        Some(Outcome::inconclusive(
            id,
            format!("degraded pods on {node} have no siblings with data elsewhere to compare"),
        ))
    }
}

/// How the degraded pods of a degraded pod's service lie across nodes.
enum Spread {
    /// A sibling elsewhere is healthy: the trouble is local to this node.
    NodeLocal,
    /// Degraded pods on two or more nodes, in words.
    Across(String),
    /// Neither (or the service is out of the incident's scope).
    Nothing,
}

fn spread(ctx: &Context, node: &str, pod: &str) -> Spread {
    let Some(svc) = ctx
        .topo
        .pod_entity
        .get(pod)
        .filter(|s| super::hypotheses::in_scope(ctx, s))
    else {
        return Spread::Nothing;
    };
    if ctx.stands_out_from_replicas(svc, pod) {
        return Spread::NodeLocal;
    }
    let sick: Vec<&str> = ctx
        .topo
        .pods_of(svc)
        .into_iter()
        .filter(|p| ctx.scope.pod(p).affected)
        .collect();
    let nodes: BTreeSet<&str> = sick.iter().filter_map(|p| ctx.topo.node_of(p)).collect();
    if nodes.len() < 2 {
        return Spread::Nothing;
    }
    // The survivors of a bad pod elsewhere carry its load: mildly slower here, not the node.
    let standout = sick
        .iter()
        .find(|p| ctx.topo.node_of(p) != Some(node) && ctx.stands_out_from_replicas(svc, p));
    if let Some(other) = standout {
        return Spread::Across(format!(
            "{svc}'s hardest-hit pod, {other}, runs on {}",
            ctx.topo.node_of(other).unwrap_or("another node")
        ));
    }
    Spread::Across(format!(
        "the {} degraded {svc} pods sit on {} different nodes ({}), degraded alike",
        sick.len(),
        nodes.len(),
        nodes.into_iter().collect::<Vec<_>>().join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kp};
    use crate::model::Kind;
    use crate::rules::Status;

    fn pods(f: Fixture, slow: &[(&str, &str)], fine: &[(&str, &str)]) -> Fixture {
        let mut f = f;
        for (p, n) in slow {
            f = f
                .step(kp("api", p, "app", "latency_p99_ms"), 100.0, 500.0)
                .place(p, n);
        }
        for (p, n) in fine {
            f = f
                .flat(kp("api", p, "app", "latency_p99_ms"), 100.0)
                .place(p, n);
        }
        f
    }

    fn eval(f: Fixture, node: &str) -> Option<Outcome> {
        AffectedPodsSpanNodes.evaluate(&f.build(), &Hypothesis::new(Kind::Node, node))
    }

    #[test]
    fn eliminated_when_slow_pods_span_three_nodes() {
        let f = pods(
            Fixture::new("api").slow_service("api"),
            &[("api-1", "a"), ("api-2", "b"), ("api-3", "c")],
            &[],
        );
        let o = eval(f, "node:a").unwrap();
        insta::assert_snapshot!(o, @"eliminated (0.80): the 3 degraded api pods sit on 3 different nodes (node:a, node:b, node:c), degraded alike, so node:a alone does not explain them");
    }

    #[test]
    fn silent_when_the_node_splits_a_service() {
        let f = pods(
            Fixture::new("api").slow_service("api"),
            &[("api-1", "a")],
            &[("api-2", "b")],
        );
        assert_eq!(eval(f, "node:a"), None);
    }

    #[test]
    fn inconclusive_without_pod_data() {
        let o = eval(
            Fixture::new("api").slow_service("api").place("api-1", "a"),
            "node:a",
        )
        .unwrap();
        assert_eq!(o.status, Status::Inconclusive, "{o}");
    }
}

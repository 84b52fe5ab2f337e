//! Rule `node-pods-degrade-together`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::sources::{fmt_val, metric_label};
use crate::model::APP;

declare_rule! {
    /// ## What it rules out
    /// Supports a node as the root cause when pods on it degrade while their sibling replicas
    /// on other nodes stay healthy (or were hit far less: 2.5× less), above all across
    /// several services, or when the node's own CPU or network errors rose; less when its own
    /// CPU and network stayed normal while pods of other services on it stayed healthy, or when
    /// no pod shows a split and its CPU rose but stayed below 80 % (pods queue for a CPU only
    /// near saturation).
    /// Eliminates it when the node's own metrics are normal and every pod on it is healthy.
    ///
    /// ## Evidence used
    /// Per-pod symptoms, pod → node placement, and the node's `cpu_utilization` and
    /// `net_errors_per_s`.
    ///
    /// ## Why this is sound
    /// Replicas run the same code against the same dependencies; what differs is where they
    /// run. A split along node lines, repeated across unrelated services, isolates the node.
    /// The node's CPU counts only when it rose well beyond the other nodes' rise (by a third,
    /// or into saturation from a busy baseline): more traffic raises every node that hosts
    /// the busy services, a node-level fault raises one; and not when the one service split
    /// on it is burning the CPU itself (its pod's trouble, showing on the node). Network
    /// errors count only when most nodes did not see them too (then they are the network's).
    /// With one service split, the node's CPU counts only if it hurt its other pods too: a
    /// node that spared its neighbours explains that service no better than its bad pod. A
    /// failing interface is different: calls through it fail on the wire, so its pods' own
    /// latency and errors can stay clean while their callers see the failures.
    ///
    /// ## Inconclusive when
    /// No pod on the node has symptom data and the node has no metrics.
    ///
    /// ## Example
    /// `cart-7f-x` and `search-5c-y` on node-d are slow, their replicas on node-a and node-b
    /// are not, node-d net errors 0 → 40/s → supported.
    pub(crate) NodePodsDegradeTogether { id: "node-pods-degrade-together", kinds: [Node], reads: [] }
}

/// Whether a node's CPU rise (`rise`, in utilization) stands out from the other nodes': at
/// least 0.1 above, and more than twice, their median rise. True without peers to compare.
fn cpu_stands_out(ctx: &Context, node: &str, rise: f64) -> bool {
    let others: Vec<f64> = ctx
        .find(|k| {
            k.metric == "cpu_utilization"
                && k.pod.is_none()
                && k.entity != node
                && k.entity.starts_with("node:")
        })
        .iter()
        .filter(|v| v.score.testable())
        .map(|v| v.score.level - v.score.base)
        .collect();
    if others.is_empty() {
        return true;
    }
    let median = crate::stats::middle(&others).unwrap_or(0.0).max(0.0);
    rise >= median + 0.1 && rise > 2.0 * median
}

impl Rule for NodePodsDegradeTogether {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let node = h.culprit.as_str();
        let pods = ctx.topo.pods_on(node);
        let (split_services, split_pods) = split_along(ctx, &pods);
        let pods_burn = pods_burn(ctx, &split_services, &split_pods);
        let NodeSignals {
            up: node_up,
            normal: node_normal,
            headroom,
        } = node_signals(ctx, node, pods_burn);
        // A failing interface hurts the pods that talk through it; a quiet one stays healthy.
        let bystanders = if ctx.node_nic_failing(node) {
            0
        } else {
            bystanders(ctx, &pods, &split_services)
        };
        let quiet = node_up.is_empty() && !node_normal.is_empty();
        let spare = headroom && !ctx.node_nic_failing(node);
        support(node, &split_services, &node_up, bystanders, quiet, spare)
            .or_else(|| eliminate(ctx, node, &pods, &node_normal))
    }
}

/// Whether the one service split along the node has a pod here burning more CPU: that raises
/// the node's CPU by itself, so it is the pods' trouble showing on the node, not the node's.
fn pods_burn(ctx: &Context, split_services: &[String], split_pods: &[(&str, &str)]) -> bool {
    split_services.len() == 1
        && split_pods.iter().any(|(svc, p)| {
            ctx.pod_metric(svc, p, APP, "cpu_cores")
                .is_some_and(|v| v.score.up(0.3))
        })
}

/// Support from pods that split along the node and from its own rising metrics, weaker where a
/// single bad pod would explain the same.
fn support(
    node: &str,
    split_services: &[String],
    node_up: &[String],
    bystanders: usize,
    quiet: bool,
    spare: bool,
) -> Option<Outcome> {
    let id = NodePodsDegradeTogether::INFO.id;
    let split = if split_services.is_empty() {
        String::new()
    } else {
        format!(
            "pods of {} on {node} degraded while their replicas on other nodes stayed healthy",
            split_services.join(", ")
        )
    };
    let own = if node_up.is_empty() {
        String::new()
    } else {
        format!("{node} itself: {}", node_up.join(", "))
    };
    match (split_services.len(), node_up.is_empty()) {
        (1, false) if bystanders > 0 => Some(Outcome::supported(
            id,
            0.3,
            format!("{split}; {own}, but {bystanders} pods of other services on it stayed healthy"),
        )),
        (n, false) if n >= 1 => Some(Outcome::supported(id, 0.9, format!("{split}; {own}"))),
        // Whatever hurt several services' pods here spared others, and left no trace on the
        // node's own CPU or network: the node is not the only reading.
        (n, true) if n >= 2 && quiet && bystanders > 0 => Some(Outcome::supported(
            id,
            0.55,
            format!(
                "{split}; but {node}'s own CPU and network stayed normal and {bystanders} pods of other services on it stayed healthy"
            ),
        )),
        (n, true) if n >= 2 => Some(Outcome::supported(id, 0.85, split)),
        // One service split along a node is what a single bad pod looks like too: not enough.
        (1, true) => Some(Outcome::supported(
            id,
            0.3,
            format!("{split}; one service only, which a single bad pod explains as well"),
        )),
        // Without a pod to show the split, only a CPU its pods must queue for slows them.
        (0, false) if spare => Some(Outcome::supported(
            id,
            0.3,
            format!(
                "{own}, but no pod on it stands out from its replicas and its CPU kept headroom (below {:.0}%)",
                SATURATED * 100.0
            ),
        )),
        (0, false) => Some(Outcome::supported(
            id,
            0.5,
            format!("{own}, but no pod on it stands out from its replicas"),
        )),
        _ => None,
    }
}

/// Elimination when the node's own metrics stayed normal, firmer when its pods are healthy.
fn eliminate(ctx: &Context, node: &str, pods: &[&str], node_normal: &[String]) -> Option<Outcome> {
    if node_normal.is_empty() {
        return None;
    }
    let id = NodePodsDegradeTogether::INFO.id;
    let all_healthy = !pods.is_empty() && pods.iter().all(|p| !ctx.scope.pod(p).affected);
    if all_healthy {
        return Some(Outcome::eliminated(
            id,
            0.6,
            format!(
                "{node}'s own metrics are normal ({}) and its pods are healthy",
                node_normal.join(", ")
            ),
        ));
    }
    Some(Outcome::eliminated(
        id,
        0.4,
        format!(
            "{node}'s own metrics are normal: {}",
            node_normal.join(", ")
        ),
    ))
}

/// The degraded services whose pods on `node` stand out from their replicas elsewhere (the
/// replicas stayed healthy, or were hit far less hard), and those pods.
fn split_along<'a>(ctx: &'a Context, pods: &[&'a str]) -> (Vec<String>, Vec<(&'a str, &'a str)>) {
    // Only degraded services count: a blip in one pod of a healthy service is not the
    // incident, whatever node it is on.
    let mut split_services = Vec::new();
    let mut split_pods: Vec<(&str, &str)> = Vec::new();
    for pod in pods.iter().filter(|p| ctx.scope.pod(p).affected) {
        let Some(svc) = ctx
            .topo
            .pod_entity
            .get(*pod)
            .filter(|s| super::hypotheses::in_scope(ctx, s) || ctx.scope.of(s).affected)
        else {
            continue;
        };
        if ctx.stands_out_from_replicas(svc, pod) {
            if !split_services.contains(svc) {
                split_services.push(svc.clone());
            }
            split_pods.push((svc.as_str(), *pod));
        }
    }
    (split_services, split_pods)
}

/// A node's CPU level from which its pods queue for it.
const SATURATED: f64 = 0.8;

/// What a node's own metrics say.
#[derive(Debug, Default)]
struct NodeSignals {
    /// Its series that rose, in words.
    up: Vec<String>,
    /// Its series that stayed normal, in words.
    normal: Vec<String>,
    /// Its CPU rose but stayed below saturation.
    headroom: bool,
}

/// The node's own CPU and network-error series, as those that rose and those that stayed
/// normal, and whether a CPU that rose stayed below [`SATURATED`]. CPU raised by one service's
/// own burning pods is theirs, not the node's.
fn node_signals(ctx: &Context, node: &str, pods_burn: bool) -> NodeSignals {
    let mut sig = NodeSignals::default();
    for m in ["cpu_utilization", "net_errors_per_s"] {
        if let Some(v) = ctx.metric(node, m) {
            let s = v.score;
            let text = format!(
                "{} {} → {}",
                metric_label(m),
                fmt_val(m, s.base),
                fmt_val(m, s.level)
            );
            let rose = if m == "cpu_utilization" {
                // Up by a third, or into saturation from an already busy baseline.
                (s.up(0.3) || (s.up(0.1) && s.level >= 0.9))
                    && cpu_stands_out(ctx, node, s.level - s.base)
                    && !pods_burn
            } else {
                // Network errors on most nodes at once are the network's, not this node's.
                ctx.node_nic_failing(node)
            };
            if rose {
                sig.headroom |= m == "cpu_utilization" && s.level < SATURATED;
                sig.up.push(text);
            } else if s.testable() {
                sig.normal.push(text);
            }
        }
    }
    sig
}

/// Pods of other services on the node that stayed healthy through it: a node in trouble
/// hurts what runs on it, so with one service split, the node's own distress did not reach
/// its neighbours and explains that service no better than its pod does.
fn bystanders(ctx: &Context, pods: &[&str], split_services: &[String]) -> usize {
    pods.iter()
        .filter(|p| {
            ctx.scope.pod(p).healthy()
                && ctx
                    .topo
                    .pod_entity
                    .get(**p)
                    .is_some_and(|s| !split_services.contains(s))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k, kp};
    use crate::model::Kind;
    use crate::rules::Status;

    /// Services a and b, each with pod -1 on node d and pod -2 on node e, their p99 going
    /// 100 ms → `on_d` on d and 100 ms → `on_e` on e.
    fn split(on_d: f64, on_e: f64) -> Fixture {
        let mut f = Fixture::new("a").slow_service("a");
        for svc in ["a", "b"] {
            let (here, there) = (format!("{svc}-1"), format!("{svc}-2"));
            f = f
                .step(kp(svc, &here, "app", "latency_p99_ms"), 100.0, on_d)
                .place(&here, "d")
                .step(kp(svc, &there, "app", "latency_p99_ms"), 100.0, on_e)
                .place(&there, "e");
        }
        f
    }

    fn two_services_split() -> Fixture {
        split(500.0, 100.0)
    }

    #[test]
    fn supported_when_two_services_split_on_the_node() {
        let o = NodePodsDegradeTogether
            .evaluate(
                &two_services_split().build(),
                &Hypothesis::new(Kind::Node, "node:d"),
            )
            .unwrap();
        insta::assert_snapshot!(o, @"supported (0.85): pods of a, b on node:d degraded while their replicas on other nodes stayed healthy");
    }

    #[test]
    fn eliminated_when_node_is_normal_and_pods_healthy() {
        let f = two_services_split().flat(k("node:e", "cpu_utilization"), 0.4);
        let o = NodePodsDegradeTogether
            .evaluate(&f.build(), &Hypothesis::new(Kind::Node, "node:e"))
            .unwrap();
        assert_eq!(o.status, Status::Eliminated, "{o}");
    }

    #[test]
    fn silent_without_pods_or_node_metrics() {
        let ctx = Fixture::new("a").slow_service("a").build();
        assert_eq!(
            NodePodsDegradeTogether.evaluate(&ctx, &Hypothesis::new(Kind::Node, "node:z")),
            None
        );
    }

    /// The rule's outcome for node:d.
    fn outcome_d(f: Fixture) -> Outcome {
        NodePodsDegradeTogether
            .evaluate(&f.build(), &Hypothesis::new(Kind::Node, "node:d"))
            .unwrap()
    }

    /// The weight of the rule's outcome for node:d.
    fn weight_d(f: Fixture) -> f64 {
        outcome_d(f).weight
    }

    fn one_service_split() -> Fixture {
        Fixture::new("a")
            .slow_service("a")
            .step(kp("a", "a-1", "app", "latency_p99_ms"), 100.0, 500.0)
            .place("a-1", "d")
            .flat(kp("a", "a-2", "app", "latency_p99_ms"), 100.0)
            .place("a-2", "e")
    }

    #[test]
    fn a_busier_node_without_pod_data_counts_only_near_saturation() {
        let node = |to: f64| {
            Fixture::new("a")
                .slow_service("a")
                .step(k("node:d", "cpu_utilization"), 0.2, to)
        };
        let spare = outcome_d(node(0.45));
        assert!(
            spare.weight < 0.5 && spare.evidence.contains("headroom"),
            "{spare}"
        );
        assert_eq!(weight_d(node(0.98)), 0.5);
    }

    #[test]
    fn a_trickle_of_node_network_errors_does_not_make_a_node_fault() {
        // 0.2 → 0.6 errors/s is +200 % and drops nobody's requests: one service split along
        // the node stays the weak support a single bad pod would also explain.
        let f = one_service_split().step(k("node:d", "net_errors_per_s"), 0.2, 0.6);
        let o = outcome_d(f);
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(o.weight < 0.5, "{o}");
        let f = one_service_split().step(k("node:d", "net_errors_per_s"), 0.2, 40.0);
        let o = outcome_d(f);
        assert!(o.weight >= 0.9, "{o}");
    }

    #[test]
    fn pods_hit_much_harder_than_their_degraded_replicas_stand_out() {
        // Both services' replicas on e slowed too (callers waited on the pods on d), but the
        // pods on d took ten times the hit.
        let f = split(2000.0, 200.0);
        let o = outcome_d(f);
        assert_eq!(o.status, Status::Supported, "{o}");
        assert!(o.weight >= 0.85, "{o}");
    }

    #[test]
    fn a_busy_node_pushed_into_saturation_counts_unless_its_one_bad_pod_did_it() {
        let saturated = || {
            one_service_split()
                .step(k("node:d", "cpu_utilization"), 0.78, 0.97)
                .flat(k("node:e", "cpu_utilization"), 0.30)
        };
        // 78 % → 97 %: less than a third more, but out of headroom.
        assert!(weight_d(saturated()) >= 0.9);
        // The one degraded pod on it burned the CPU itself: the pod's trouble, on the node.
        let burner = saturated().step(kp("a", "a-1", "app", "cpu_cores"), 0.5, 2.0);
        assert!(weight_d(burner) < 0.5);
    }

    #[test]
    fn a_node_short_of_cpu_hurts_its_other_pods() {
        let busy = || {
            one_service_split()
                .step(k("node:d", "cpu_utilization"), 0.30, 0.75)
                .step(k("node:e", "cpu_utilization"), 0.30, 0.31)
                .step(k("node:f", "cpu_utilization"), 0.28, 0.29)
        };
        // b's pod on d served normally while the node ran hot: the node did not do to a-1
        // what it spared b-1.
        let spared = busy()
            .flat(kp("b", "b-1", "app", "latency_p99_ms"), 100.0)
            .place("b-1", "d");
        assert!(weight_d(busy()) >= 0.9);
        assert!(weight_d(spared) < 0.5);
    }

    #[test]
    fn a_failing_interface_may_leave_its_pods_looking_healthy() {
        // Calls through d's interface fail on the wire: b-1's own latency stays clean while
        // its callers see the errors, so it is no witness for the node.
        let spared = one_service_split()
            .step(k("node:d", "net_errors_per_s"), 0.2, 40.0)
            .flat(k("node:e", "net_errors_per_s"), 0.2)
            .flat(kp("b", "b-1", "app", "latency_p99_ms"), 100.0)
            .place("b-1", "d");
        assert!(weight_d(spared) >= 0.9);
    }

    #[test]
    fn network_errors_on_most_nodes_are_not_one_nodes() {
        let alone = one_service_split()
            .step(k("node:d", "net_errors_per_s"), 0.2, 40.0)
            .flat(k("node:e", "net_errors_per_s"), 0.2)
            .flat(k("node:f", "net_errors_per_s"), 0.2);
        assert!(weight_d(alone) >= 0.9);
        let everywhere = one_service_split()
            .step(k("node:d", "net_errors_per_s"), 0.2, 40.0)
            .step(k("node:e", "net_errors_per_s"), 0.2, 35.0)
            .flat(k("node:f", "net_errors_per_s"), 0.2);
        assert!(weight_d(everywhere) < 0.5);
    }

    #[test]
    fn node_cpu_counts_only_when_it_rose_beyond_the_other_nodes() {
        // More traffic: every node went 30 % → 41 %.
        let busy_everywhere = one_service_split()
            .step(k("node:d", "cpu_utilization"), 0.30, 0.41)
            .step(k("node:e", "cpu_utilization"), 0.30, 0.40)
            .step(k("node:f", "cpu_utilization"), 0.28, 0.39);
        assert!(weight_d(busy_everywhere) < 0.5);
        // node:d alone went to 75 %.
        let alone = one_service_split()
            .step(k("node:d", "cpu_utilization"), 0.30, 0.75)
            .step(k("node:e", "cpu_utilization"), 0.30, 0.31)
            .step(k("node:f", "cpu_utilization"), 0.28, 0.29);
        assert!(weight_d(alone) >= 0.9);
    }
}

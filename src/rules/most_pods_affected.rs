//! Rule `most-pods-affected`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;

declare_rule! {
    /// ## What it rules out
    /// A single pod as the root cause, when two or more replicas of its service, at least half
    /// of them, are degraded, unless it was hit four times harder than any of them while none
    /// doubled its latency or errors, or it is down (errors at half its traffic or more, or
    /// three restarts) while they fail at most a quarter as much. Supports it when it is the
    /// only degraded replica or stands out that way; weakly when pods of other services on its
    /// node stand out from their own replicas too, or its node's own network errors rose.
    ///
    /// ## Evidence used
    /// Per-pod symptoms of the pod and its sibling replicas; pods of other services on the same
    /// node (a node fault would show there too).
    ///
    /// ## Why this is sound
    /// A bad pod (stuck thread pool, leaked connections, a corrupted local cache) degrades that
    /// pod only; the load balancer keeps its siblings healthy, or merely slower when they take
    /// over the load a crash-looping or failing pod sheds. Most replicas degrading together
    /// point at something they share.
    ///
    /// ## Inconclusive when
    /// The pod has no sibling replica with data, or its only symptom is a restart or two while
    /// its own latency and errors did not move (a restart its replicas absorbed).
    ///
    /// ## Example
    /// 3 of 3 `live-api` pods degraded → each single pod eliminated.
    pub(crate) MostPodsAffected { id: "most-pods-affected", kinds: [Pod], reads: [] }
}

impl Rule for MostPodsAffected {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let pod = h.culprit.as_str();
        let svc = ctx.topo.pod_entity.get(pod)?;
        let tested: Vec<&str> = ctx
            .topo
            .pods_of(svc)
            .into_iter()
            .filter(|p| ctx.scope.pod(p).testable)
            .collect();
        // Each sibling's health, looked up once: the tests below all read it.
        let others: Vec<_> = tested
            .iter()
            .filter(|p| **p != pod)
            .map(|p| ctx.scope.pod(p))
            .collect();
        let siblings = others.len();
        if siblings == 0 {
            return Some(Outcome::inconclusive(
                id,
                format!("not testable: no other {svc} pod has data"),
            ));
        }
        let me = ctx.scope.pod(pod);
        let sick = others.iter().filter(|h| h.affected).count()
            + usize::from(me.affected && tested.contains(&pod));
        if me.merely_restarted() {
            return Some(Outcome::inconclusive(
                id,
                format!(
                    "{pod} restarted {:.0} time(s), but its own latency and errors did not move: nothing connects the restart to the symptom",
                    me.restarts
                ),
            ));
        }
        // A pod hit far harder than any sibling stands out even when most siblings show a
        // mild secondary symptom: the survivors of a crash-looping or slow pod carry its load.
        // Siblings that doubled their latency or errors share the trouble, however hard this
        // pod was hit, unless this pod is down (failing its requests, crash-looping) while
        // they are only slower: the slowness of survivors is the load a lost replica sheds.
        let next_worst = others.iter().map(|h| h.severity).fold(0.0, f64::max);
        let stands_out = me.affected
            && (me.alone_down(&others)
                || (me.severity >= STANDS_OUT * next_worst.max(0.05) && next_worst < 1.0));
        if sick >= 2 && 2 * sick >= tested.len() && !stands_out {
            return Some(Outcome::eliminated(
                id,
                0.85,
                format!(
                    "{sick} of {} {svc} pods are degraded, so no single pod explains it",
                    tested.len()
                ),
            ));
        }
        if me.affected && (sick == 1 || stands_out) {
            let node = ctx.topo.node_of(pod);
            let neighbours_sick = node.map_or(0, |n| sick_neighbours(ctx, pod, svc, n));
            let what = me.symptoms.first().cloned().unwrap_or_default();
            if let Some(n) = node.filter(|n| ctx.node_nic_failing(n)) {
                return Some(Outcome::supported(
                    id,
                    0.4,
                    format!(
                        "{pod} stands out among the {svc} pods ({what}), but the network errors of its node {n} rose too, which explains it as well"
                    ),
                ));
            }
            if neighbours_sick > 0 {
                return Some(Outcome::supported(
                    id,
                    0.4,
                    format!(
                        "{pod} is the only degraded {svc} pod ({what}), but {neighbours_sick} other pods on {} are degraded too",
                        node.unwrap_or("its node")
                    ),
                ));
            }
            if sick > 1 {
                return Some(Outcome::supported(
                    id,
                    0.75,
                    format!(
                        "{pod} stands out among the {} {svc} pods ({what}); the worst sibling moved {:+.0}%",
                        tested.len(),
                        next_worst * 100.0
                    ),
                ));
            }
            return Some(Outcome::supported(
                id,
                lone_weight(siblings, me.severity),
                format!(
                    "{pod} is the only degraded {svc} pod ({what}); its {siblings} siblings are healthy"
                ),
            ));
        }
        Some(Outcome::inconclusive(
            id,
            format!("{sick} of {} {svc} pods degraded", tested.len()),
        ))
    }
}

/// How many times harder than its worst sibling a pod must have been hit to stand out when
/// most of its siblings show symptoms too.
const STANDS_OUT: f64 = 4.0;

/// Pods on `node`, of other services, that are degraded while their replicas elsewhere are
/// not (or far less). Neighbours count only when they too stand out from their own replicas:
/// callers whose every pod slowed down are downstream of this pod, not co-victims of a node.
/// And, as for the node
/// rule, only pods of services in the incident's scope: a blip in one pod of a healthy service
/// is not part of it.
fn sick_neighbours(ctx: &Context, pod: &str, svc: &str, node: &str) -> usize {
    ctx.topo
        .pods_on(node)
        .into_iter()
        .filter(|p| {
            *p != pod
                && ctx.topo.pod_entity.get(*p).map(String::as_str) != Some(svc)
                && ctx.scope.pod(p).affected
        })
        .filter(|p| {
            ctx.topo.pod_entity.get(*p).is_some_and(|s| {
                (super::hypotheses::in_scope(ctx, s) || ctx.scope.of(s).affected)
                    && ctx.stands_out_from_replicas(s, p)
            })
        })
        .count()
}

/// Support for the only degraded pod of its service. Confidence grows with the number of
/// healthy replicas to compare with and with how hard the pod was hit (a +25 % blip on one of
/// two pods is thin evidence).
fn lone_weight(siblings: usize, severity: f64) -> f64 {
    if siblings >= 2 && severity >= 1.0 {
        0.8
    } else if siblings >= 2 || severity >= 1.0 {
        0.6
    } else {
        0.4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kp};
    use crate::model::Kind;
    use crate::rules::Status;

    fn fx(slow: &[&str], fine: &[&str]) -> Fixture {
        let mut f = Fixture::new("api").slow_service("api");
        for (i, p) in slow.iter().enumerate() {
            f = f
                .step(kp("api", p, "app", "latency_p99_ms"), 100.0, 500.0)
                .place(p, &format!("n{i}"));
        }
        for (i, p) in fine.iter().enumerate() {
            f = f
                .flat(kp("api", p, "app", "latency_p99_ms"), 100.0)
                .place(p, &format!("m{i}"));
        }
        f
    }

    fn eval(f: Fixture, pod: &str) -> Outcome {
        MostPodsAffected
            .evaluate(&f.build(), &Hypothesis::new(Kind::Pod, pod))
            .unwrap()
    }

    #[test]
    fn eliminated_when_all_pods_degrade() {
        insta::assert_snapshot!(eval(fx(&["p1", "p2", "p3"], &[]), "p1"), @"eliminated (0.85): 3 of 3 api pods are degraded, so no single pod explains it");
    }

    #[test]
    fn supported_when_one_pod_stands_out() {
        assert_eq!(
            eval(fx(&["p1"], &["p2", "p3"]), "p1").status,
            Status::Supported
        );
    }

    #[test]
    fn a_pod_failing_its_requests_stands_out_from_survivors_slowed_by_its_load() {
        // p1 fails nearly all its 50 requests/s; p2 and p3 tripled their latency taking over.
        let fx = || {
            let mut f = Fixture::new("api").slow_service("api");
            for (i, p) in ["p1", "p2", "p3"].into_iter().enumerate() {
                f = f
                    .flat(kp("api", p, "app", "requests_per_s"), 50.0)
                    .place(p, &format!("n{i}"));
            }
            f.step(kp("api", "p1", "app", "errors_per_s"), 0.2, 45.0)
                .step(kp("api", "p2", "app", "latency_p99_ms"), 100.0, 300.0)
                .step(kp("api", "p3", "app", "latency_p99_ms"), 100.0, 400.0)
        };
        let ctx = fx().build();
        assert!(ctx.scope.pod("p1").failing() && !ctx.scope.pod("p2").failing());
        assert!(ctx.stands_out_from_replicas("api", "p1"));
        assert_eq!(eval(fx(), "p1").status, Status::Supported);
        assert_eq!(eval(fx(), "p2").status, Status::Eliminated);
    }

    #[test]
    fn a_restart_alone_connects_to_no_symptom_but_a_crash_loop_does() {
        let restarted = |to: f64| {
            fx(&[], &["p1", "p2", "p3"]).step(kp("api", "p1", "app", "restarts"), 2.0, to)
        };
        let once = eval(restarted(3.0), "p1");
        assert_eq!(once.status, Status::Inconclusive, "{once}");
        assert!(once.evidence.contains("nothing connects"), "{once}");
        assert_eq!(eval(restarted(8.0), "p1").status, Status::Supported);
    }

    #[test]
    fn inconclusive_without_siblings() {
        assert_eq!(eval(fx(&["p1"], &[]), "p1").status, Status::Inconclusive);
    }

    #[test]
    fn a_blip_in_a_healthy_services_pod_on_the_same_node_does_not_weaken_it() {
        // p1 sits on n0 with o1, a pod of `other` that blipped while o2 stayed fine.
        let with_neighbour = |f: Fixture| {
            f.step(kp("other", "o1", "app", "latency_p99_ms"), 100.0, 500.0)
                .place("o1", "n0")
                .flat(kp("other", "o2", "app", "latency_p99_ms"), 100.0)
                .place("o2", "m9")
        };
        let healthy_other = with_neighbour(fx(&["p1"], &["p2", "p3"])).healthy_service("other");
        assert_eq!(eval(healthy_other, "p1").weight, 0.8);
        // `other` degraded as a service: its pod beside p1 is a co-victim, as of a node.
        let sick_other = with_neighbour(fx(&["p1"], &["p2", "p3"])).slow_service("other");
        assert_eq!(eval(sick_other, "p1").weight, 0.4);
    }
}

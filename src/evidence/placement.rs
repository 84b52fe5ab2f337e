//! What a pod's placement says: whether a degraded pod stands out from its replicas on other
//! nodes. The pod and node rules both ask; they must get the same answer.

use super::Context;

/// How many times harder than a replica elsewhere a degraded pod must have been hit for the
/// two to count as hit differently: below that, mild symptoms on both sides (more load on
/// the survivors of a bad pod, say) tell nothing apart.
pub const HARDER: f64 = 2.5;
/// A healthy replica whose latency rose half as much as a pod's or more moved with it.
const ALIKE: f64 = 2.0;

impl Context {
    /// Whether the degraded `pod` of `svc` stands out from the replicas of `svc` on other
    /// nodes: hit [`HARDER`] times harder than every one of them (and at least doubled its
    /// latency or errors), beside a healthy replica while none of the degraded ones was
    /// hit nearly as hard, or down (failing, crash-looping) where none of them is. A service
    /// whose pods degraded alike on several nodes stands out on none of them, whatever its
    /// healthy replicas say.
    #[must_use]
    pub fn stands_out_from_replicas(&self, svc: &str, pod: &str) -> bool {
        let me = self.scope.pod(pod);
        if !me.affected {
            return false;
        }
        let node = self.topo.node_of(pod);
        let elsewhere: Vec<_> = self
            .topo
            .pods_of(svc)
            .into_iter()
            .filter(|p| *p != pod && self.topo.node_of(p) != node)
            .map(|p| self.scope.pod(p))
            .filter(|h| h.testable)
            .collect();
        let worst = elsewhere
            .iter()
            .filter(|h| h.affected)
            .map(|h| h.severity)
            .fold(0.0, f64::max);
        let harder =
            !elsewhere.is_empty() && me.severity >= 1.0 && me.severity >= HARDER * worst.max(0.05);
        // Beside a replica that stayed healthy, unless it rose nearly as much without counting:
        // a symptom threshold splits two pods that moved alike.
        let beside_healthy = elsewhere
            .iter()
            .any(|h| !h.affected && h.latency_rise * ALIKE <= me.severity)
            && worst * HARDER <= me.severity.max(1e-9);
        // Down where the replicas are only slower: they carry the load it sheds.
        harder || beside_healthy || me.alone_down(&elsewhere)
    }
}

#[cfg(test)]
mod tests {
    use crate::evidence::testing::{Fixture, kp};

    /// Service api with pods p1 on n1, p2 on n2, p3 on n3, their p99 going 100 ms → the
    /// given values.
    fn api(p1: f64, p2: f64, p3: f64) -> Fixture {
        let mut f = Fixture::new("api").slow_service("api");
        for (i, to) in [p1, p2, p3].into_iter().enumerate() {
            let pod = format!("p{}", i + 1);
            f = f
                .step(kp("api", &pod, "app", "latency_p99_ms"), 100.0, to)
                .place(&pod, &format!("n{}", i + 1));
        }
        f
    }

    #[test]
    fn a_pod_beside_healthy_replicas_stands_out() {
        assert!(
            api(500.0, 100.0, 100.0)
                .build()
                .stands_out_from_replicas("api", "p1")
        );
    }

    #[test]
    fn a_pod_hit_far_harder_than_mildly_slower_replicas_stands_out() {
        // The survivors of a bad pod carry its load: +40 % beside +400 %.
        let ctx = api(500.0, 140.0, 140.0).build();
        assert!(ctx.stands_out_from_replicas("api", "p1"));
        assert!(!ctx.stands_out_from_replicas("api", "p2"));
    }

    #[test]
    fn a_replica_that_rose_nearly_as_much_without_counting_is_not_healthy_beside_it() {
        // +40 % counts as a symptom, +23 % does not: the two moved alike all the same.
        let ctx = Fixture::new("api")
            .slow_service("api")
            .step(kp("api", "p1", "app", "latency_p99_ms"), 100.0, 140.0)
            .step(kp("api", "p2", "app", "latency_p99_ms"), 100.0, 123.0)
            .place("p1", "n1")
            .place("p2", "n2")
            .build();
        assert!(!ctx.stands_out_from_replicas("api", "p1"));
        assert!(
            api(140.0, 100.0, 100.0)
                .build()
                .stands_out_from_replicas("api", "p1")
        );
    }

    #[test]
    fn pods_degraded_alike_on_several_nodes_stand_out_on_none() {
        let ctx = api(500.0, 450.0, 100.0).build();
        assert!(!ctx.stands_out_from_replicas("api", "p1"));
        assert!(!ctx.stands_out_from_replicas("api", "p2"));
    }
}

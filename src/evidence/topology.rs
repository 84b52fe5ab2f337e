//! Topology: who calls what, who sits behind which gateway, which pods run where. Built from
//! incident.toml's `[[entity]]` tables and completed from the data (a `dep_*` series with a
//! `target` is a call; a `sidecar` container is a mesh proxy), because exports rarely declare
//! everything.

use std::collections::{BTreeMap, BTreeSet};

use crate::align::Series;
use crate::model::{EntityKind, IncidentSpec, SIDECAR};

/// The cluster's shape as far as the archive shows it.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Every entity id seen in the spec or the data.
    pub entities: BTreeSet<String>,
    /// Caller → the entities it calls.
    pub deps: BTreeMap<String, BTreeSet<String>>,
    /// Callee → the entities that call it.
    pub users: BTreeMap<String, BTreeSet<String>>,
    /// Service → the gateways its traffic comes through.
    pub entries: BTreeMap<String, BTreeSet<String>>,
    /// Gateway → the services behind it.
    pub behind: BTreeMap<String, BTreeSet<String>>,
    /// Entity → its pods.
    pub pods: BTreeMap<String, BTreeSet<String>>,
    /// Pod → the service or gateway it belongs to.
    pub pod_entity: BTreeMap<String, String>,
    /// Pod → node id (`node:<name>`).
    pub pod_node: BTreeMap<String, String>,
    /// Services whose pods run a mesh proxy.
    pub sidecars: BTreeSet<String>,
}

impl Topology {
    /// Builds the topology from the spec and the series keys.
    #[must_use]
    pub fn build(
        spec: &IncidentSpec,
        series: &[Series],
        pod_nodes: &BTreeMap<String, String>,
    ) -> Topology {
        let mut t = Topology::default();
        t.entities.insert(spec.alert.entity.clone());
        for e in &spec.entities {
            t.entities.insert(e.id.clone());
            for d in &e.depends_on {
                t.add_call(&e.id, d);
            }
            for g in &e.entry {
                t.entities.insert(g.clone());
                t.entries.entry(e.id.clone()).or_default().insert(g.clone());
                t.behind.entry(g.clone()).or_default().insert(e.id.clone());
            }
            if e.sidecar == Some(true) {
                t.sidecars.insert(e.id.clone());
            }
        }
        for s in series {
            let k = &s.key;
            t.entities.insert(k.entity.clone());
            if let Some(target) = &k.target {
                t.add_call(&k.entity, target);
            }
            if let Some(pod) = &k.pod {
                t.pods
                    .entry(k.entity.clone())
                    .or_default()
                    .insert(pod.clone());
                t.pod_entity
                    .entry(pod.clone())
                    .or_insert_with(|| k.entity.clone());
                if let Some(node) = pod_nodes.get(pod) {
                    let id = format!("node:{node}");
                    t.pod_node.insert(pod.clone(), id.clone());
                    t.entities.insert(id);
                }
            }
            if k.container == SIDECAR
                && spec.entity(&k.entity).and_then(|e| e.sidecar) != Some(false)
            {
                t.sidecars.insert(k.entity.clone());
            }
        }
        t.infer_gateway_backends();
        t
    }

    /// Which services sit behind a gateway nobody declared as an `entry`: those it calls, when
    /// its own client series name them; else, when it is the archive's only gateway, the
    /// services no one calls (their traffic comes from outside, and there is one way in).
    /// Without this a gateway alert would reach nothing and a gateway fault could not be told
    /// from its backends'.
    fn infer_gateway_backends(&mut self) {
        let gateways: Vec<String> = self
            .of_kind(EntityKind::Ingress)
            .into_iter()
            .map(str::to_string)
            .collect();
        let is_service = |e: &str| EntityKind::of(e) == EntityKind::Service;
        for g in &gateways {
            if self.behind.contains_key(g) {
                continue;
            }
            let mut backends: BTreeSet<String> = self
                .deps_of(g)
                .into_iter()
                .filter(|d| is_service(d))
                .map(str::to_string)
                .collect();
            if backends.is_empty() && gateways.len() == 1 && !self.deps.is_empty() {
                backends = self
                    .entities
                    .iter()
                    .filter(|e| is_service(e) && !self.users.contains_key(*e))
                    .filter(|e| self.deps.contains_key(*e) || self.pods.contains_key(*e))
                    .cloned()
                    .collect();
            }
            for b in &backends {
                self.entries.entry(b.clone()).or_default().insert(g.clone());
            }
            if !backends.is_empty() {
                self.behind.insert(g.clone(), backends);
            }
        }
    }

    fn add_call(&mut self, from: &str, to: &str) {
        self.entities.insert(from.to_string());
        self.entities.insert(to.to_string());
        self.deps
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string());
        self.users
            .entry(to.to_string())
            .or_default()
            .insert(from.to_string());
    }

    /// Entities of one kind, sorted.
    #[must_use]
    pub fn of_kind(&self, kind: EntityKind) -> Vec<&str> {
        self.entities
            .iter()
            .filter(|e| EntityKind::of(e) == kind)
            .map(String::as_str)
            .collect()
    }

    /// The callers of `dep`.
    #[must_use]
    pub fn users_of(&self, dep: &str) -> Vec<&str> {
        self.users
            .get(dep)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The dependencies of `caller`.
    #[must_use]
    pub fn deps_of(&self, caller: &str) -> Vec<&str> {
        self.deps
            .get(caller)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The pods of `entity`.
    #[must_use]
    pub fn pods_of(&self, entity: &str) -> Vec<&str> {
        self.pods
            .get(entity)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The node (`node:<name>`) a pod runs on.
    #[must_use]
    pub fn node_of(&self, pod: &str) -> Option<&str> {
        self.pod_node.get(pod).map(String::as_str)
    }

    /// Whether `from` calls `to`, directly or through the services it calls (gateways in front
    /// of them do not count: they are not on its calls' path).
    #[must_use]
    pub fn calls_through(&self, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(e) = stack.pop() {
            if e == to {
                return true;
            }
            if seen.insert(e) {
                stack.extend(self.deps_of(e));
            }
        }
        false
    }

    /// `from` and everything it calls, directly or through other services, plus the gateways
    /// in front of any of them: what a fault must sit in to reach `from`.
    #[must_use]
    pub fn reach(&self, from: &str) -> BTreeSet<String> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(e) = stack.pop() {
            if !seen.insert(e.clone()) {
                continue;
            }
            for d in self.deps_of(&e) {
                stack.push(d.to_string());
            }
            if let Some(g) = self.entries.get(&e) {
                stack.extend(g.iter().cloned());
            }
        }
        // A gateway alert reaches the services behind it.
        if let Some(b) = self.behind.get(from) {
            for s in b {
                if !seen.contains(s) {
                    seen.extend(self.reach(s));
                }
            }
        }
        seen
    }

    /// Pods on a node, across services.
    #[must_use]
    pub fn pods_on(&self, node: &str) -> Vec<&str> {
        self.pod_node
            .iter()
            .filter(|(_, n)| n.as_str() == node)
            .map(|(p, _)| p.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::evidence::testing::{Fixture, k, kd};

    fn services() -> Fixture {
        Fixture::new("ingress:gw")
            .depends("web", &["api"])
            .depends("batch", &["api"])
            .healthy_service("web")
            .healthy_service("batch")
            .healthy_service("api")
            .flat(k("ingress:gw", "latency_p99_ms"), 50.0)
    }

    fn behind(ctx: &crate::evidence::Context) -> Vec<&str> {
        ctx.topo.behind["ingress:gw"]
            .iter()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn an_undeclared_gateway_fronts_the_services_no_one_calls() {
        let ctx = services().build();
        assert_eq!(behind(&ctx), ["batch", "web"]);
        assert!(ctx.topo.reach("ingress:gw").contains("api"));
    }

    #[test]
    fn a_gateway_that_names_its_calls_fronts_those() {
        let ctx = services()
            .flat(kd("ingress:gw", "web", "dep_latency_ms"), 5.0)
            .build();
        assert_eq!(behind(&ctx), ["web"]);
    }

    #[test]
    fn declared_entries_or_two_gateways_are_left_alone() {
        let ctx = services().entry("web", "ingress:gw").build();
        assert_eq!(ctx.topo.behind["ingress:gw"].len(), 1);
        let ctx = services()
            .flat(k("ingress:other", "latency_p99_ms"), 50.0)
            .build();
        assert!(ctx.topo.behind.is_empty(), "{:?}", ctx.topo.behind);
    }
}

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
    /// Pod → entity.
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
        t
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

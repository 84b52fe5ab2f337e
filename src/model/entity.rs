//! Entity ids as the archive spec names them, and the root-cause kinds a verdict may name.
//!
//! Owns parsing of the id prefixes (`mysql:`, `redis:`, `ingress:`, `http:`, `node:`); knows
//! nothing about series or data.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an entity id denotes, read from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityKind {
    /// A Kubernetes workload (no prefix).
    Service,
    /// `mysql:<name>`, server side.
    Mysql,
    /// `redis:<name>`, server side.
    Redis,
    /// `ingress:<name>`, a north-south gateway.
    Ingress,
    /// `http:<name>`, a third party reached over the network.
    ThirdParty,
    /// `node:<name>`, a Kubernetes node.
    Node,
}

impl EntityKind {
    /// Classifies an entity id by its prefix; anything without a known prefix is a service.
    #[must_use]
    pub fn of(id: &str) -> Self {
        match id.split_once(':').map(|(p, _)| p) {
            Some("mysql") => Self::Mysql,
            Some("redis") => Self::Redis,
            Some("ingress") => Self::Ingress,
            Some("http" | "https") => Self::ThirdParty,
            Some("node") => Self::Node,
            _ => Self::Service,
        }
    }

    /// True for the storage instances (`mysql:` and `redis:`).
    #[must_use]
    pub fn is_storage(self) -> bool {
        matches!(self, Self::Mysql | Self::Redis)
    }

    /// A human label used in reports ("Redis", "MySQL", ...).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Mysql => "MySQL",
            Self::Redis => "Redis",
            Self::Ingress => "ingress",
            Self::ThirdParty => "third party",
            Self::Node => "node",
        }
    }
}

/// The root-cause kinds of the archive spec. Order is the checklist order used in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Incoming traffic surged.
    TrafficSpike,
    /// App containers ran out of CPU.
    CpuSaturation,
    /// App containers ran out of memory.
    MemoryPressure,
    /// A deploy or code change introduced the fault.
    CodeChange,
    /// A MySQL instance.
    Mysql,
    /// A Redis instance.
    Redis,
    /// A storage instance switched over.
    StorageFailover,
    /// A north-south gateway.
    Ingress,
    /// The mesh proxies of a service.
    Sidecar,
    /// One pod of a service (a pod-level fault, its siblings healthy).
    Pod,
    /// A node (`node:<name>`): everything scheduled on it.
    Node,
    /// The cluster network.
    Network,
    /// A third-party dependency.
    ThirdParty,
}

impl Kind {
    /// Every kind, in checklist order.
    pub const ALL: [Kind; 13] = [
        Kind::TrafficSpike,
        Kind::CpuSaturation,
        Kind::MemoryPressure,
        Kind::CodeChange,
        Kind::Mysql,
        Kind::Redis,
        Kind::StorageFailover,
        Kind::Ingress,
        Kind::Sidecar,
        Kind::Pod,
        Kind::Node,
        Kind::Network,
        Kind::ThirdParty,
    ];

    /// The kebab-case name used in verdict.json and incident.toml.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TrafficSpike => "traffic-spike",
            Kind::CpuSaturation => "cpu-saturation",
            Kind::MemoryPressure => "memory-pressure",
            Kind::CodeChange => "code-change",
            Kind::Mysql => "mysql",
            Kind::Redis => "redis",
            Kind::StorageFailover => "storage-failover",
            Kind::Ingress => "ingress",
            Kind::Sidecar => "sidecar",
            Kind::Pod => "pod",
            Kind::Node => "node",
            Kind::Network => "network",
            Kind::ThirdParty => "third-party",
        }
    }

    /// Parses the kebab-case name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the layer is, for prose ("the mesh sidecar").
    #[must_use]
    pub fn layer(self) -> &'static str {
        match self {
            Kind::TrafficSpike => "a traffic spike",
            Kind::CpuSaturation => "app CPU saturation",
            Kind::MemoryPressure => "app memory pressure",
            Kind::CodeChange => "a code change",
            Kind::Mysql => "MySQL",
            Kind::Redis => "Redis",
            Kind::StorageFailover => "a storage failover",
            Kind::Ingress => "the ingress gateway",
            Kind::Sidecar => "the mesh sidecar",
            Kind::Pod => "a single pod",
            Kind::Node => "a single node",
            Kind::Network => "the cluster network",
            Kind::ThirdParty => "a third-party dependency",
        }
    }
}

impl Kind {
    /// The layer and its culprit as a phrase: "the mesh sidecar of live-api", "node worker-3".
    #[must_use]
    pub fn describe(self, culprit: &str) -> String {
        let bare = culprit.split_once(':').map_or(culprit, |(_, n)| n);
        match self {
            Kind::TrafficSpike => format!("a traffic spike at {culprit}"),
            Kind::CpuSaturation => format!("app CPU saturation of {culprit}"),
            Kind::MemoryPressure => format!("app memory pressure of {culprit}"),
            Kind::CodeChange => format!("a code change in {culprit}"),
            Kind::Mysql => format!("the MySQL instance {bare}"),
            Kind::Redis => format!("the Redis instance {bare}"),
            Kind::StorageFailover => format!("a failover of {culprit}"),
            Kind::Ingress => format!("the ingress gateway {bare}"),
            Kind::Sidecar => format!("the mesh sidecar of {culprit}"),
            Kind::Pod => format!("pod {culprit}"),
            Kind::Node => format!("node {bare}"),
            Kind::Network => "the cluster network".into(),
            Kind::ThirdParty => format!("the third-party dependency {bare}"),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The service a pod belongs to, by the Kubernetes naming convention
/// (`<deployment>-<replicaset-hash>-<pod-hash>`), used when the data gives no entity.
#[must_use]
pub fn service_of_pod(pod: &str) -> &str {
    let mut parts = pod.rsplitn(3, '-');
    let (Some(_), Some(_), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return pod;
    };
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_classify_entities() {
        assert_eq!(EntityKind::of("live-api"), EntityKind::Service);
        assert_eq!(EntityKind::of("redis:live-cache"), EntityKind::Redis);
        assert_eq!(EntityKind::of("mysql:live-db"), EntityKind::Mysql);
        assert_eq!(EntityKind::of("http:gift-vendor"), EntityKind::ThirdParty);
        assert_eq!(EntityKind::of("ingress:public-gw"), EntityKind::Ingress);
        assert_eq!(EntityKind::of("node:n1"), EntityKind::Node);
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("disk"), None);
    }

    #[test]
    fn pod_names_map_to_their_deployment() {
        assert_eq!(
            service_of_pod("ts-order-service-5f55b6cf68-77cfw"),
            "ts-order-service"
        );
        assert_eq!(service_of_pod("solo"), "solo");
    }
}

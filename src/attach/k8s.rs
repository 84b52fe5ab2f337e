//! Kubernetes objects (`kubectl get pods,deployments -o json`): each workload's container
//! limits (the mesh sidecar's included) and whether its pods run a sidecar, for the
//! topology in incident.toml.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::input;
use super::{Format, Summary};
use crate::error::Error;
use crate::model::{Resources, service_of_pod};

/// Detects a k8s objects file from its first bytes.
pub(crate) fn detect(head: &str) -> Option<Format> {
    let t = head.trim_start();
    (t.starts_with('{')
        && (t.contains("\"kind\": \"Pod\"")
            || t.contains("\"kind\":\"Pod\"")
            || t.contains("\"Deployment\"")
            || t.contains("\"containers\"")))
    .then_some(Format::K8sObjects)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Owner {
    kind: String,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    owner_references: Vec<Owner>,
}

#[derive(Deserialize, Default)]
struct Limits {
    #[serde(default)]
    limits: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Container {
    name: String,
    #[serde(default)]
    resources: Limits,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(default)]
    containers: Vec<Container>,
}

#[derive(Deserialize, Default)]
struct Template {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: PodSpec,
}

#[derive(Deserialize, Default)]
struct WorkloadSpec {
    #[serde(default)]
    template: Option<Template>,
    #[serde(default)]
    containers: Vec<Container>,
    #[serde(default, rename = "nodeName")]
    node_name: Option<String>,
}

#[derive(Deserialize)]
struct Object {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: WorkloadSpec,
    #[serde(default)]
    items: Option<Vec<Object>>,
}

/// What one workload's objects say.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Workload {
    /// Whether its pods run a mesh proxy.
    pub sidecar: bool,
    /// Container limits.
    pub resources: Resources,
    /// Pod → node, for the pods listed.
    pub pods: BTreeMap<String, String>,
}

const PROXIES: [&str; 3] = ["istio-proxy", "linkerd-proxy", "envoy"];
const INJECTED: [&str; 3] = [
    "sidecar.istio.io/status",
    "linkerd.io/proxy-version",
    "sidecar.istio.io/inject",
];

/// `500m` → 0.5, `2` → 2.
fn cores(q: &str) -> Option<f64> {
    match q.strip_suffix('m') {
        Some(m) => m.parse::<f64>().ok().map(|v| v / 1000.0),
        None => q.parse().ok(),
    }
}

/// `1Gi`, `512Mi`, `1G`, `1048576` → bytes.
fn bytes(q: &str) -> Option<f64> {
    let units: [(&str, f64); 8] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    for (u, f) in units {
        if let Some(n) = q.strip_suffix(u) {
            return n.parse::<f64>().ok().map(|v| v * f);
        }
    }
    q.parse().ok()
}

fn merge(w: &mut Workload, meta: &Meta, containers: &[Container]) {
    if containers
        .iter()
        .any(|c| PROXIES.contains(&c.name.as_str()))
        || INJECTED
            .iter()
            .any(|a| meta.annotations.get(*a).is_some_and(|v| v != "false"))
    {
        w.sidecar = true;
    }
    for c in containers {
        let cpu = c.resources.limits.get("cpu").and_then(|q| cores(q));
        let mem = c.resources.limits.get("memory").and_then(|q| bytes(q));
        let r = &mut w.resources;
        if PROXIES.contains(&c.name.as_str()) {
            r.sidecar_cpu = cpu.or(r.sidecar_cpu);
            r.sidecar_mem_bytes = mem.or(r.sidecar_mem_bytes);
        } else if r.app_cpu.is_none() || r.app_mem_bytes.is_none() {
            // The first non-proxy container is the app.
            r.app_cpu = r.app_cpu.or(cpu);
            r.app_mem_bytes = r.app_mem_bytes.or(mem);
        }
    }
}

fn object(o: Object, out: &mut BTreeMap<String, Workload>, sum: &mut Summary) {
    if let Some(items) = o.items {
        for i in items {
            object(i, out, sum);
        }
        return;
    }
    match o.kind.as_str() {
        "Pod" => {
            let m = &o.metadata;
            let entity = m
                .owner_references
                .iter()
                .find(|r| r.kind == "ReplicaSet")
                .map(|r| r.name.rsplit_once('-').map_or(r.name.as_str(), |(d, _)| d))
                .or_else(|| m.owner_references.first().map(|r| r.name.as_str()))
                .unwrap_or_else(|| service_of_pod(&m.name))
                .to_string();
            let w = out.entry(entity).or_default();
            merge(w, m, &o.spec.containers);
            if let Some(n) = &o.spec.node_name {
                w.pods.insert(m.name.clone(), n.clone());
            }
        }
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            let t = o.spec.template.unwrap_or_default();
            let w = out.entry(o.metadata.name.clone()).or_default();
            merge(w, &t.metadata, &t.spec.containers);
            merge(w, &o.metadata, &[]);
        }
        _ => sum.skip("objects other than pods and workloads"),
    }
}

/// Reads one file's objects into `out`, by workload.
pub(crate) fn read(
    path: &Path,
    lines: bool,
    out: &mut BTreeMap<String, Workload>,
    sum: &mut Summary,
) -> Result<(), Error> {
    input::each_value(path, lines, |o: Object, _| {
        object(o, out, sum);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_convert() {
        assert_eq!(cores("500m"), Some(0.5));
        assert_eq!(cores("2"), Some(2.0));
        assert_eq!(bytes("1Gi"), Some(1_073_741_824.0));
        assert_eq!(bytes("512M"), Some(512e6));
    }
}

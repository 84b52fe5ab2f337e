//! The simulated cluster: services and their pods, storage, third parties, gateways, nodes.
//!
//! A `Cluster` is pure structure plus the per-entity constants the engine's physics needs
//! (costs per request, limits, base latencies). Scenarios build one (fixed for the seed
//! incident, drawn from the seed in `topology`) and hand it to the engine with the faults.

use crate::model::{EntitySpec, Resources};

/// One replica of a service.
#[derive(Debug, Clone)]
pub struct Pod {
    /// `<deployment>-<rs hash>-<5 chars>`.
    pub name: String,
    /// Index into `Cluster::nodes`.
    pub node: usize,
}

/// What a client-side dependency call reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Another service (east-west), by index; always a later index than the caller.
    Svc(usize),
    /// A MySQL or Redis instance, by index into `Cluster::stores`.
    Store(usize),
    /// A third-party HTTP dependency, by index into `Cluster::vendors`.
    Vendor(usize),
}

/// One dependency of a service.
#[derive(Debug, Clone)]
pub struct Dep {
    /// Entity id of the callee, as it appears in `target`.
    pub id: String,
    /// Resolved callee.
    pub target: Target,
    /// Calls made per incoming request (the sequential share: it adds latency that much).
    pub cpr: f64,
    /// Client timeout: calls slower than this fail, which is what turns slowness into errors.
    pub timeout_ms: f64,
    /// Network round trip without any fault.
    pub rtt_ms: f64,
}

/// A service (Kubernetes workload).
#[derive(Debug, Clone)]
pub struct Service {
    /// Entity id (no prefix).
    pub name: String,
    /// Go runtime: reports `goroutines`.
    pub go: bool,
    /// Replicas.
    pub pods: Vec<Pod>,
    /// Calls it makes.
    pub deps: Vec<Dep>,
    /// Gateways its external traffic comes through (empty for internal/background services).
    pub entry: Vec<String>,
    /// Requests/s arriving from outside the service graph (ingress or a queue), whole service.
    pub ext_rps: f64,
    /// Own processing time per request at baseline load.
    pub proc_ms: f64,
    /// p99 / avg at baseline.
    pub tail: f64,
    /// Background error ratio (4xx/5xx that are always there).
    pub base_err: f64,
    /// App CPU limit, cores.
    pub app_cpu: f64,
    /// App memory limit, bytes.
    pub app_mem: f64,
    /// Sidecar CPU limit, cores.
    pub sc_cpu: f64,
    /// Sidecar memory limit, bytes.
    pub sc_mem: f64,
    /// App CPU when idle, cores.
    pub cpu_idle: f64,
    /// App CPU seconds per request.
    pub cpu_per_req: f64,
    /// Sidecar CPU seconds per proxied call (inbound or outbound).
    pub sc_per_pass: f64,
    /// Sidecar added latency per pass at baseline load, ms.
    pub sc_delay_ms: f64,
    /// App RSS at rest, bytes.
    pub rss: f64,
    /// App page cache, bytes.
    pub cache: f64,
    /// Sidecar RSS, bytes.
    pub sc_rss: f64,
    /// Goroutines (or worker threads) when idle, per pod.
    pub idle_workers: f64,
    /// Goroutines per in-flight request.
    pub workers_per_req: f64,
}

/// A MySQL or Redis instance, server side.
#[derive(Debug, Clone)]
pub struct Store {
    /// `mysql:<name>` or `redis:<name>`.
    pub id: String,
    /// MySQL (reports slow queries) or Redis.
    pub mysql: bool,
    /// Server-side latency at baseline, ms.
    pub lat_ms: f64,
    /// Slow queries/s at baseline (MySQL).
    pub slow_q: f64,
    /// CPU utilisation at baseline load (0..1).
    pub cpu: f64,
    /// Pooled connections each client pod keeps open.
    pub pool: f64,
    /// Address clients dial, for log lines.
    pub addr: String,
}

/// A third-party HTTP dependency.
#[derive(Debug, Clone)]
pub struct Vendor {
    /// `http:<name>`.
    pub id: String,
    /// Its latency as seen from inside the cluster (without our own network), ms.
    pub lat_ms: f64,
    /// Its background error ratio.
    pub err: f64,
}

/// A north-south gateway.
#[derive(Debug, Clone)]
pub struct Ingress {
    /// `ingress:<name>`.
    pub id: String,
    /// Its own added latency, ms.
    pub proc_ms: f64,
}

/// A Kubernetes node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Bare node name.
    pub name: String,
    /// Allocatable cores.
    pub cores: f64,
    /// Cores used by system daemons and things we do not model.
    pub system_cores: f64,
    /// Background network errors/s (retransmits, drops).
    pub net_err: f64,
    /// Pod IP prefix for log lines, e.g. `10.0.3`.
    pub subnet: String,
}

/// The whole cluster and the sampling grid.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Services, callers before callees (the call graph is a DAG in this order).
    pub services: Vec<Service>,
    /// MySQL and Redis instances.
    pub stores: Vec<Store>,
    /// Third parties.
    pub vendors: Vec<Vendor>,
    /// Gateways.
    pub ingresses: Vec<Ingress>,
    /// Nodes.
    pub nodes: Vec<Node>,
    /// First sample, epoch ms.
    pub start_ms: i64,
    /// Last sample (exclusive), epoch ms.
    pub end_ms: i64,
    /// Sampling interval, ms.
    pub step_ms: i64,
    /// A second collector (`mesh-dashboard`) also reports sidecar CPU.
    pub mesh_dashboard: bool,
    /// Report `mem_cache_bytes` (some exporters do not).
    pub report_cache: bool,
    /// Report sidecar memory series.
    pub report_sidecar_mem: bool,
}

impl Service {
    /// A service with middle-of-the-road constants; scenarios override what matters to them.
    #[must_use]
    pub fn new(name: &str) -> Service {
        Service {
            name: name.to_string(),
            go: true,
            pods: Vec::new(),
            deps: Vec::new(),
            entry: Vec::new(),
            ext_rps: 100.0,
            proc_ms: 10.0,
            tail: 2.5,
            base_err: 0.001,
            app_cpu: 2.0,
            app_mem: 2.0 * GIB,
            sc_cpu: 1.0,
            sc_mem: 0.5 * GIB,
            cpu_idle: 0.05,
            cpu_per_req: 0.004,
            sc_per_pass: 0.0005,
            sc_delay_ms: 1.0,
            rss: 0.8 * GIB,
            cache: 0.2 * GIB,
            sc_rss: 90.0 * MIB,
            idle_workers: 120.0,
            workers_per_req: 3.0,
        }
    }

    /// Adds a dependency (resolved later by [`Cluster::resolve`]).
    pub fn call(&mut self, id: &str, cpr: f64, timeout_ms: f64, rtt_ms: f64) {
        self.deps.push(Dep {
            id: id.to_string(),
            target: Target::Svc(usize::MAX),
            cpr,
            timeout_ms,
            rtt_ms,
        });
    }
}

/// Kubernetes-style pod names `<svc>-<rs hash>-<5 chars>`, one per node index given.
pub fn make_pods(rng: &mut super::rng::Rng, svc: &str, nodes: &[usize]) -> Vec<Pod> {
    let len = rng.int(9, 10) as usize;
    let rs = rng.k8s_suffix(len);
    nodes
        .iter()
        .map(|&node| Pod {
            name: format!("{svc}-{rs}-{}", rng.k8s_suffix(5)),
            node,
        })
        .collect()
}

impl Cluster {
    /// Resolves every dependency id to its callee; a service may only call later services.
    ///
    /// # Errors
    /// An unknown id or a call against the order (which would make the graph cyclic).
    pub fn resolve(&mut self) -> Result<(), String> {
        for s in 0..self.services.len() {
            for d in 0..self.services[s].deps.len() {
                let id = self.services[s].deps[d].id.clone();
                let target = if let Some(i) = self.stores.iter().position(|x| x.id == id) {
                    Target::Store(i)
                } else if let Some(i) = self.vendors.iter().position(|x| x.id == id) {
                    Target::Vendor(i)
                } else if let Some(i) = self.svc(&id) {
                    if i <= s {
                        return Err(format!(
                            "{} calls {id}, which does not come after it",
                            self.services[s].name
                        ));
                    }
                    Target::Svc(i)
                } else {
                    return Err(format!("{} calls unknown {id}", self.services[s].name));
                };
                self.services[s].deps[d].target = target;
            }
        }
        Ok(())
    }

    /// Index of a service by name.
    #[must_use]
    pub fn svc(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }

    /// Services that call entity `id` directly.
    #[must_use]
    pub fn callers_of(&self, id: &str) -> Vec<usize> {
        (0..self.services.len())
            .filter(|&i| self.services[i].deps.iter().any(|d| d.id == id))
            .collect()
    }

    /// Every service that reaches `id` through calls, directly or transitively.
    #[must_use]
    pub fn upstream_of(&self, id: &str) -> Vec<usize> {
        let mut hit = vec![false; self.services.len()];
        let mut frontier = vec![id.to_string()];
        while let Some(cur) = frontier.pop() {
            for i in self.callers_of(&cur) {
                if !hit[i] {
                    hit[i] = true;
                    frontier.push(self.services[i].name.clone());
                }
            }
        }
        (0..hit.len()).filter(|&i| hit[i]).collect()
    }

    /// The `[[entity]]` topology tables for incident.toml.
    #[must_use]
    pub fn topology(&self) -> Vec<EntitySpec> {
        let mut out: Vec<EntitySpec> = self
            .services
            .iter()
            .map(|s| EntitySpec {
                id: s.name.clone(),
                depends_on: s.deps.iter().map(|d| d.id.clone()).collect(),
                entry: s.entry.clone(),
                sidecar: Some(true),
                resources: Some(Resources {
                    app_cpu: Some(s.app_cpu),
                    app_mem_bytes: Some(s.app_mem),
                    sidecar_cpu: Some(s.sc_cpu),
                    sidecar_mem_bytes: Some(s.sc_mem),
                }),
            })
            .collect();
        let bare = |id: &str| EntitySpec {
            id: id.to_string(),
            ..EntitySpec::default()
        };
        out.extend(self.stores.iter().map(|s| bare(&s.id)));
        out.extend(self.vendors.iter().map(|v| bare(&v.id)));
        out.extend(self.ingresses.iter().map(|i| bare(&i.id)));
        out
    }

    /// Number of samples per series.
    #[must_use]
    pub fn steps(&self) -> usize {
        ((self.end_ms - self.start_ms) / self.step_ms) as usize
    }
}

/// `GiB` in bytes.
pub const GIB: f64 = 1_073_741_824.0;
/// `MiB` in bytes.
pub const MIB: f64 = 1_048_576.0;

//! The physics: one pass over the sampling grid turning a cluster and its fault causes into
//! every metric sample and log line.
//!
//! Per step, in this order (the order is part of the contract: noise, pod and log draws come
//! from their streams in emission order, so a seed reproduces its archive byte for byte):
//! 1. arrivals: gateways pass (or drop) what users send and requests flow down the call graph,
//!    callers first ([`Sim::arrivals`]);
//! 2. the servers outside the services: storage, third parties, the network
//!    ([`servers`]);
//! 3. services, callees first, so a caller sees this step's latency of what it calls; each
//!    pod's CPU, sidecar and memory follow its share of the traffic, and latency is built as
//!    own processing + sidecar queueing + the latency of each call ([`pod`]);
//! 4. gateways and 5. nodes, from what the services did ([`servers`]).

mod pod;
mod servers;

use crate::model::{LogRow, MetricRow};

use super::cluster::{Cluster, Target};
use super::effects::{Effects, mult_of};
use super::logs::LogGen;
use super::rng::Rng;
use super::signals::{Emitter, Gap};
use pod::{PodNow, PodState};

/// What one run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Metric rows.
    pub metrics: Vec<MetricRow>,
    /// Log lines.
    pub logs: Vec<LogRow>,
}

/// Requests/s per service for the given external arrivals (callers precede callees).
pub(crate) fn traffic(c: &Cluster, ext: &[f64]) -> Vec<f64> {
    let mut rps = ext.to_vec();
    for s in 0..c.services.len() {
        for d in &c.services[s].deps {
            if let Target::Svc(j) = d.target {
                rps[j] += rps[s] * d.cpr;
            }
        }
    }
    rps
}

/// Runs the simulation. `gaps` are whole-pod scrape outages.
#[must_use]
pub fn run(c: &Cluster, fx: &Effects, rng: &mut Rng, gaps: Vec<Gap>) -> Outcome {
    let mut sim = Sim::new(c, fx, rng, gaps);
    for k in 0..c.steps() {
        sim.step(k);
    }
    Outcome {
        metrics: sim.em.rows,
        logs: sim.lg.rows,
    }
}

/// The no-fault operating point every load-dependent curve is scaled against.
struct Baseline {
    rps: Vec<f64>,
    app_rho: Vec<f64>,
    sc_demand: Vec<f64>,
    store_load: Vec<f64>,
    /// Requests each gateway is offered.
    gateway_load: Vec<f64>,
}

impl Baseline {
    fn new(c: &Cluster) -> Baseline {
        let ext: Vec<f64> = c.services.iter().map(|s| s.ext_rps).collect();
        let rps = traffic(c, &ext);
        let per_pod = |s: usize| rps[s] / c.services[s].pods.len() as f64;
        let app_rho = (0..c.services.len())
            .map(|s| {
                let sv = &c.services[s];
                (sv.cpu_idle + per_pod(s) * sv.cpu_per_req) / sv.app_cpu
            })
            .collect();
        let sc_demand = (0..c.services.len())
            .map(|s| 0.02 + passes(c, s, per_pod(s)) * c.services[s].sc_per_pass)
            .collect();
        let store_load = store_load(c, &rps);
        let gateway_load = c
            .ingresses
            .iter()
            .map(|i| {
                c.services
                    .iter()
                    .filter(|s| s.entry.contains(&i.id))
                    .map(|s| s.ext_rps / s.entry.len() as f64)
                    .sum()
            })
            .collect();
        Baseline {
            rps,
            app_rho,
            sc_demand,
            store_load,
            gateway_load,
        }
    }
}

/// Requests a pod's sidecar proxies: each inbound request and each call it makes.
fn passes(c: &Cluster, s: usize, pod_rps: f64) -> f64 {
    pod_rps * (1.0 + c.services[s].deps.iter().map(|d| d.cpr).sum::<f64>())
}

/// Calls/s arriving at each storage instance.
fn store_load(c: &Cluster, rps: &[f64]) -> Vec<f64> {
    let mut load = vec![0.0; c.stores.len()];
    for (s, sv) in c.services.iter().enumerate() {
        for d in &sv.deps {
            if let Target::Store(k) = d.target {
                load[k] += rps[s] * d.cpr;
            }
        }
    }
    load
}

/// This step's arrivals.
struct Arrivals {
    /// What users sent each service, before any gateway dropped part of it.
    offered: Vec<f64>,
    /// Share each gateway drops.
    gateway_drop: Vec<f64>,
    /// Requests/s each service serves.
    rps: Vec<f64>,
}

/// The whole simulation state carried from step to step.
struct Sim<'a> {
    c: &'a Cluster,
    fx: &'a Effects,
    base: Baseline,
    em: Emitter,
    lg: LogGen,
    /// Draws for pods' own randomness (heap sizes, leaks, restarts).
    prng: Rng,
    state: Vec<Vec<PodState>>,
    /// Each service's latency and error ratio this step, read by its callers.
    ent_lat: Vec<f64>,
    ent_err_ratio: Vec<f64>,
    pods_now: Vec<Vec<PodNow>>,
    /// Cores used on each node this step.
    node_cpu: Vec<f64>,
}

impl<'a> Sim<'a> {
    fn new(c: &'a Cluster, fx: &'a Effects, rng: &mut Rng, gaps: Vec<Gap>) -> Sim<'a> {
        let n = c.services.len();
        let em = Emitter::new(rng.fork("noise"), c.step_ms, gaps);
        let lg = LogGen::new(rng.fork("logs"), c);
        let mut prng = rng.fork("pods");
        let state = c
            .services
            .iter()
            .map(|sv| {
                sv.pods
                    .iter()
                    .map(|_| PodState::new(sv, &mut prng))
                    .collect()
            })
            .collect();
        let pods_now = c
            .services
            .iter()
            .map(|sv| vec![PodNow::default(); sv.pods.len()])
            .collect();
        Sim {
            c,
            fx,
            base: Baseline::new(c),
            em,
            lg,
            prng,
            state,
            ent_lat: vec![0.0; n],
            ent_err_ratio: vec![0.0; n],
            pods_now,
            node_cpu: vec![0.0; c.nodes.len()],
        }
    }

    fn step(&mut self, k: usize) {
        let t = self.c.start_ms + k as i64 * self.c.step_ms;
        let arr = self.arrivals(t);
        let srv = self.servers(k, t, &arr.rps);
        self.node_cpu.iter_mut().for_each(|x| *x = 0.0);
        for s in (0..self.c.services.len()).rev() {
            self.service(k, t, s, &arr, &srv);
        }
        self.gateways(k, t, &arr);
        self.nodes(k, t);
    }

    /// Gateways pass (or drop) what users send; services add their own callers.
    fn arrivals(&self, t: i64) -> Arrivals {
        let (c, fx) = (self.c, self.fx);
        let gateway_drop: Vec<f64> = (0..c.ingresses.len())
            .map(|i| {
                fx.ingress
                    .iter()
                    .filter(|(j, _)| *j == i)
                    .map(|(_, f)| f.drop.add(t))
                    .sum::<f64>()
                    .min(0.95)
            })
            .collect();
        let gateway_mult: Vec<f64> = c
            .ingresses
            .iter()
            .map(|i| mult_of(&fx.ext_load, &i.id, t))
            .collect();
        let mut offered = vec![0.0; c.services.len()];
        let mut ext = vec![0.0; c.services.len()];
        for (s, sv) in c.services.iter().enumerate() {
            let own = sv.ext_rps * mult_of(&fx.ext_load, &sv.name, t);
            let idx: Vec<usize> = sv
                .entry
                .iter()
                .filter_map(|e| c.ingresses.iter().position(|i| &i.id == e))
                .collect();
            if idx.is_empty() {
                offered[s] = own;
                ext[s] = own;
            } else {
                let sum = |f: &dyn Fn(usize) -> f64| idx.iter().map(|&i| f(i)).sum::<f64>();
                let n = idx.len() as f64;
                offered[s] = own * sum(&|i| gateway_mult[i]) / n;
                ext[s] = own * sum(&|i| gateway_mult[i] * (1.0 - gateway_drop[i])) / n;
            }
        }
        Arrivals {
            offered,
            gateway_drop,
            rps: traffic(c, &ext),
        }
    }
}

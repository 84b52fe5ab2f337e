//! The scenario library: for each root-cause kind, a random cluster, a culprit, the cause
//! as engine effects, change events, confounders, and the entities the alert may fire on.
//!
//! Causes are mechanisms, never symptoms: a slow Redis is a slower server; who suffers is
//! decided by the engine from who calls it. Confounders (an unrelated deploy, a small blip,
//! a second collector, scrape gaps) are drawn for every kind alike so none of them is a hint.

use crate::model::{Alert, EventRow, Expected, IncidentSpec, Instant, Kind, MetricRow};

use super::cluster::{Cluster, Target};
use super::effects::{
    Code, Effects, Fx, IngressFault, Leak, Misreport, NetFault, NodeFault, PodFault, Ramp,
    StoreFault, VendorFault,
};
use super::rng::Rng;
use super::signals::Gap;
use super::topology::{fit_nodes, headroom, random, users};
use super::{MIN, Scenario};

/// Chooses, after the run, which symptomatic entity and metric the alert fired on.
#[derive(Debug, Clone)]
pub struct AlertPick {
    candidates: Vec<String>,
    fired_at: i64,
    baseline_end: i64,
}

impl AlertPick {
    /// An entity-level latency p99 or error rate of a candidate that clearly moved at the
    /// alert time (random among those that did; the most moved one otherwise).
    pub fn choose(&self, rows: &[MetricRow], rng: &mut Rng) -> (String, String) {
        let mut scored: Vec<(String, &'static str, f64)> = Vec::new();
        // One pass to keep only the entity-level alertable series of the candidates.
        let rows: Vec<&MetricRow> = rows
            .iter()
            .filter(|r| {
                r.pod.is_none()
                    && r.target.is_none()
                    && (r.metric == "latency_p99_ms" || r.metric == "errors_per_s")
                    && self.candidates.contains(&r.entity)
            })
            .collect();
        for e in &self.candidates {
            for metric in ["latency_p99_ms", "errors_per_s"] {
                let (mut b, mut nb, mut i, mut ni) = (0.0, 0.0, 0.0, 0.0);
                for r in rows
                    .iter()
                    .filter(|r| r.metric == metric && &r.entity == e && !r.value.is_nan())
                {
                    if r.ts_ms < self.baseline_end {
                        b += r.value;
                        nb += 1.0;
                    } else if r.ts_ms >= self.fired_at - MIN && r.ts_ms <= self.fired_at + 3 * MIN {
                        i += r.value;
                        ni += 1.0;
                    }
                }
                if nb == 0.0 || ni == 0.0 {
                    continue;
                }
                let (b, i) = (b / nb, i / ni);
                let score = if metric == "errors_per_s" {
                    (i + 0.5) / (b + 0.5) / 2.0
                } else {
                    i / b.max(1e-9)
                };
                scored.push((e.clone(), metric, score));
            }
        }
        let ok: Vec<&(String, &str, f64)> = scored.iter().filter(|s| s.2 >= 1.8).collect();
        let best = if ok.is_empty() {
            scored.iter().max_by(|a, b| a.2.total_cmp(&b.2))
        } else {
            Some(ok[rng.below(ok.len())])
        };
        best.map_or_else(
            || (self.candidates[0].clone(), "latency_p99_ms".into()),
            |s| (s.0.clone(), s.1.to_string()),
        )
    }
}

fn version(rng: &mut Rng, entity: &str) -> (String, String) {
    let (a, b, c) = (rng.int(1, 4), rng.int(0, 30), rng.int(0, 12));
    if rng.chance(0.3) {
        let h1 = rng.hex(7);
        (
            format!("image registry.internal/{entity}:git-{h1}"),
            format!("registry.internal/{entity}:git-{}", rng.hex(7)),
        )
    } else {
        (format!("image v{a}.{b}.{c}"), format!("v{a}.{b}.{}", c + 1))
    }
}

fn deploy(rng: &mut Rng, ts: i64, entity: &str) -> EventRow {
    let (from, to) = version(rng, entity);
    EventRow {
        ts_ms: ts,
        entity: entity.into(),
        kind: "deploy".into(),
        detail: Some(format!("{from} -> {to}")),
    }
}

fn names(c: &Cluster, idx: &[usize]) -> Vec<String> {
    idx.iter().map(|&i| c.services[i].name.clone()).collect()
}

/// A service and everything that calls it, transitively.
fn with_upstream(c: &Cluster, s: usize) -> Vec<usize> {
    let mut v = vec![s];
    v.extend(c.upstream_of(&c.services[s].name));
    v
}

/// Users of an entity and their callers.
fn users_up(c: &Cluster, t: Target) -> Vec<usize> {
    let mut v = Vec::new();
    for u in users(c, t) {
        for x in with_upstream(c, u) {
            if !v.contains(&x) {
                v.push(x);
            }
        }
    }
    v
}

/// Builds the scenario for `kind` from `seed`.
///
/// # Errors
/// Never in practice; kept for a scenario that cannot be drawn.
pub fn scenario(kind: Kind, seed: u64) -> Result<(Scenario, AlertPick), String> {
    let mut rng = Rng::new(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (kind as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407),
    );
    // A weekday-agnostic instant in 2024–2025, on a whole minute.
    let fired = 1_704_067_200_000 + rng.int(0, 700) * 86_400_000 + rng.int(0, 1439) * MIN;
    let mut c = random(&mut rng, fired - 75 * MIN, fired + 15 * MIN);
    let onset = fired - rng.int(3 * 60, 10 * 60) * 1000;
    let rise = rng.int(40, 240) * 1000;
    let ramp = Ramp::from(onset, rise);
    let mut fx = Effects::default();
    let mut events = Vec::new();
    let n = c.services.len();
    let svc = rng.below(n);
    let ext: Vec<f64> = c.services.iter().map(|s| s.ext_rps).collect();

    let (culprit, affected): (String, Vec<usize>) = match kind {
        Kind::TrafficSpike => {
            let entries: Vec<usize> = (0..n).filter(|&i| c.services[i].ext_rps > 0.0).collect();
            let s = *rng.pick(&entries);
            let mag = rng.range(2.0, 4.0);
            fx.ext_load
                .push((c.services[s].name.clone(), Fx::new(ramp, mag)));
            let mut peak = ext.clone();
            peak[s] *= mag;
            // Sized for the peak: load rises, nothing hits a limit.
            headroom(&mut c, &peak, 0.85, true, true, None);
            (c.services[s].name.clone(), with_upstream(&c, s))
        }
        Kind::CpuSaturation => {
            let sv = &c.services[svc];
            let rho0 = (sv.cpu_idle + ext_rps_pod(&c, &ext, svc) * sv.cpu_per_req) / sv.app_cpu;
            fx.cpu_cost
                .push((svc, Fx::new(ramp, rng.range(1.2, 1.8) / rho0)));
            (sv.name.clone(), with_upstream(&c, svc))
        }
        Kind::MemoryPressure => {
            let sv = &c.services[svc];
            let start = fired - rng.int(6 * 60, 10 * 60) * 1000;
            let fill = rng.range(150.0, 300.0);
            fx.leak.push((
                svc,
                Leak {
                    start,
                    bytes_per_s: (sv.app_mem - sv.rss) / fill,
                },
            ));
            (sv.name.clone(), with_upstream(&c, svc))
        }
        Kind::CodeChange => {
            let name = c.services[svc].name.clone();
            let at = onset - rng.int(0, 30) * 1000;
            events.push(deploy(&mut rng, at, &name));
            let rollout = Ramp::from(onset, rng.int(30, 120) * 1000);
            fx.code.push((
                svc,
                Code {
                    err: Fx::new(rollout, rng.range(0.05, 0.4)),
                    lat: Fx::new(rollout, rng.range(1.0, 1.6)),
                },
            ));
            (name, with_upstream(&c, svc))
        }
        Kind::Mysql | Kind::Redis => {
            let want_mysql = kind == Kind::Mysql;
            let pool: Vec<usize> = (0..c.stores.len())
                .filter(|&i| c.stores[i].mysql == want_mysql)
                .collect();
            let k = *rng.pick(&pool);
            let f = StoreFault {
                lat: Fx::new(ramp, rng.range(4.0, 20.0)),
                slow: Fx::new(ramp, rng.range(5.0, 30.0)),
                cpu: Fx::new(ramp, rng.range(0.3, 0.55)),
            };
            fx.store.push((k, f));
            (c.stores[k].id.clone(), users_up(&c, Target::Store(k)))
        }
        Kind::StorageFailover => {
            let k = rng.below(c.stores.len());
            let at = fired - rng.int(60, 240) * 1000;
            fx.failover.push((k, at));
            let id = c.stores[k].id.clone();
            let bare = id
                .split_once(':')
                .map_or(id.as_str(), |(_, b)| b)
                .to_string();
            let detail = if c.stores[k].mysql {
                format!("primary {bare}-0 unreachable; promoted replica {bare}-1 (orchestrator)")
            } else {
                format!(
                    "sentinel: +switch-master {bare} {} -> 10.{}.{}.{}",
                    c.stores[k].addr,
                    rng.int(0, 3),
                    rng.int(40, 60),
                    rng.int(2, 250)
                )
            };
            events.push(EventRow {
                ts_ms: at,
                entity: id.clone(),
                kind: "failover".into(),
                detail: Some(detail),
            });
            (id, users_up(&c, Target::Store(k)))
        }
        Kind::Ingress => {
            let i = rng.below(c.ingresses.len());
            fx.ingress.push((
                i,
                IngressFault {
                    lat: Fx::new(ramp, rng.range(8.0, 40.0)),
                    drop: Fx::new(ramp, rng.range(0.05, 0.3)),
                },
            ));
            (c.ingresses[i].id.clone(), Vec::new())
        }
        Kind::Sidecar => {
            let sv = &c.services[svc];
            let pod_rps = ext_rps_pod(&c, &ext, svc);
            let passes = pod_rps * (1.0 + sv.deps.iter().map(|d| d.cpr).sum::<f64>());
            let rho0 = (0.02 + passes * sv.sc_per_pass) / sv.sc_cpu;
            let target = rng.range(1.1, 1.5);
            if sv.ext_rps > 0.0 && rng.chance(0.5) {
                // Traffic-triggered, like the seed: a modest surge the proxy cannot carry.
                let mag = rng.range(1.4, 2.2);
                fx.ext_load.push((sv.name.clone(), Fx::new(ramp, mag)));
                let mut peak = ext.clone();
                peak[svc] *= mag;
                let mut grow = traffic_ratio(&c, &ext, &peak, svc);
                grow = grow.max(1.0);
                let sc_cpu = ((rho0 * c.services[svc].sc_cpu * grow / target) * 4.0)
                    .round()
                    .max(1.0)
                    / 4.0;
                headroom(&mut c, &peak, 0.8, true, true, Some(svc));
                headroom(&mut c, &peak, 0.8, true, false, None);
                c.services[svc].sc_cpu = sc_cpu.min(c.services[svc].sc_cpu);
            } else {
                fx.sc_cost.push((svc, Fx::new(ramp, target / rho0)));
            }
            if c.mesh_dashboard {
                fx.misreport.push(Misreport::SidecarCapped(svc));
            }
            (c.services[svc].name.clone(), with_upstream(&c, svc))
        }
        Kind::Pod => {
            let multi: Vec<usize> = (0..n).filter(|&i| c.services[i].pods.len() >= 3).collect();
            let s = if multi.is_empty() {
                svc
            } else {
                *rng.pick(&multi)
            };
            let p = rng.below(c.services[s].pods.len());
            let crash = rng.chance(0.4).then(|| rng.int(3, 6) * MIN);
            fx.pod.push((
                (s, p),
                PodFault {
                    lat: Fx::new(ramp, rng.range(4.0, 15.0)),
                    err: Fx::new(ramp, rng.range(0.02, 0.2)),
                    crash_every: crash,
                },
            ));
            (c.services[s].pods[p].name.clone(), with_upstream(&c, s))
        }
        Kind::Node => {
            let counts: Vec<usize> = (0..c.nodes.len())
                .map(|nd| {
                    c.services
                        .iter()
                        .filter(|s| s.pods.iter().any(|p| p.node == nd))
                        .count()
                })
                .collect();
            let best: Vec<usize> = (0..c.nodes.len()).filter(|&nd| counts[nd] >= 2).collect();
            let nd = if best.is_empty() { 0 } else { *rng.pick(&best) };
            fx.node.push((
                nd,
                NodeFault {
                    cpu: Fx::new(ramp, rng.range(0.3, 0.5)),
                    net_err: Fx::new(ramp, rng.range(20.0, 200.0)),
                    lat: Fx::new(ramp, rng.range(2.0, 5.0)),
                    rtt: Fx::new(ramp, rng.range(8.0, 25.0)),
                    err: Fx::new(ramp, rng.range(0.01, 0.05)),
                },
            ));
            let mut aff = Vec::new();
            for (i, s) in c.services.iter().enumerate() {
                if s.pods.iter().any(|p| p.node == nd) {
                    aff.extend(with_upstream(&c, i));
                }
            }
            (format!("node:{}", c.nodes[nd].name), aff)
        }
        Kind::Network => {
            fx.network = Some(NetFault {
                rtt: Fx::new(ramp, rng.range(5.0, 20.0)),
                err: Fx::new(ramp, rng.range(0.01, 0.05)),
                node_err: Fx::new(ramp, rng.range(30.0, 300.0)),
            });
            ("cluster".into(), (0..n).collect())
        }
        Kind::ThirdParty => {
            let v = rng.below(c.vendors.len());
            if users(&c, Target::Vendor(v)).is_empty() {
                let lat = c.vendors[v].lat_ms;
                c.services[0].call(&c.vendors[v].id.clone(), 0.2, (lat * 5.0).max(300.0), 2.0);
                c.resolve()?;
            }
            fx.vendor.push((
                v,
                VendorFault {
                    lat: Fx::new(ramp, rng.range(3.0, 10.0)),
                    err: Fx::new(ramp, rng.range(0.02, 0.3)),
                },
            ));
            (c.vendors[v].id.clone(), users_up(&c, Target::Vendor(v)))
        }
    };

    // Alert candidates: symptomatic entities (the culprit is one only when it can alert).
    let mut candidates = names(&c, &affected);
    if kind == Kind::Ingress || (kind == Kind::TrafficSpike && rng.chance(0.2)) {
        let gw: Vec<String> = c
            .services
            .iter()
            .find(|s| s.name == culprit)
            .map_or_else(|| vec![culprit.clone()], |s| s.entry.clone());
        candidates.extend(gw);
    }
    if candidates.is_empty() {
        candidates.push(c.services[0].name.clone());
    }
    confounders(&mut rng, &c, &mut fx, &mut events, &affected, fired, kind);
    fit_nodes(&mut c);
    let gaps = (0..rng.int(1, 3))
        .map(|_| {
            let s = rng.below(n);
            let p = rng.below(c.services[s].pods.len());
            let from = rng.below(c.steps() - 8);
            Gap {
                pod: c.services[s].pods[p].name.clone(),
                from,
                to: from + rng.int(1, 5) as usize,
            }
        })
        .collect();
    let spec = IncidentSpec {
        id: Some(format!("{}-{seed}", kind.as_str())),
        title: Some(format!("Simulated {} incident (seed {seed})", kind.layer())),
        description: Some(format!(
            "Generated by `funnel simulate {} --seed {seed}`.",
            kind.as_str()
        )),
        alert: Alert {
            entity: candidates[0].clone(),
            metric: "latency_p99_ms".into(),
            fired_at: Instant(fired),
        },
        window: None,
        metric_aliases: Default::default(),
        expected: Some(Expected {
            kind: kind.as_str().into(),
            culprit,
        }),
        entities: c.topology(),
        postmortem: None,
    };
    let pick = AlertPick {
        candidates,
        fired_at: fired,
        baseline_end: fired - 15 * MIN,
    };
    Ok((
        Scenario {
            cluster: c,
            effects: fx,
            gaps,
            events,
            spec,
            rng,
        },
        pick,
    ))
}

/// Per-pod baseline requests/s of service `s`.
fn ext_rps_pod(c: &Cluster, ext: &[f64], s: usize) -> f64 {
    super::engine::traffic(c, ext)[s] / c.services[s].pods.len() as f64
}

/// How much service `s`'s traffic grows from `base` to `peak` arrivals.
fn traffic_ratio(c: &Cluster, base: &[f64], peak: &[f64], s: usize) -> f64 {
    super::engine::traffic(c, peak)[s] / super::engine::traffic(c, base)[s].max(1e-9)
}

/// Harmless noise every kind gets alike: an old deploy and config change elsewhere, a short
/// latency blip on an unaffected service, mesh-dashboard on every sidecar, a node CPU second
/// source with another denominator.
fn confounders(
    rng: &mut Rng,
    c: &Cluster,
    fx: &mut Effects,
    events: &mut Vec<EventRow>,
    affected: &[usize],
    fired: i64,
    kind: Kind,
) {
    let n = c.services.len();
    let calm: Vec<usize> = (0..n).filter(|i| !affected.contains(i)).collect();
    let pool = if calm.is_empty() {
        (0..n).collect()
    } else {
        calm.clone()
    };
    let s = *rng.pick(&pool);
    let at = fired - rng.int(25, 140) * MIN - rng.int(0, 59) * 1000;
    events.push(deploy(rng, at, &c.services[s].name));
    if rng.chance(0.5) {
        let s = rng.below(n);
        let r = rng.int(2, 10);
        events.push(EventRow {
            ts_ms: fired - rng.int(2, 20) * 24 * 60 * MIN,
            entity: c.services[s].name.clone(),
            kind: "scale".into(),
            detail: Some(format!(
                "replicas {} -> {}",
                c.services[s].pods.len() + r as usize,
                c.services[s].pods.len()
            )),
        });
    }
    if !calm.is_empty() && rng.chance(0.6) {
        let s = *rng.pick(&calm);
        let at = fired + rng.int(-12 * 60, 8 * 60) * 1000;
        fx.blip.push((
            s,
            Fx::new(
                Ramp::pulse(at, 15_000, at + rng.int(20, 60) * 1000, 15_000),
                rng.range(1.4, 2.0),
            ),
        ));
    }
    if c.mesh_dashboard {
        for i in 0..n {
            if !fx
                .misreport
                .iter()
                .any(|m| matches!(m, Misreport::SidecarCapped(j) if *j == i))
            {
                fx.misreport.push(Misreport::SidecarCapped(i));
            }
        }
    }
    if rng.chance(0.3) && kind != Kind::Node {
        let nd = rng.below(c.nodes.len());
        fx.misreport.push(Misreport::NodeCpuScaled {
            node: nd,
            source: "node-exporter",
            factor: rng.range(1.2, 1.6),
        });
    }
}

//! One cause per root-cause kind: what it changes in the cluster's physics, which change
//! events it leaves, and who can suffer from it (the culprit and the services upstream).
//!
//! Each function draws from the scenario's random stream in a fixed order: changing the
//! order changes every simulated incident, so keep new draws at the end of a function.

use crate::model::{EventRow, Kind};

use super::super::cluster::{Cluster, Target};
use super::super::effects::{
    Code, Effects, Fx, IngressFault, Leak, Misreport, NetFault, NodeFault, PodFault, Ramp,
    StoreFault, VendorFault,
};
use super::super::rng::Rng;
use super::super::topology::{headroom, users};
use super::{deploy, ext_rps_pod, traffic_ratio, users_up, with_upstream};

/// A scenario being drawn: the cluster, the effects and events so far, and the fault's timing.
pub(super) struct Draft {
    pub rng: Rng,
    pub c: Cluster,
    pub fx: Effects,
    pub events: Vec<EventRow>,
    pub fired: i64,
    pub onset: i64,
    pub ramp: Ramp,
    /// A service drawn for the kinds that strike one service.
    pub svc: usize,
    /// Baseline external requests/s per service.
    pub ext: Vec<f64>,
}

/// The culprit's name and the indices of the services that may show symptoms.
pub(super) type Cause = (String, Vec<usize>);

impl Draft {
    pub fn cause(&mut self, kind: Kind) -> Result<Cause, String> {
        Ok(match kind {
            Kind::TrafficSpike => self.traffic_spike(),
            Kind::CpuSaturation => self.cpu_saturation(),
            Kind::MemoryPressure => self.memory_pressure(),
            Kind::CodeChange => self.code_change(),
            Kind::Mysql | Kind::Redis => self.slow_store(kind == Kind::Mysql),
            Kind::StorageFailover => self.failover(),
            Kind::Ingress => self.ingress(),
            Kind::Sidecar => self.sidecar(),
            Kind::Pod => self.pod(),
            Kind::Node => self.node(),
            Kind::Network => self.network(),
            Kind::ThirdParty => self.third_party()?,
        })
    }

    fn traffic_spike(&mut self) -> Cause {
        let c = &mut self.c;
        let entries: Vec<usize> = (0..c.services.len())
            .filter(|&i| c.services[i].ext_rps > 0.0)
            .collect();
        let s = *self.rng.pick(&entries);
        let mag = self.rng.range(2.0, 4.0);
        self.fx
            .ext_load
            .push((c.services[s].name.clone(), Fx::new(self.ramp, mag)));
        let mut peak = self.ext.clone();
        peak[s] *= mag;
        // Sized for the peak: load rises, nothing hits a limit.
        headroom(c, &peak, 0.85, true, true, None);
        (c.services[s].name.clone(), with_upstream(c, s))
    }

    fn cpu_saturation(&mut self) -> Cause {
        let (c, svc) = (&self.c, self.svc);
        let sv = &c.services[svc];
        let rho0 = (sv.cpu_idle + ext_rps_pod(c, &self.ext, svc) * sv.cpu_per_req) / sv.app_cpu;
        self.fx
            .cpu_cost
            .push((svc, Fx::new(self.ramp, self.rng.range(1.2, 1.8) / rho0)));
        (sv.name.clone(), with_upstream(c, svc))
    }

    fn memory_pressure(&mut self) -> Cause {
        let (c, svc) = (&self.c, self.svc);
        let sv = &c.services[svc];
        let start = self.fired - self.rng.int(6 * 60, 10 * 60) * 1000;
        let fill = self.rng.range(150.0, 300.0);
        let bytes_per_s = (sv.app_mem - sv.rss) / fill;
        self.fx.leak.push((svc, Leak { start, bytes_per_s }));
        (sv.name.clone(), with_upstream(c, svc))
    }

    fn code_change(&mut self) -> Cause {
        let (rng, svc, onset) = (&mut self.rng, self.svc, self.onset);
        let name = self.c.services[svc].name.clone();
        let at = onset - rng.int(0, 30) * 1000;
        self.events.push(deploy(rng, at, &name));
        let rollout = Ramp::from(onset, rng.int(30, 120) * 1000);
        let err = Fx::new(rollout, rng.range(0.05, 0.4));
        let lat = Fx::new(rollout, rng.range(1.0, 1.6));
        self.fx.code.push((svc, Code { err, lat }));
        (name, with_upstream(&self.c, svc))
    }

    fn slow_store(&mut self, mysql: bool) -> Cause {
        let (c, rng, ramp) = (&self.c, &mut self.rng, self.ramp);
        let pool: Vec<usize> = (0..c.stores.len())
            .filter(|&i| c.stores[i].mysql == mysql)
            .collect();
        let k = *rng.pick(&pool);
        let lat = Fx::new(ramp, rng.range(4.0, 20.0));
        let slow = Fx::new(ramp, rng.range(5.0, 30.0));
        let cpu = Fx::new(ramp, rng.range(0.3, 0.55));
        self.fx.store.push((k, StoreFault { lat, slow, cpu }));
        (c.stores[k].id.clone(), users_up(c, Target::Store(k)))
    }

    fn failover(&mut self) -> Cause {
        let (c, rng) = (&self.c, &mut self.rng);
        let k = rng.below(c.stores.len());
        let at = self.fired - rng.int(60, 240) * 1000;
        self.fx.failover.push((k, at));
        let id = c.stores[k].id.clone();
        let bare = id.split_once(':').map_or(id.as_str(), |(_, b)| b);
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
        self.events.push(EventRow {
            ts_ms: at,
            entity: id.clone(),
            kind: "failover".into(),
            detail: Some(detail),
        });
        (id, users_up(c, Target::Store(k)))
    }

    fn ingress(&mut self) -> Cause {
        let (rng, ramp) = (&mut self.rng, self.ramp);
        let i = rng.below(self.c.ingresses.len());
        let lat = Fx::new(ramp, rng.range(8.0, 40.0));
        let drop = Fx::new(ramp, rng.range(0.05, 0.3));
        self.fx.ingress.push((i, IngressFault { lat, drop }));
        (self.c.ingresses[i].id.clone(), Vec::new())
    }

    fn sidecar(&mut self) -> Cause {
        let svc = self.svc;
        let sv = &self.c.services[svc];
        let pod_rps = ext_rps_pod(&self.c, &self.ext, svc);
        let passes = pod_rps * (1.0 + sv.deps.iter().map(|d| d.cpr).sum::<f64>());
        let rho0 = (0.02 + passes * sv.sc_per_pass) / sv.sc_cpu;
        let target = self.rng.range(1.1, 1.5);
        if sv.ext_rps > 0.0 && self.rng.chance(0.5) {
            self.surge_past_proxy(rho0, target);
        } else {
            self.fx
                .sc_cost
                .push((svc, Fx::new(self.ramp, target / rho0)));
        }
        if self.c.mesh_dashboard {
            self.fx.misreport.push(Misreport::SidecarCapped(svc));
        }
        (
            self.c.services[svc].name.clone(),
            with_upstream(&self.c, svc),
        )
    }

    /// Traffic-triggered, like the seed: a modest surge the proxy cannot carry, with the
    /// sidecar's CPU limit sized (in quarter cores) to saturate at `target` of it.
    fn surge_past_proxy(&mut self, rho0: f64, target: f64) {
        let (c, svc) = (&mut self.c, self.svc);
        let mag = self.rng.range(1.4, 2.2);
        self.fx
            .ext_load
            .push((c.services[svc].name.clone(), Fx::new(self.ramp, mag)));
        let mut peak = self.ext.clone();
        peak[svc] *= mag;
        let grow = traffic_ratio(c, &self.ext, &peak, svc).max(1.0);
        let sc_cpu = ((rho0 * c.services[svc].sc_cpu * grow / target) * 4.0)
            .round()
            .max(1.0)
            / 4.0;
        headroom(c, &peak, 0.8, true, true, Some(svc));
        headroom(c, &peak, 0.8, true, false, None);
        c.services[svc].sc_cpu = sc_cpu.min(c.services[svc].sc_cpu);
    }

    fn pod(&mut self) -> Cause {
        let (c, rng, ramp) = (&self.c, &mut self.rng, self.ramp);
        let multi: Vec<usize> = (0..c.services.len())
            .filter(|&i| c.services[i].pods.len() >= 3)
            .collect();
        let s = if multi.is_empty() {
            self.svc
        } else {
            *rng.pick(&multi)
        };
        let p = rng.below(c.services[s].pods.len());
        let crash_every = rng.chance(0.4).then(|| rng.int(3, 6) * super::MIN);
        let lat = Fx::new(ramp, rng.range(4.0, 15.0));
        let err = Fx::new(ramp, rng.range(0.02, 0.2));
        let fault = PodFault {
            lat,
            err,
            crash_every,
        };
        self.fx.pod.push(((s, p), fault));
        (c.services[s].pods[p].name.clone(), with_upstream(c, s))
    }

    fn node(&mut self) -> Cause {
        let (c, rng, ramp) = (&self.c, &mut self.rng, self.ramp);
        let hosts = |nd: usize| {
            c.services
                .iter()
                .filter(|s| s.pods.iter().any(|p| p.node == nd))
                .count()
        };
        // A node that hosts two services or more, so that "one node" is distinguishable.
        let shared: Vec<usize> = (0..c.nodes.len()).filter(|&nd| hosts(nd) >= 2).collect();
        let nd = if shared.is_empty() {
            0
        } else {
            *rng.pick(&shared)
        };
        let fault = NodeFault {
            cpu: Fx::new(ramp, rng.range(0.3, 0.5)),
            net_err: Fx::new(ramp, rng.range(20.0, 200.0)),
            lat: Fx::new(ramp, rng.range(2.0, 5.0)),
            rtt: Fx::new(ramp, rng.range(8.0, 25.0)),
            err: Fx::new(ramp, rng.range(0.01, 0.05)),
        };
        self.fx.node.push((nd, fault));
        let mut aff = Vec::new();
        for (i, s) in c.services.iter().enumerate() {
            if s.pods.iter().any(|p| p.node == nd) {
                aff.extend(with_upstream(c, i));
            }
        }
        (format!("node:{}", c.nodes[nd].name), aff)
    }

    fn network(&mut self) -> Cause {
        let (rng, ramp) = (&mut self.rng, self.ramp);
        self.fx.network = Some(NetFault {
            rtt: Fx::new(ramp, rng.range(5.0, 20.0)),
            err: Fx::new(ramp, rng.range(0.01, 0.05)),
            node_err: Fx::new(ramp, rng.range(30.0, 300.0)),
        });
        ("cluster".into(), (0..self.c.services.len()).collect())
    }

    fn third_party(&mut self) -> Result<Cause, String> {
        let c = &mut self.c;
        let v = self.rng.below(c.vendors.len());
        if users(c, Target::Vendor(v)).is_empty() {
            // Nobody calls the drawn vendor: the first service starts to, so the outage bites.
            let lat = c.vendors[v].lat_ms;
            c.services[0].call(&c.vendors[v].id.clone(), 0.2, (lat * 5.0).max(300.0), 2.0);
            c.resolve()?;
        }
        let lat = Fx::new(self.ramp, self.rng.range(3.0, 10.0));
        let err = Fx::new(self.ramp, self.rng.range(0.02, 0.3));
        self.fx.vendor.push((v, VendorFault { lat, err }));
        Ok((c.vendors[v].id.clone(), users_up(c, Target::Vendor(v))))
    }
}

#[cfg(test)]
mod tests {
    use super::super::scenario;
    use crate::model::Kind;

    #[test]
    fn every_kind_names_a_culprit_and_a_symptomatic_entity() {
        for kind in Kind::ALL {
            for seed in 1..4 {
                let (sc, _) = scenario(kind, seed).expect("scenario draws");
                let expected = sc.spec.expected.as_ref().expect("expected verdict");
                assert!(!expected.culprit.is_empty(), "{kind:?} seed {seed}");
                assert!(!sc.spec.alert.entity.is_empty(), "{kind:?} seed {seed}");
            }
        }
    }
}

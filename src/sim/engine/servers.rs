//! Everything that is not a service pod: storage and third parties (server side, before the
//! services call them), then gateways and nodes (after, from what the services did).

use super::super::effects::Misreport;
use super::super::signals::{Labels, Noise};
use super::{Arrivals, Sim, store_load};

/// This step's servers as their callers see them.
pub(super) struct Servers {
    /// Storage server latency (ms) and error ratio.
    pub store_lat: Vec<f64>,
    pub store_err: Vec<f64>,
    /// Share of a storage instance's connections alive (1 outside a failover).
    pub conn_factor: Vec<f64>,
    /// Third parties' latency (ms) and error ratio.
    pub vendors: Vec<(f64, f64)>,
    /// Network-wide RTT multiplier and error ratio.
    pub net_rtt: f64,
    pub net_err: f64,
}

impl Sim<'_> {
    /// Storage and third parties, server side; emits the storage series.
    pub(super) fn servers(&mut self, k: usize, t: i64, rps: &[f64]) -> Servers {
        let (c, fx) = (self.c, self.fx);
        let load = store_load(c, rps);
        let mut srv = Servers {
            store_lat: vec![0.0; c.stores.len()],
            store_err: vec![0.0; c.stores.len()],
            conn_factor: vec![1.0; c.stores.len()],
            vendors: Vec::new(),
            net_rtt: 1.0,
            net_err: 0.0,
        };
        for (i, &l) in load.iter().enumerate().take(c.stores.len()) {
            self.store(k, t, i, l, rps, &mut srv);
        }
        srv.vendors = c
            .vendors
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let f = fx.vendor.iter().find(|(j, _)| *j == i).map(|(_, f)| *f);
                (
                    v.lat_ms * f.map_or(1.0, |f| f.lat.mult(t)),
                    (v.err + f.map_or(0.0, |f| f.err.add(t))).min(1.0),
                )
            })
            .collect();
        (srv.net_rtt, srv.net_err) = fx
            .network
            .map_or((1.0, 0.0), |f| (f.rtt.mult(t), f.err.add(t)));
        srv
    }

    fn store(&mut self, k: usize, t: i64, i: usize, load: f64, rps: &[f64], srv: &mut Servers) {
        let (c, fx) = (self.c, self.fx);
        let st = &c.stores[i];
        let ratio = load / self.base.store_load[i].max(1e-9);
        let f = fx.store.iter().find(|(j, _)| *j == i).map(|(_, f)| *f);
        let mut lat =
            st.lat_ms * (1.0 + 0.08 * (ratio - 1.0)).max(0.6) * f.map_or(1.0, |f| f.lat.mult(t));
        let mut slow = st.slow_q * ratio * f.map_or(1.0, |f| f.slow.mult(t));
        let mut cpu = st.cpu * (0.75 + 0.25 * ratio) + f.map_or(0.0, |f| f.cpu.add(t));
        if let Some(&(_, tf)) = fx.failover.iter().find(|(j, _)| *j == i) {
            let since = (t - tf) as f64 / 1000.0;
            if since >= 0.0 {
                // The old primary's connections die at once; clients reconnect over minutes
                // and the new primary's cold buffer pool costs latency for a while.
                srv.store_err[i] = if since < 45.0 {
                    0.4 * (1.0 - since / 45.0) + 0.05
                } else {
                    0.0
                };
                srv.conn_factor[i] = 0.12 + 0.88 * (since / 150.0).min(1.0);
                let blip = (-since / 70.0).exp();
                lat *= 1.0 + 2.5 * blip;
                slow *= 1.0 + 3.0 * blip;
                cpu += 0.15 * blip;
            }
        }
        let conns: f64 = c
            .services
            .iter()
            .enumerate()
            .filter(|(_, sv)| sv.deps.iter().any(|d| d.target == super::Target::Store(i)))
            .map(|(s, sv)| {
                sv.pods.len() as f64
                    * st.pool
                    * (0.85 + 0.15 * (rps[s] / self.base.rps[s].max(1e-9)).min(3.0))
            })
            .sum::<f64>()
            * srv.conn_factor[i];
        srv.store_lat[i] = lat;
        let l = Labels::entity(&st.id);
        let em = &mut self.em;
        em.emit(k, t, "server_latency_ms", l, lat, Noise::Gauge(0.06));
        if st.mysql {
            em.emit(k, t, "slow_queries_per_s", l, slow, Noise::Rate);
        }
        em.emit(
            k,
            t,
            "cpu_utilization",
            l,
            cpu.min(0.99),
            Noise::Ratio(0.015),
        );
        em.emit(k, t, "connections", l, conns.round(), Noise::Gauge(0.02));
    }

    /// Gateways: their own latency, and the requests and errors of the services they front.
    pub(super) fn gateways(&mut self, k: usize, t: i64, arr: &Arrivals) {
        let (c, fx) = (self.c, self.fx);
        for (i, ing) in c.ingresses.iter().enumerate() {
            let f = fx.ingress.iter().find(|(j, _)| *j == i).map(|(_, f)| *f);
            let own = ing.proc_ms * f.map_or(1.0, |f| f.lat.mult(t));
            let drop = arr.gateway_drop[i];
            let (mut off, mut err) = (0.0, 0.0);
            for (s, sv) in c.services.iter().enumerate() {
                if sv.entry.contains(&ing.id) {
                    let o = arr.offered[s] * (1.0 / sv.entry.len() as f64);
                    off += o;
                    err += o * drop + o * (1.0 - drop) * self.ent_err_ratio[s];
                }
            }
            let l = Labels::entity(&ing.id);
            self.em.emit(k, t, "requests_per_s", l, off, Noise::Rate);
            self.em.emit(k, t, "errors_per_s", l, err, Noise::Rate);
            // Gateway latency is its own time (upstream time excluded, as Envoy's
            // `downstream - upstream` split reports it): backends answer for their own.
            let load = off / self.base.gateway_load[i].max(1e-9);
            let own = own * (1.0 + 0.05 * (load - 1.0).max(0.0));
            self.em
                .emit(k, t, "latency_avg_ms", l, own, Noise::Gauge(0.05));
            self.em
                .emit(k, t, "latency_p99_ms", l, own * 3.5, Noise::Gauge(0.08));
        }
    }

    /// Nodes: CPU from the pods they host, network errors from node and network faults.
    pub(super) fn nodes(&mut self, k: usize, t: i64) {
        let (c, fx) = (self.c, self.fx);
        for (i, nd) in c.nodes.iter().enumerate() {
            let f = fx.node.iter().find(|(j, _)| *j == i).map(|(_, f)| *f);
            let cpu =
                (nd.system_cores + self.node_cpu[i]) / nd.cores + f.map_or(0.0, |f| f.cpu.add(t));
            let ne = nd.net_err
                + f.map_or(0.0, |f| f.net_err.add(t))
                + fx.network.map_or(0.0, |f| f.node_err.add(t));
            let id = format!("node:{}", nd.name);
            let l = Labels {
                node: Some(&nd.name),
                ..Labels::entity(&id)
            };
            self.em
                .emit(k, t, "cpu_utilization", l, cpu.min(1.0), Noise::Ratio(0.02));
            self.em.emit(k, t, "net_errors_per_s", l, ne, Noise::Rate);
            for m in &fx.misreport {
                if let Misreport::NodeCpuScaled {
                    node,
                    source,
                    factor,
                } = m
                {
                    if *node == i {
                        let v = (cpu * factor).min(1.0);
                        self.em.emit(
                            k,
                            t,
                            "cpu_utilization",
                            l.source(source),
                            v,
                            Noise::Ratio(0.02),
                        );
                    }
                }
            }
        }
    }
}

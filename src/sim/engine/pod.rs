//! One service's step: each pod's resources, health, latency and errors, its log lines and
//! series, then the service-level aggregates its callers read.

mod series;

use super::super::cluster::{Service, Target};
use super::super::effects::{Code, NodeFault, PodFault, mult_of};
use super::super::logs::Site;
use super::super::rng::Rng;
use super::super::signals::{queue, timeout_share};
use super::servers::Servers;
use super::{Arrivals, Sim, passes};

/// Overload slopes of the queueing curves: the app degrades gently past saturation (its
/// worker pools bound concurrency), the proxy steeply (it queues every byte).
const APP_SLOPE: f64 = 40.0;
const SC_SLOPE: f64 = 250.0;
/// Share of a dependency's failures that surface as the caller's own errors (the rest is
/// retried or degraded gracefully).
const ERR_PROPAGATION: f64 = 0.7;

/// What a pod carries from step to step.
#[derive(Debug, Clone, Default)]
pub(super) struct PodState {
    rss: f64,
    leak_jitter: f64,
    restarts: f64,
    down_until: i64,
    last_crash: i64,
    /// Latency at the first step, the reference for "slow" lines and the p99 tail.
    lat0: f64,
}

impl PodState {
    pub(super) fn new(sv: &Service, prng: &mut Rng) -> PodState {
        PodState {
            rss: sv.rss * prng.range(0.93, 1.07),
            leak_jitter: prng.range(0.7, 1.3),
            last_crash: i64::MIN / 2,
            ..PodState::default()
        }
    }
}

/// Per-pod values of one step, kept to aggregate to entity level.
#[derive(Debug, Clone, Default)]
pub(super) struct PodNow {
    rps: f64,
    lat: f64,
    p99: f64,
    err: f64,
    workers: f64,
    dep_lat: Vec<f64>,
    dep_err: Vec<f64>,
}

/// The service-wide inputs of one step, shared by its pods.
struct ServiceNow {
    alive: Vec<bool>,
    live: f64,
    code: Option<Code>,
    cpu_cost: f64,
    sc_cost: f64,
    blip: f64,
}

/// A pod's resource use this step.
struct Resources {
    app_rho: f64,
    cpu_used: f64,
    sc_used: f64,
    /// Sidecar queueing delay added to every request and call (ms).
    sc_delay: f64,
}

impl Sim<'_> {
    pub(super) fn service(&mut self, k: usize, t: i64, s: usize, arr: &Arrivals, srv: &Servers) {
        let (c, fx) = (self.c, self.fx);
        let alive: Vec<bool> = self.state[s].iter().map(|p| t >= p.down_until).collect();
        let live = alive.iter().filter(|a| **a).count().max(1) as f64;
        let now = ServiceNow {
            alive,
            live,
            code: fx.code.iter().find(|(j, _)| *j == s).map(|(_, f)| *f),
            cpu_cost: mult_of(&fx.cpu_cost, &s, t),
            sc_cost: mult_of(&fx.sc_cost, &s, t),
            blip: mult_of(&fx.blip, &s, t),
        };
        for p in 0..c.services[s].pods.len() {
            self.pod(k, t, s, p, &now, arr, srv);
        }
        self.service_series(k, t, s);
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one pod of one step: all coordinates"
    )]
    fn pod(
        &mut self,
        k: usize,
        t: i64,
        s: usize,
        p: usize,
        now: &ServiceNow,
        arr: &Arrivals,
        srv: &Servers,
    ) {
        let (c, fx) = (self.c, self.fx);
        let sv = &c.services[s];
        let node = sv.pods[p].node;
        let site = Site {
            sv,
            pod: &sv.pods[p],
            node: &c.nodes[node],
        };
        let nf = fx.node.iter().find(|(j, _)| *j == node).map(|(_, f)| *f);
        let pf = fx.pod.iter().find(|(j, _)| *j == (s, p)).map(|(_, f)| *f);
        let up = now.alive[p] || now.live == 0.0;
        let pod_rps = if up { arr.rps[s] / now.live } else { 0.0 };
        let mut crash_err = self.crash(t, s, p, pf, up, site);
        let res = self.resources(s, pod_rps, now);
        self.node_cpu[node] += res.cpu_used + res.sc_used;
        if let Some(e) = self.memory(t, s, p, up, site) {
            crash_err = e;
        }
        let lat = self.own_latency(t, s, p, &res, nf, now) + res.sc_delay;
        let err_ratio = sv.base_err
            + now.code.map_or(0.0, |f| f.err.add(t))
            + pf.map_or(0.0, |f| f.err.add(t))
            + crash_err;
        let call = Caller {
            s,
            p,
            pod_rps,
            sc_delay: res.sc_delay,
            link: Link::new(t, nf, srv),
            up,
            site,
        };
        let (lat, err_ratio) = self.calls(t, &call, lat, err_ratio, srv);
        // A sick replica (stuck GC, bad disk, leaked threads) is slow at everything it
        // does, waiting on its own calls included.
        let lat = lat * pf.map_or(1.0, |f| f.lat.mult(t));
        let lat0 = self.record(k, &call, lat, err_ratio);
        if up {
            self.pod_logs(t, &call, now, pf, lat, lat0);
        }
        self.pod_series(k, t, s, p, up, &res);
    }

    /// The app's own processing time: its CPU queue, a sick node or release, a heap near its
    /// limit (GC) and the service-wide blip; calls and the sidecar come on top.
    fn own_latency(
        &self,
        t: i64,
        s: usize,
        p: usize,
        res: &Resources,
        nf: Option<NodeFault>,
        now: &ServiceNow,
    ) -> f64 {
        let sv = &self.c.services[s];
        let mem_frac = self.state[s][p].rss / sv.app_mem;
        let gc = if mem_frac > 0.8 {
            1.0 + 20.0 * (mem_frac - 0.8)
        } else {
            1.0
        };
        sv.proc_ms
            * (0.5 + 0.5 * queue(res.app_rho, APP_SLOPE) / queue(self.base.app_rho[s], APP_SLOPE))
            * nf.map_or(1.0, |f| f.lat.mult(t))
            * now.code.map_or(1.0, |f| f.lat.mult(t))
            * gc
            * now.blip
    }

    /// Keeps the pod's values of this step for its series and the service's aggregates;
    /// returns its first-step latency, the reference for "slow".
    fn record(&mut self, k: usize, at: &Caller<'_>, lat: f64, err_ratio: f64) -> f64 {
        let sv = &self.c.services[at.s];
        let st = &mut self.state[at.s][at.p];
        if k == 0 {
            st.lat0 = lat;
        }
        let lat0 = st.lat0;
        let p99 = lat * sv.tail * (1.0 + 0.12 * (lat / lat0.max(1e-9)).max(1.0).ln());
        let pn = &mut self.pods_now[at.s][at.p];
        pn.rps = at.pod_rps;
        pn.lat = lat;
        pn.p99 = p99;
        pn.err = at.pod_rps * err_ratio.min(1.0);
        pn.workers = sv.idle_workers + sv.workers_per_req * at.pod_rps * lat / 1000.0;
        lat0
    }

    /// The lines a pod that is up writes: the background, its own errors, and a warning when
    /// it is far slower than at the start.
    fn pod_logs(
        &mut self,
        t: i64,
        at: &Caller<'_>,
        now: &ServiceNow,
        pf: Option<PodFault>,
        lat: f64,
        lat0: f64,
    ) {
        let site = at.site;
        self.lg.normal(site, t, step_s(self), lat);
        let app_err = now.code.map_or(0.0, |f| f.err.add(t)) + pf.map_or(0.0, |f| f.err.add(t));
        self.lg.app_errors(
            site,
            t,
            step_s(self),
            at.pod_rps * app_err,
            now.code.is_some(),
        );
        if lat > 4.0 * lat0 {
            self.lg.slow(site, t, step_s(self), lat);
        }
    }

    /// A sick pod that crash-loops restarts here; returns the error share of the restart.
    fn crash(
        &mut self,
        t: i64,
        s: usize,
        p: usize,
        pf: Option<PodFault>,
        up: bool,
        at: Site,
    ) -> f64 {
        let st = &mut self.state[s][p];
        let Some(every) = pf.and_then(|pf| pf.crash_every.filter(|_| pf.lat.ramp.level(t) > 0.5))
        else {
            return 0.0;
        };
        if !up || t - st.last_crash < every {
            return 0.0;
        }
        st.last_crash = t;
        st.restarts += 1.0;
        st.down_until = t + self.c.step_ms + 20_000;
        self.lg.crash(at, t);
        0.2
    }

    /// The heap grows with a leak; at its limit the kernel OOM-kills the app and the pod
    /// restarts with a fresh heap. Returns the error share of such a restart.
    fn memory(&mut self, t: i64, s: usize, p: usize, up: bool, at: Site) -> Option<f64> {
        let sv = &self.c.services[s];
        let step_s = step_s(self);
        let st = &mut self.state[s][p];
        if let Some((_, lk)) = self.fx.leak.iter().find(|(j, _)| *j == s) {
            if t >= lk.start && up {
                st.rss += lk.bytes_per_s * st.leak_jitter * step_s * self.prng.range(0.6, 1.4);
            }
        }
        if st.rss < sv.app_mem * 0.995 {
            return None;
        }
        st.rss = sv.rss * self.prng.range(0.9, 1.0);
        st.restarts += 1.0;
        st.down_until = t + self.c.step_ms + self.prng.int(10_000, 30_000);
        self.lg.oom(at, t);
        Some(0.25)
    }

    fn resources(&self, s: usize, pod_rps: f64, now: &ServiceNow) -> Resources {
        let sv = &self.c.services[s];
        let demand = sv.cpu_idle + pod_rps * sv.cpu_per_req * now.cpu_cost;
        let sc_dem = 0.02 + passes(self.c, s, pod_rps) * sv.sc_per_pass * now.sc_cost;
        let sc_rho = sc_dem / sv.sc_cpu;
        Resources {
            app_rho: demand / sv.app_cpu,
            cpu_used: demand.min(sv.app_cpu),
            sc_used: sc_dem.min(sv.sc_cpu),
            sc_delay: sv.sc_delay_ms * queue(sc_rho, SC_SLOPE)
                / queue(self.base.sc_demand[s] / sv.sc_cpu, SC_SLOPE),
        }
    }
}

/// The network between a pod and what it calls: RTT multipliers and error ratios of the pod's
/// node and of the whole network (kept apart: the sums are taken in one fixed order).
#[derive(Clone, Copy)]
struct Link {
    node_rtt: f64,
    node_err: f64,
    net_rtt: f64,
    net_err: f64,
}

impl Link {
    fn new(t: i64, nf: Option<NodeFault>, srv: &Servers) -> Link {
        Link {
            node_rtt: nf.map_or(1.0, |f| f.rtt.mult(t)),
            node_err: nf.map_or(0.0, |f| f.err.add(t)),
            net_rtt: srv.net_rtt,
            net_err: srv.net_err,
        }
    }
}

fn step_s(sim: &Sim<'_>) -> f64 {
    sim.c.step_ms as f64 / 1000.0
}

/// A pod making its calls this step.
struct Caller<'a> {
    s: usize,
    p: usize,
    pod_rps: f64,
    sc_delay: f64,
    link: Link,
    up: bool,
    site: Site<'a>,
}

impl Sim<'_> {
    /// Each dependency's latency and errors as this pod measures them; returns the pod's
    /// latency and error ratio with its calls added.
    fn calls(
        &mut self,
        t: i64,
        at: &Caller<'_>,
        mut lat: f64,
        mut err: f64,
        srv: &Servers,
    ) -> (f64, f64) {
        let sv = &self.c.services[at.s];
        let step_s = step_s(self);
        let now = &mut self.pods_now[at.s][at.p];
        now.dep_lat.clear();
        now.dep_err.clear();
        for d in &sv.deps {
            let (server, server_err) = match d.target {
                Target::Svc(j) => (self.ent_lat[j], self.ent_err_ratio[j]),
                Target::Store(j) => (srv.store_lat[j], srv.store_err[j]),
                Target::Vendor(j) => srv.vendors[j],
            };
            let reconnect = match d.target {
                Target::Store(j) => 1.0 + 4.0 * (1.0 - srv.conn_factor[j]),
                _ => 1.0,
            };
            let Link {
                node_rtt,
                node_err,
                net_rtt,
                net_err,
            } = at.link;
            let dl = server + d.rtt_ms * node_rtt * net_rtt * reconnect + at.sc_delay;
            // Queueing in a proxy or on a lossy link makes the latency distribution wider,
            // so more calls cross the client timeout than the mean alone suggests.
            let queued =
                (at.sc_delay + d.rtt_ms * (node_rtt * net_rtt * reconnect - 1.0)) / dl.max(1e-9);
            let to = timeout_share(dl, d.timeout_ms, 0.6 + 0.25 * queued.clamp(0.0, 1.0));
            let measured = dl * (1.0 - to) + d.timeout_ms * to;
            let calls = at.pod_rps * d.cpr;
            let ratio = (to + server_err + node_err + net_err).min(1.0);
            lat += d.cpr * measured;
            err += d.cpr.min(1.0) * ratio * ERR_PROPAGATION;
            now.dep_lat.push(measured);
            now.dep_err.push(calls * ratio);
            if at.up {
                let failed = calls * (server_err + node_err + net_err);
                self.lg
                    .dep_trouble(at.site, t, step_s, d, calls * to, failed);
            }
        }
        (lat, err)
    }
}

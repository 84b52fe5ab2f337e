//! The physics: one pass over the sampling grid turning a cluster and its fault causes into
//! every metric sample and log line.
//!
//! Per step: external arrivals flow down the call graph (callers first); each pod's CPU,
//! sidecar and memory follow its share of that traffic; latency is then built bottom-up
//! (callees first) as own processing + sidecar queueing + the latency of each call, so a
//! slow server, a lossy node or a saturated proxy reaches exactly the callers it should.

use crate::model::{LogRow, MetricRow};

use super::cluster::{Cluster, Target};
use super::effects::{Effects, Misreport, mult_of};
use super::logs::{LogGen, Site};
use super::rng::Rng;
use super::signals::{Emitter, Gap, Labels, Noise, queue, timeout_share};

/// Overload slopes of the queueing curves: the app degrades gently past saturation (its
/// worker pools bound concurrency), the proxy steeply (it queues every byte).
const APP_SLOPE: f64 = 40.0;
const SC_SLOPE: f64 = 250.0;
/// Share of a dependency's failures that surface as the caller's own errors (the rest is
/// retried or degraded gracefully).
const ERR_PROPAGATION: f64 = 0.7;

/// What one run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Metric rows.
    pub metrics: Vec<MetricRow>,
    /// Log lines.
    pub logs: Vec<LogRow>,
}

#[derive(Debug, Clone, Default)]
struct PodState {
    rss: f64,
    leak_jitter: f64,
    restarts: f64,
    down_until: i64,
    last_crash: i64,
    lat0: f64,
}

/// Per-pod values of one step, kept to aggregate to entity level.
#[derive(Debug, Clone, Default)]
struct PodNow {
    rps: f64,
    lat: f64,
    p99: f64,
    err: f64,
    workers: f64,
    dep_lat: Vec<f64>,
    dep_err: Vec<f64>,
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
    let n = c.services.len();
    let step_s = c.step_ms as f64 / 1000.0;
    let mut em = Emitter::new(rng.fork("noise"), c.step_ms, gaps);
    let mut lg = LogGen::new(rng.fork("logs"), c);
    let mut prng = rng.fork("pods");

    let base_ext: Vec<f64> = c.services.iter().map(|s| s.ext_rps).collect();
    let rps0 = traffic(c, &base_ext);
    let app_rho0: Vec<f64> = (0..n)
        .map(|s| {
            let sv = &c.services[s];
            (sv.cpu_idle + rps0[s] / sv.pods.len() as f64 * sv.cpu_per_req) / sv.app_cpu
        })
        .collect();
    let passes = |s: usize, pod_rps: f64| {
        pod_rps * (1.0 + c.services[s].deps.iter().map(|d| d.cpr).sum::<f64>())
    };
    let sc_demand0: Vec<f64> = (0..n)
        .map(|s| {
            0.02 + passes(s, rps0[s] / c.services[s].pods.len() as f64) * c.services[s].sc_per_pass
        })
        .collect();
    let mut store_load0 = vec![0.0; c.stores.len()];
    for (s, sv) in c.services.iter().enumerate() {
        for d in &sv.deps {
            if let Target::Store(k) = d.target {
                store_load0[k] += rps0[s] * d.cpr;
            }
        }
    }

    let base_off: Vec<f64> = c
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
    let mut state: Vec<Vec<PodState>> = c
        .services
        .iter()
        .map(|sv| {
            sv.pods
                .iter()
                .map(|_| PodState {
                    rss: sv.rss * prng.range(0.93, 1.07),
                    leak_jitter: prng.range(0.7, 1.3),
                    last_crash: i64::MIN / 2,
                    ..PodState::default()
                })
                .collect()
        })
        .collect();

    let mut ent_lat = vec![0.0; n];
    let mut ent_err_ratio = vec![0.0; n];
    let mut pods_now: Vec<Vec<PodNow>> = c
        .services
        .iter()
        .map(|sv| vec![PodNow::default(); sv.pods.len()])
        .collect();
    let mut node_cpu = vec![0.0; c.nodes.len()];

    for k in 0..c.steps() {
        let t = c.start_ms + k as i64 * c.step_ms;

        // 1. Arrivals: gateways pass (or drop) what users send; services add their own callers.
        let ing_drop: Vec<f64> = (0..c.ingresses.len())
            .map(|i| {
                fx.ingress
                    .iter()
                    .filter(|(j, _)| *j == i)
                    .map(|(_, f)| f.drop.add(t))
                    .sum::<f64>()
                    .min(0.95)
            })
            .collect();
        let ing_mult: Vec<f64> = c
            .ingresses
            .iter()
            .map(|i| mult_of(&fx.ext_load, &i.id, t))
            .collect();
        let mut offered = vec![0.0; n];
        let mut ext = vec![0.0; n];
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
                offered[s] = own * idx.iter().map(|&i| ing_mult[i]).sum::<f64>() / idx.len() as f64;
                ext[s] = own
                    * idx
                        .iter()
                        .map(|&i| ing_mult[i] * (1.0 - ing_drop[i]))
                        .sum::<f64>()
                    / idx.len() as f64;
            }
        }
        let rps = traffic(c, &ext);

        // 2. Storage and third parties, server side.
        let mut store_lat = vec![0.0; c.stores.len()];
        let mut store_err = vec![0.0; c.stores.len()];
        let mut store_load = vec![0.0; c.stores.len()];
        for (s, sv) in c.services.iter().enumerate() {
            for d in &sv.deps {
                if let Target::Store(k2) = d.target {
                    store_load[k2] += rps[s] * d.cpr;
                }
            }
        }
        let mut conn_factor = vec![1.0; c.stores.len()];
        for (i, st) in c.stores.iter().enumerate() {
            let ratio = store_load[i] / store_load0[i].max(1e-9);
            let f = fx.store.iter().find(|(j, _)| *j == i).map(|(_, f)| *f);
            let mut lat = st.lat_ms
                * (1.0 + 0.08 * (ratio - 1.0)).max(0.6)
                * f.map_or(1.0, |f| f.lat.mult(t));
            let mut slow = st.slow_q * ratio * f.map_or(1.0, |f| f.slow.mult(t));
            let mut cpu = st.cpu * (0.75 + 0.25 * ratio) + f.map_or(0.0, |f| f.cpu.add(t));
            if let Some(&(_, tf)) = fx.failover.iter().find(|(j, _)| *j == i) {
                let since = (t - tf) as f64 / 1000.0;
                if since >= 0.0 {
                    // The old primary's connections die at once; clients reconnect over minutes
                    // and the new primary's cold buffer pool costs latency for a while.
                    store_err[i] = if since < 45.0 {
                        0.4 * (1.0 - since / 45.0) + 0.05
                    } else {
                        0.0
                    };
                    conn_factor[i] = 0.12 + 0.88 * (since / 150.0).min(1.0);
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
                .filter(|(_, sv)| sv.deps.iter().any(|d| d.target == Target::Store(i)))
                .map(|(s, sv)| {
                    sv.pods.len() as f64
                        * st.pool
                        * (0.85 + 0.15 * (rps[s] / rps0[s].max(1e-9)).min(3.0))
                })
                .sum::<f64>()
                * conn_factor[i];
            store_lat[i] = lat;
            let l = Labels::entity(&st.id);
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
        let vend: Vec<(f64, f64)> = c
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
        let (net_rtt, net_err) = fx
            .network
            .map_or((1.0, 0.0), |f| (f.rtt.mult(t), f.err.add(t)));

        // 3. Services, callees first, so a caller sees this step's latency of what it calls.
        node_cpu.iter_mut().for_each(|x| *x = 0.0);
        for s in (0..n).rev() {
            let sv = &c.services[s];
            let alive: Vec<bool> = state[s].iter().map(|p| t >= p.down_until).collect();
            let live = alive.iter().filter(|a| **a).count().max(1) as f64;
            let code = fx.code.iter().find(|(j, _)| *j == s).map(|(_, f)| *f);
            let leak = fx.leak.iter().find(|(j, _)| *j == s).map(|(_, f)| *f);
            let cpu_cost = mult_of(&fx.cpu_cost, &s, t);
            let sc_cost = mult_of(&fx.sc_cost, &s, t);
            let blip = mult_of(&fx.blip, &s, t);
            for (p, pod) in sv.pods.iter().enumerate() {
                let node = pod.node;
                let site = Site {
                    sv,
                    pod,
                    node: &c.nodes[node],
                };
                let nf = fx.node.iter().find(|(j, _)| *j == node).map(|(_, f)| *f);
                let pf = fx.pod.iter().find(|(j, _)| *j == (s, p)).map(|(_, f)| *f);
                let st = &mut state[s][p];
                let up = alive[p] || live == 0.0;
                let pod_rps = if up { rps[s] / live } else { 0.0 };
                let mut crash_err = 0.0;
                if let Some(pf) = pf {
                    if let Some(every) = pf.crash_every {
                        if pf.lat.ramp.level(t) > 0.5 && up && t - st.last_crash >= every {
                            st.last_crash = t;
                            st.restarts += 1.0;
                            st.down_until = t + c.step_ms + 20_000;
                            crash_err = 0.2;
                            lg.crash(site, t);
                        }
                    }
                }
                // Resources.
                let demand = sv.cpu_idle + pod_rps * sv.cpu_per_req * cpu_cost;
                let app_rho = demand / sv.app_cpu;
                let cpu_used = demand.min(sv.app_cpu);
                let pass = passes(s, pod_rps);
                let sc_dem = 0.02 + pass * sv.sc_per_pass * sc_cost;
                let sc_rho = sc_dem / sv.sc_cpu;
                let sc_used = sc_dem.min(sv.sc_cpu);
                node_cpu[node] += cpu_used + sc_used;
                if let Some(lk) = leak {
                    if t >= lk.start && up {
                        st.rss += lk.bytes_per_s * st.leak_jitter * step_s * prng.range(0.6, 1.4);
                    }
                }
                if st.rss >= sv.app_mem * 0.995 {
                    // The kernel OOM-kills the app; the pod restarts with a fresh heap.
                    st.rss = sv.rss * prng.range(0.9, 1.0);
                    st.restarts += 1.0;
                    st.down_until = t + c.step_ms + prng.int(10_000, 30_000);
                    crash_err = 0.25;
                    lg.oom(site, t);
                }
                let mem_frac = st.rss / sv.app_mem;
                let gc = if mem_frac > 0.8 {
                    1.0 + 20.0 * (mem_frac - 0.8)
                } else {
                    1.0
                };

                // Latency, bottom-up.
                let own = sv.proc_ms
                    * (0.5 + 0.5 * queue(app_rho, APP_SLOPE) / queue(app_rho0[s], APP_SLOPE))
                    * nf.map_or(1.0, |f| f.lat.mult(t))
                    * code.map_or(1.0, |f| f.lat.mult(t))
                    * gc
                    * blip;
                let sd = sv.sc_delay_ms * queue(sc_rho, SC_SLOPE)
                    / queue(sc_demand0[s] / sv.sc_cpu, SC_SLOPE);
                let node_rtt = nf.map_or(1.0, |f| f.rtt.mult(t));
                let node_err = nf.map_or(0.0, |f| f.err.add(t));
                let mut lat = own + sd;
                let mut err_ratio = sv.base_err
                    + code.map_or(0.0, |f| f.err.add(t))
                    + pf.map_or(0.0, |f| f.err.add(t))
                    + crash_err;
                let now = &mut pods_now[s][p];
                now.dep_lat.clear();
                now.dep_err.clear();
                for d in &sv.deps {
                    let (server, server_err) = match d.target {
                        Target::Svc(j) => (ent_lat[j], ent_err_ratio[j]),
                        Target::Store(j) => (store_lat[j], store_err[j]),
                        Target::Vendor(j) => vend[j],
                    };
                    let reconnect = match d.target {
                        Target::Store(j) => 1.0 + 4.0 * (1.0 - conn_factor[j]),
                        _ => 1.0,
                    };
                    let dl = server + d.rtt_ms * node_rtt * net_rtt * reconnect + sd;
                    // Queueing in a proxy or on a lossy link makes the latency distribution wider,
                    // so more calls cross the client timeout than the mean alone suggests.
                    let queued =
                        (sd + d.rtt_ms * (node_rtt * net_rtt * reconnect - 1.0)) / dl.max(1e-9);
                    let to = timeout_share(dl, d.timeout_ms, 0.6 + 0.25 * queued.clamp(0.0, 1.0));
                    let measured = dl * (1.0 - to) + d.timeout_ms * to;
                    let calls = pod_rps * d.cpr;
                    let ratio = (to + server_err + node_err + net_err).min(1.0);
                    lat += d.cpr * measured;
                    err_ratio += d.cpr.min(1.0) * ratio * ERR_PROPAGATION;
                    now.dep_lat.push(measured);
                    now.dep_err.push(calls * ratio);
                    if up {
                        lg.dep_trouble(
                            site,
                            t,
                            step_s,
                            d,
                            calls * to,
                            calls * (server_err + node_err + net_err),
                        );
                    }
                }
                // A sick replica (stuck GC, bad disk, leaked threads) is slow at everything it
                // does, waiting on its own calls included.
                lat *= pf.map_or(1.0, |f| f.lat.mult(t));
                let err_ratio = err_ratio.min(1.0);
                if k == 0 {
                    st.lat0 = lat;
                }
                let p99 = lat * sv.tail * (1.0 + 0.12 * (lat / st.lat0.max(1e-9)).max(1.0).ln());
                now.rps = pod_rps;
                now.lat = lat;
                now.p99 = p99;
                now.err = pod_rps * err_ratio;
                now.workers = sv.idle_workers + sv.workers_per_req * pod_rps * lat / 1000.0;
                if up {
                    lg.normal(site, t, step_s, lat);
                    lg.app_errors(
                        site,
                        t,
                        step_s,
                        pod_rps
                            * (code.map_or(0.0, |f| f.err.add(t))
                                + pf.map_or(0.0, |f| f.err.add(t))),
                        code.is_some(),
                    );
                    if lat > 4.0 * st.lat0 {
                        lg.slow(site, t, step_s, lat);
                    }
                }

                // Emit the pod's series.
                let node_name = &c.nodes[node].name;
                let pl = Labels::pod(&sv.name, &pod.name, node_name);
                if up {
                    em.emit(k, t, "requests_per_s", pl, pod_rps, Noise::Rate);
                    em.emit(k, t, "errors_per_s", pl, now.err, Noise::Rate);
                    em.emit(k, t, "latency_avg_ms", pl, lat, Noise::Gauge(0.05));
                    em.emit(k, t, "latency_p99_ms", pl, p99, Noise::Gauge(0.09));
                    if sv.go {
                        em.emit(
                            k,
                            t,
                            "goroutines",
                            pl,
                            now.workers.round(),
                            Noise::Gauge(0.03),
                        );
                    }
                    for (i, d) in sv.deps.iter().enumerate() {
                        let dl = pl.target(&d.id);
                        em.emit(
                            k,
                            t,
                            "dep_latency_ms",
                            dl,
                            now.dep_lat[i],
                            Noise::Gauge(0.07),
                        );
                        em.emit(k, t, "dep_errors_per_s", dl, now.dep_err[i], Noise::Rate);
                    }
                }
                let app = pl.container("app").source("cadvisor");
                em.emit(
                    k,
                    t,
                    "cpu_cores",
                    app,
                    if up { cpu_used } else { 0.01 },
                    Noise::Gauge(0.04),
                );
                em.emit(k, t, "cpu_limit_cores", app, sv.app_cpu, Noise::Exact);
                em.emit(k, t, "mem_rss_bytes", app, st.rss, Noise::Gauge(0.01));
                if c.report_cache {
                    em.emit(k, t, "mem_cache_bytes", app, sv.cache, Noise::Gauge(0.04));
                }
                em.emit(k, t, "mem_limit_bytes", app, sv.app_mem, Noise::Exact);
                em.emit(
                    k,
                    t,
                    "restarts",
                    pl.container("app"),
                    st.restarts,
                    Noise::Exact,
                );
                let sc = pl.container("sidecar").source("cadvisor");
                let sc_val = em
                    .measure(sc_used, Noise::Gauge(0.04))
                    .min(sv.sc_cpu * 1.01);
                em.emit(k, t, "cpu_cores", sc, sc_val, Noise::Exact);
                em.emit(k, t, "cpu_limit_cores", sc, sv.sc_cpu, Noise::Exact);
                if c.report_sidecar_mem {
                    em.emit(
                        k,
                        t,
                        "mem_rss_bytes",
                        sc,
                        sv.sc_rss
                            * (1.0
                                + 0.15
                                    * (pod_rps / (rps0[s] / sv.pods.len() as f64)).ln().max(0.0)),
                        Noise::Gauge(0.02),
                    );
                    em.emit(k, t, "mem_limit_bytes", sc, sv.sc_mem, Noise::Exact);
                }
                for m in &fx.misreport {
                    if let Misreport::SidecarCapped(j) = m {
                        if *j == s {
                            // This collector's estimate never leaves the baseline neighbourhood.
                            let v = sc_used.min(sc_demand0[s] * 1.05);
                            em.emit(
                                k,
                                t,
                                "cpu_cores",
                                pl.container("sidecar").source("mesh-dashboard"),
                                v,
                                Noise::Gauge(0.04),
                            );
                        }
                    }
                }
            }
            // Entity level.
            let now = &pods_now[s];
            let tot: f64 = now.iter().map(|p| p.rps).sum();
            let wsum = tot.max(1e-9);
            let lat = now.iter().map(|p| p.rps * p.lat).sum::<f64>() / wsum;
            let p99w = now.iter().map(|p| p.rps * p.p99).sum::<f64>() / wsum;
            let p99max = now
                .iter()
                .filter(|p| p.rps > 0.0)
                .map(|p| p.p99)
                .fold(0.0, f64::max);
            let err: f64 = now.iter().map(|p| p.err).sum();
            ent_lat[s] = lat;
            ent_err_ratio[s] = (err / wsum).min(1.0);
            let el = Labels::entity(&sv.name);
            em.emit(k, t, "requests_per_s", el, tot, Noise::Rate);
            em.emit(k, t, "errors_per_s", el, err, Noise::Rate);
            em.emit(k, t, "latency_avg_ms", el, lat, Noise::Gauge(0.04));
            em.emit(
                k,
                t,
                "latency_p99_ms",
                el,
                0.5 * p99w + 0.5 * p99max,
                Noise::Gauge(0.07),
            );
            if sv.go {
                em.emit(
                    k,
                    t,
                    "goroutines",
                    el,
                    now.iter().map(|p| p.workers).sum::<f64>().round(),
                    Noise::Gauge(0.02),
                );
            }
            for (i, d) in sv.deps.iter().enumerate() {
                let dl = now.iter().map(|p| p.rps * p.dep_lat[i]).sum::<f64>() / wsum;
                let de: f64 = now.iter().map(|p| p.dep_err[i]).sum();
                em.emit(
                    k,
                    t,
                    "dep_latency_ms",
                    el.target(&d.id),
                    dl,
                    Noise::Gauge(0.05),
                );
                em.emit(k, t, "dep_errors_per_s", el.target(&d.id), de, Noise::Rate);
            }
        }

        // 4. Gateways: their own latency plus that of the services they front.
        for (i, ing) in c.ingresses.iter().enumerate() {
            let f = fx.ingress.iter().find(|(j, _)| *j == i).map(|(_, f)| *f);
            let own = ing.proc_ms * f.map_or(1.0, |f| f.lat.mult(t));
            let (mut off, mut w, mut lat, mut p99, mut err) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (s, sv) in c.services.iter().enumerate() {
                if sv.entry.contains(&ing.id) {
                    let share = 1.0 / sv.entry.len() as f64;
                    let o = offered[s] * share;
                    let served = o * (1.0 - ing_drop[i]);
                    off += o;
                    w += served;
                    lat += served * ent_lat[s];
                    p99 += served * ent_lat[s] * sv.tail;
                    err += o * ing_drop[i] + served * ent_err_ratio[s];
                }
            }
            let l = Labels::entity(&ing.id);
            em.emit(k, t, "requests_per_s", l, off, Noise::Rate);
            em.emit(k, t, "errors_per_s", l, err, Noise::Rate);
            // Gateway latency is its own time (upstream time excluded, as Envoy's
            // `downstream - upstream` split reports it): backends answer for their own.
            let _ = (w, lat, p99);
            let load = off / base_off[i].max(1e-9);
            let own = own * (1.0 + 0.05 * (load - 1.0).max(0.0));
            em.emit(k, t, "latency_avg_ms", l, own, Noise::Gauge(0.05));
            em.emit(k, t, "latency_p99_ms", l, own * 3.5, Noise::Gauge(0.08));
        }

        // 5. Nodes.
        for (i, nd) in c.nodes.iter().enumerate() {
            let f = fx.node.iter().find(|(j, _)| *j == i).map(|(_, f)| *f);
            let cpu = (nd.system_cores + node_cpu[i]) / nd.cores + f.map_or(0.0, |f| f.cpu.add(t));
            let ne = nd.net_err
                + f.map_or(0.0, |f| f.net_err.add(t))
                + fx.network.map_or(0.0, |f| f.node_err.add(t));
            let id = format!("node:{}", nd.name);
            let l = Labels {
                node: Some(&nd.name),
                ..Labels::entity(&id)
            };
            em.emit(k, t, "cpu_utilization", l, cpu.min(1.0), Noise::Ratio(0.02));
            em.emit(k, t, "net_errors_per_s", l, ne, Noise::Rate);
            for m in &fx.misreport {
                if let Misreport::NodeCpuScaled {
                    node,
                    source,
                    factor,
                } = m
                {
                    if *node == i {
                        em.emit(
                            k,
                            t,
                            "cpu_utilization",
                            l.source(source),
                            (cpu * factor).min(1.0),
                            Noise::Ratio(0.02),
                        );
                    }
                }
            }
        }
    }
    Outcome {
        metrics: em.rows,
        logs: lg.rows,
    }
}

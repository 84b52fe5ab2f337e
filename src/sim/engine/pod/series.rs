//! The series one service's step emits: each pod's traffic, latency and resources, and the
//! service-level aggregates its callers read.

use super::super::super::effects::Misreport;
use super::super::super::signals::{Labels, Noise};
use super::{Resources, Sim};

impl Sim<'_> {
    /// The pod's series: traffic and latency while it is up, resources always.
    pub(super) fn pod_series(
        &mut self,
        k: usize,
        t: i64,
        s: usize,
        p: usize,
        up: bool,
        res: &Resources,
    ) {
        let c = self.c;
        let (sv, pod) = (&c.services[s], &c.services[s].pods[p]);
        let pl = Labels::pod(&sv.name, &pod.name, &c.nodes[pod.node].name);
        if up {
            self.pod_traffic(k, t, (s, p), pl);
        }
        self.pod_resources(k, t, (s, p), pl, (up, res));
    }

    /// Traffic, latency and dependency calls of a pod that is up.
    fn pod_traffic(&mut self, k: usize, t: i64, (s, p): (usize, usize), pl: Labels<'_>) {
        let sv = &self.c.services[s];
        let now = &self.pods_now[s][p];
        let em = &mut self.em;
        em.emit(k, t, "requests_per_s", pl, now.rps, Noise::Rate);
        em.emit(k, t, "errors_per_s", pl, now.err, Noise::Rate);
        em.emit(k, t, "latency_avg_ms", pl, now.lat, Noise::Gauge(0.05));
        em.emit(k, t, "latency_p99_ms", pl, now.p99, Noise::Gauge(0.09));
        if sv.go {
            let goroutines = now.workers.round();
            em.emit(k, t, "goroutines", pl, goroutines, Noise::Gauge(0.03));
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

    /// CPU, memory, limits and restarts of the app and the sidecar, up or not.
    fn pod_resources(
        &mut self,
        k: usize,
        t: i64,
        (s, p): (usize, usize),
        pl: Labels<'_>,
        (up, res): (bool, &Resources),
    ) {
        let c = self.c;
        let sv = &c.services[s];
        let now = &self.pods_now[s][p];
        let em = &mut self.em;
        let st = &self.state[s][p];
        let app = pl.container("app").source("cadvisor");
        let cpu = if up { res.cpu_used } else { 0.01 };
        em.emit(k, t, "cpu_cores", app, cpu, Noise::Gauge(0.04));
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
            .measure(res.sc_used, Noise::Gauge(0.04))
            .min(sv.sc_cpu * 1.01);
        em.emit(k, t, "cpu_cores", sc, sc_val, Noise::Exact);
        em.emit(k, t, "cpu_limit_cores", sc, sv.sc_cpu, Noise::Exact);
        if c.report_sidecar_mem {
            let load = now.rps / (self.base.rps[s] / sv.pods.len() as f64);
            let rss = sv.sc_rss * (1.0 + 0.15 * load.ln().max(0.0));
            em.emit(k, t, "mem_rss_bytes", sc, rss, Noise::Gauge(0.02));
            em.emit(k, t, "mem_limit_bytes", sc, sv.sc_mem, Noise::Exact);
        }
        for m in &self.fx.misreport {
            if matches!(m, Misreport::SidecarCapped(j) if *j == s) {
                // This collector's estimate never leaves the baseline neighbourhood.
                let v = res.sc_used.min(self.base.sc_demand[s] * 1.05);
                let dash = pl.container("sidecar").source("mesh-dashboard");
                em.emit(k, t, "cpu_cores", dash, v, Noise::Gauge(0.04));
            }
        }
    }

    /// The service's own series, aggregated from its pods (latency weighted by traffic).
    pub(super) fn service_series(&mut self, k: usize, t: i64, s: usize) {
        let sv = &self.c.services[s];
        let now = &self.pods_now[s];
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
        self.ent_lat[s] = lat;
        self.ent_err_ratio[s] = (err / wsum).min(1.0);
        let el = Labels::entity(&sv.name);
        let em = &mut self.em;
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
            let workers = now.iter().map(|p| p.workers).sum::<f64>().round();
            em.emit(k, t, "goroutines", el, workers, Noise::Gauge(0.02));
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
}

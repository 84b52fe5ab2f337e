"""The healthy physics of the cluster, tick by tick, with a fault's Mods on top.

Traffic flows down the call graph; CPU demand follows traffic; service time grows with
utilisation (queueing) and explodes past a limit (throttling); latency flows back up the graph
as callers wait for their dependencies; failures propagate to callers as errors; memory leaks
end in OOM kills; nodes sum their pods. Output: true (noise-free) series per tick, plus the
error causes per pod for the log writer.
"""

import math

from cluster import nominal_rps
from mods import Mods

TICK_S = 10


def cong(rho):
    """Service-time multiplier at utilisation rho: queueing below saturation, then a backlog
    that callers' timeouts bound (cong(0.3) = 1)."""
    if rho < 0.9:
        return 0.7 / (1.0 - rho)
    return min(40.0, 7.0 + 30.0 * (rho - 0.9))


class Sim:
    def __init__(self, rng, cluster, n_ticks, t0_epoch, faults):
        self.rng, self.c, self.n, self.t0 = rng, cluster, n_ticks, t0_epoch
        self.faults = faults
        self.out = {}  # (entity, metric, pod, node, container, target) -> [value per tick]
        self.causes = {}  # (service, pod) -> [dict cause -> errors/s per tick]
        self.nominal = nominal_rps(cluster)
        self.phase = rng.uniform(0, 24)
        self.amp = rng.uniform(0.1, 0.45)
        self.ar = {s.name: 1.0 for s in cluster.services}
        self.pod_state = {}
        self.timeout_ms = {s.name: rng.choice([1000.0, 2000.0, 3000.0, 5000.0])
                           for s in cluster.services}
        self.pool = {s.name: rng.choice([5, 10, 10, 20]) for s in cluster.services}
        self.sc_ms = {s.name: rng.uniform(0.3, 1.2) for s in cluster.services}
        self.ingress_ms = {g: rng.uniform(0.5, 4.0) for g in cluster.ingresses}

    def put(self, key, t, v):
        col = self.out.get(key)
        if col is None:
            col = self.out[key] = [None] * self.n
        col[t] = v

    def diurnal(self, t):
        hour = ((self.t0 + t * TICK_S) / 3600.0) % 24
        return 1.0 + self.amp * math.sin(2 * math.pi * (hour - self.phase) / 24)

    def run(self):
        for t in range(self.n):
            m = Mods()
            for f in self.faults:
                f(t, m)
            self.step(t, m)
        return self

    def step(self, t, m):
        rps = self.traffic(t, m)
        live = self.live_pods(t, m)
        pods = self.pod_load(t, m, rps, live)
        store = self.storage(t, m, rps)
        lat = self.latencies(t, m, pods, store)
        self.services_out(t, pods, lat)
        self.nodes_out(t, m, pods)
        self.ingress_out(t, m, lat)

    def traffic(self, t, m):
        c, d, rps = self.c, self.diurnal(t), {}
        self.ext = {}
        for s in c.services:
            if s.entry:
                self.ar[s.name] = 1 + 0.6 * (self.ar[s.name] - 1) + self.rng.gauss(0, 0.02)
                mult = m.ext_mult.get(s.name, 1.0)
                mult *= sum(m.ingress_ext.get(g, 1.0) for g in s.entry) / len(s.entry)
                ext = s.ext_rps * d * self.ar[s.name] * mult
                rej = sum(m.ingress_err.get(g, 0.0) for g in s.entry) / len(s.entry)
                self.ext[s.name] = ext
                rps[s.name] = ext * (1 - rej)
            else:
                rps[s.name] = 0.0
        for s in c.services:
            for dep, calls in s.deps:
                if dep in rps:
                    rps[dep] += rps[s.name] * calls * m.calls.get((s.name, dep), 1.0)
        self.rps = rps
        return rps

    def live_pods(self, t, m):
        live = {}
        for s in self.c.services:
            up = []
            for p in s.pods:
                if not (p.start <= t < p.end):
                    continue
                st = self.pod_state.setdefault(p.name, {"restarts": 0, "down": 0, "leak": 0.0,
                                                         "run": 0})
                if p.name in m.crashloop and st["down"] == 0:
                    st["run"] += 1
                    if st["run"] > self.rng.randint(3, 8):
                        st["down"], st["run"] = self.rng.randint(3, 9), 0
                        st["restarts"] += 1
                if st["down"] > 0:
                    st["down"] -= 1
                    self.put((s.name, "restarts", p.name, p.node, "app", None), t,
                             float(st["restarts"]))
                    continue
                up.append(p)
            live[s.name] = up
        return live

    def pod_load(self, t, m, rps, live):
        """Per live pod: traffic share, CPU demand and usage, sidecar, memory, OOM kills."""
        node_dem = {n: m.node_bg.get(n, 0.0) + 0.3 for n in self.c.nodes}
        rows = []
        for s in self.c.services:
            up = live[s.name]
            wsum = sum(p.weight for p in up) or 1.0
            for p in up:
                r = rps[s.name] * p.weight / wsum
                st = self.pod_state[p.name]
                st["leak"] += m.leak.get(s.name, 0.0) * TICK_S * p.weight
                nom = self.nominal[s.name] / max(1, len(s.pods))
                rss = s.mem_base * (0.95 + 0.08 * min(3.0, r / max(nom, 1e-9))) + st["leak"]
                gc = max(0.0, rss / s.mem_limit - 0.85) / 0.15
                dem = (s.cpu_idle + s.cpu_per_req * r * m.cpu_cost.get(s.name, 1.0)
                       + m.cpu_add.get(s.name, 0.0) + gc * 0.4 * s.cpu_limit)
                sc = 0.02 + s.sc_per_req * r * m.sc_cost.get(s.name, 1.0) if s.sidecar else 0
                node_dem[p.node] += min(dem, s.cpu_limit) + min(sc, s.sc_limit or sc)
                rows.append([s, p, r, dem, sc, rss, gc])
        steal = {n: min(1.0, cores / node_dem[n]) for n, cores in self.c.nodes.items()}
        self.node_dem = node_dem
        pods = {}
        for s, p, r, dem, sc, rss, gc in rows:
            st = self.pod_state[p.name]
            cap = s.cpu_limit * steal[p.node]  # a contended node shares its cores out
            oom = rss >= s.mem_limit * 0.98
            if oom:  # killed; the restarted process reloads its working set and leaks again
                st["down"] = self.rng.randint(3, 6)
                st["leak"] = 0.5 * max(0.0, s.mem_limit - s.mem_base) * self.rng.uniform(0.8, 1)
                st["restarts"] += 1
                rss = s.mem_limit * 0.98
            pods.setdefault(s.name, []).append({
                "pod": p, "rps": r, "rho": dem / cap, "cpu": min(dem, cap),
                "sc": min(sc, s.sc_limit) if s.sidecar else None,
                "sc_rho": sc / s.sc_limit if s.sidecar else 0.0, "rss": rss, "gc": gc,
                "oom": oom,
                "restarts": st["restarts"]})
        return pods

    def storage(self, t, m, rps):
        load, load0, clients = {}, {}, {}
        for s in self.c.services:
            for dep, calls in s.deps:
                if dep in self.c.storages:
                    k = calls * m.calls.get((s.name, dep), 1.0)
                    load[dep] = load.get(dep, 0.0) + rps[s.name] * k
                    load0[dep] = load0.get(dep, 0.0) + self.nominal[s.name] * calls
                    clients[dep] = clients.get(dep, 0) + len(s.pods) * self.pool[s.name]
        res = {}
        for sid, st in self.c.storages.items():
            x = load.get(sid, 0.0) / max(load0.get(sid, 1.0), 1e-9)
            util = min(1.0, st.base_util * x + m.store_util.get(sid, 0.0))
            lat = st.base_ms * (1 + 0.3 * max(0.0, x - 1)) * m.store_lat.get(sid, 1.0)
            if util > 0.9:
                lat *= 1 + (util - 0.9) * 30
            keep = m.store_conn.get(sid, 1.0)
            conn = clients.get(sid, 5) * min(4.0, 1 + 0.25 * (lat / st.base_ms - 1)) * keep
            slow = st.slow_q * x + max(0.0, lat / st.base_ms - 3) * 0.4
            err = m.store_err.get(sid, 0.0)
            res[sid] = (lat, err)
            self.put((sid, "server_latency_ms", None, None, None, None), t, lat)
            self.put((sid, "cpu_utilization", None, None, None, None), t, util)
            self.put((sid, "connections", None, None, None, None), t, round(conn))
            self.put((sid, "slow_queries_per_s", None, None, None, None), t, slow)
        for vid, base in self.c.vendors.items():
            res[vid] = (base * m.vendor_lat.get(vid, 1.0), m.vendor_err.get(vid, 0.0))
        return res

    def latencies(self, t, m, pods, store):
        """Per pod latency and error fraction, leaves first (deps have higher indices)."""
        svc_lat = {}
        for s in reversed(self.c.services):
            plist = pods.get(s.name, [])
            for q in plist:
                self.pod_latency(t, m, s, q, svc_lat, store)
            w = sum(q["rps"] for q in plist) or 1.0
            avg = sum(q["lat"] * q["rps"] for q in plist) / w if plist else None
            fail = sum(q["err"] * q["rps"] for q in plist) / w if plist else 1.0
            svc_lat[s.name] = (avg if avg is not None else self.timeout_ms[s.name], fail)
        self.pods = pods
        return svc_lat

    def pod_latency(self, t, m, s, q, svc_lat, store):
        p = q["pod"]
        blip = m.blip.get(s.name, 1.0)
        own = s.own_ms * cong(q["rho"]) / cong(0.3) * m.lat_mult.get(s.name, 1.0) * blip
        own *= m.pod_lat.get(p.name, 1.0) * (1 + 3 * min(1.0, q["gc"]))  # GC pauses
        sc_d = self.sc_ms[s.name] * cong(q["sc_rho"]) / cong(0.3) if s.sidecar else 0.0
        net_fail = m.net_err + m.node_net.get(p.node, 0.0)
        total, fail = own + sc_d, s.err_rate + m.err_add.get(s.name, 0.0)
        fail += m.pod_err.get(p.name, 0.0) + max(0.0, q["rho"] - 1.05) * 0.25
        fail += 0.5 if q["oom"] else 0.0  # requests in flight when the pod was killed
        causes = {}
        deps = {}
        for dep, calls in s.deps:
            k = calls * m.calls.get((s.name, dep), 1.0)
            base, dfail = svc_lat.get(dep) or store.get(dep)
            dl = base + self.c.rtt_ms + m.net_lat + sc_d + net_fail * 400
            to = self.timeout_ms[s.name]
            tfrac = min(1.0, max(0.0, (dl - to * 0.6) / to))
            dl = min(dl, to)
            dfail = min(1.0, dfail + net_fail + tfrac)
            deps[dep] = (dl, q["rps"] * k * dfail)
            # a request's usual calls to one dependency go out in parallel; calls a fault
            # multiplies (an N+1 query loop) queue one after the other
            total += min(1.0, calls) * dl * m.calls.get((s.name, dep), 1.0)
            f = min(1.0, min(1.0, k) * dfail)
            fail += f
            if f > 0.0005:
                causes[dep] = q["rps"] * f
        q["lat"], q["err"], q["deps"] = total, min(1.0, fail), deps
        own_f = fail - sum(causes.values()) / max(q["rps"], 1e-9)
        causes["self"] = max(0.0, own_f) * q["rps"]
        self.causes.setdefault((s.name, p.name), [None] * self.n)[t] = causes

    def services_out(self, t, pods, lat):
        for s in self.c.services:
            plist = pods.get(s.name, [])
            if not plist:
                continue
            for q in plist:
                p = q["pod"]
                a = (s.name, p.name, p.node)
                tail = s.tail * (1 + 0.3 * min(1.0, q["rho"]))
                self.put((s.name, "requests_per_s", p.name, p.node, "app", None), t, q["rps"])
                self.put((s.name, "errors_per_s", p.name, p.node, "app", None), t,
                         q["rps"] * q["err"])
                self.put((s.name, "latency_avg_ms", p.name, p.node, "app", None), t, q["lat"])
                self.put((s.name, "latency_p99_ms", p.name, p.node, "app", None), t,
                         q["lat"] * tail)
                gr = s.goroutine_base + q["rps"] * q["lat"] / 1000.0 * 1.5
                self.put((s.name, "goroutines", p.name, p.node, "app", None), t, gr)
                self.put((s.name, "cpu_cores", *a[1:], "app", None), t, q["cpu"])
                self.put((s.name, "cpu_limit_cores", *a[1:], "app", None), t, s.cpu_limit)
                self.put((s.name, "mem_rss_bytes", *a[1:], "app", None), t, q["rss"])
                self.put((s.name, "mem_cache_bytes", *a[1:], "app", None), t, s.mem_base * 0.3)
                self.put((s.name, "mem_limit_bytes", *a[1:], "app", None), t, s.mem_limit)
                self.put((s.name, "restarts", *a[1:], "app", None), t, float(q["restarts"]))
                if s.sidecar:
                    self.put((s.name, "cpu_cores", *a[1:], "sidecar", None), t, q["sc"])
                    self.put((s.name, "cpu_limit_cores", *a[1:], "sidecar", None), t,
                             s.sc_limit)
                for dep, (dl, derr) in q["deps"].items():
                    self.put((s.name, "dep_latency_ms", *a[1:], "app", dep), t, dl)
                    self.put((s.name, "dep_errors_per_s", *a[1:], "app", dep), t, derr)
            w = sum(q["rps"] for q in plist)
            avg, fail = lat[s.name]
            worst = max(q["lat"] * s.tail * (1 + 0.3 * min(1.0, q["rho"])) for q in plist)
            mean99 = sum(q["lat"] * s.tail * q["rps"] for q in plist) / max(w, 1e-9)
            self.put((s.name, "requests_per_s", None, None, None, None), t, w)
            self.put((s.name, "errors_per_s", None, None, None, None), t, w * fail)
            self.put((s.name, "latency_avg_ms", None, None, None, None), t, avg)
            self.put((s.name, "latency_p99_ms", None, None, None, None), t,
                     0.75 * worst + 0.25 * mean99)

    def nodes_out(self, t, m, pods):
        for n, cores in self.c.nodes.items():
            used = m.node_bg.get(n, 0.0) + 0.3
            for plist in pods.values():
                for q in plist:
                    if q["pod"].node == n:
                        used += q["cpu"] + (q["sc"] or 0.0)
            err = 0.02 + (m.net_err + m.node_net.get(n, 0.0)) * 200
            self.put(("node:" + n, "cpu_utilization", None, None, None, None), t,
                     min(1.0, used / cores))
            self.put(("node:" + n, "net_errors_per_s", None, None, None, None), t, err)

    def ingress_out(self, t, m, lat):
        for g in self.c.ingresses:
            rps = err = wl = 0.0
            for s in self.c.services:
                if g in s.entry:
                    share = self.ext[s.name] / len(s.entry)
                    avg, fail = lat[s.name]
                    rej = m.ingress_err.get(g, 0.0)
                    rps += share
                    err += share * (rej + (1 - rej) * fail)
                    wl += share * avg
            if rps <= 0:
                continue
            own = self.ingress_ms[g] + m.ingress_lat.get(g, 0.0)
            avg = own + wl / rps
            self.put((g, "requests_per_s", None, None, None, None), t, rps)
            self.put((g, "errors_per_s", None, None, None, None), t, err)
            self.put((g, "latency_avg_ms", None, None, None, None), t, avg)
            self.put((g, "latency_p99_ms", None, None, None, None), t, avg * 3.0)

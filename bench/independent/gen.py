#!/usr/bin/env python3
"""Independent incident-archive generator for funnel (archive format v1).

usage: python3 gen.py --out DIR --seeds 1..4 [--kinds redis,pod,...]
Writes DIR/<kind>-<seed>/ for every kind (13 root-cause kinds + "none"), each with
incident.toml ([expected] = the injected cause), metrics/, events/ and sometimes logs/.
The model: a call graph of services (pods on nodes, optional mesh sidecars) behind an
ingress, sharing mysql/redis instances and calling http vendors. Latency is computed
leaves-first (own work + calls x measured dependency latency), errors propagate upward,
CPU/memory follow traffic, and one fault is injected at its source.
"""
import argparse, os, shutil, zlib
from datetime import datetime, timezone
import numpy as np, pyarrow as pa, pyarrow.parquet as pq

KINDS = ["traffic-spike", "cpu-saturation", "memory-pressure", "code-change", "mysql", "redis",
         "storage-failover", "ingress", "sidecar", "pod", "node", "network", "third-party", "none"]
WORDS = ["checkout", "orders", "payments", "cart", "catalog", "search", "users", "auth", "inventory",
         "shipping", "pricing", "reviews", "recommend", "notify", "profile", "billing", "media", "feed",
         "session", "ledger", "coupon", "geo", "live", "gift", "chat", "wallet", "rank", "comments"]
DBN = ["orders-db", "main", "core", "accounts", "shared", "live-db", "tx", "catalog-db", "primary"]
RDN = ["session-cache", "main", "live-cache", "hot", "rate-limit", "feed-cache", "shared-cache"]
VEN = ["gift-vendor", "sms-gateway", "payment-vendor", "geo-provider", "kyc-partner", "mail-relay", "push-vendor"]
ING = ["public-gw", "nginx-ingress", "edge", "istio-ingressgateway", "api-gateway"]
RES = ["order", "user", "item", "cart", "session", "room", "gift", "invoice", "coupon", "feed"]
MIB = 1 << 20


def U(rng, a, b):
    return float(rng.uniform(a, b))


def iso(sec):
    return datetime.fromtimestamp(int(round(sec)), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rid(rng, n, alpha="bcdfghjklmnpqrstvwxz2456789"):
    return "".join(rng.choice(list(alpha), n))


# ----------------------------------------------------------------------------- topology
def build(rng, kind, t):
    N = len(t)
    n = int(rng.integers(4, 10))
    fmts = [lambda w: w, lambda w: "svc-" + w, lambda w: w + "_api", lambda w: w + "-service", lambda w: w + "-api"]
    style, mixed = int(rng.integers(0, 5)), rng.random() < 0.25
    svcs = [fmts[int(rng.integers(0, 5)) if mixed else style](str(w)) for w in rng.choice(WORDS, n, replace=False)]
    T = dict(svcs=svcs, step=None, sts=rng.random() < 0.2, deps={s: {} for s in svcs}, svc={}, stor={}, vend={})
    T["entries"] = svcs[:2] if n >= 6 and rng.random() < 0.35 else svcs[:1]
    ne = len(T["entries"])

    def edge(a, b):
        if b.startswith("redis:"):
            c, q, pe = U(rng, 1, 5), U(rng, 0.4, 0.9), U(rng, 0.3, 0.9)
        elif b.startswith("mysql:"):
            c, q, pe = U(rng, 0.5, 3), U(rng, 0.7, 1), U(rng, 0.8, 1)
        elif b.startswith("http:"):
            c, q, pe = U(rng, 0.1, 0.6), U(rng, 0.8, 1), U(rng, 0.5, 1)
        else:
            c, q, pe = U(rng, 0.4, 1.5), U(rng, 0.6, 1), U(rng, 0.6, 1)
        T["deps"][a][b] = dict(calls=c, seq=q, pe=pe, timeout=None)

    for i in range(ne, n):                      # every non-entry service has a caller earlier in the list
        edge(svcs[int(rng.integers(0, i))], svcs[i])
    for i in range(n):
        for j in range(max(i + 1, ne), n):
            if svcs[j] not in T["deps"][svcs[i]] and rng.random() < 0.12:
                edge(svcs[i], svcs[j])
    for typ, names, cnt in (("mysql", DBN, 1 + (rng.random() < 0.35)), ("redis", RDN, 1 + (rng.random() < 0.4))):
        for nm in rng.choice(names, cnt, replace=False):
            sid = f"{typ}:{nm}"
            nc = 1 if rng.random() < 0.15 else int(rng.integers(2, min(4, n) + 1))
            for c in rng.choice(svcs, nc, replace=False):
                edge(str(c), sid)
            T["stor"][sid] = dict(base=U(rng, 0.8, 5) if typ == "mysql" else U(rng, 0.15, 1.0),
                                  util=U(rng, 0.1, 0.35), sq=U(rng, 0, 0.4) if typ == "mysql" else 0.0,
                                  pool=int(rng.choice([10, 20, 32, 50])), idle=int(rng.integers(2, 6)))
    for nm in rng.choice(VEN, 1 + (rng.random() < 0.4), replace=False):
        vid = "http:" + nm
        for c in rng.choice(svcs, int(rng.integers(1, min(3, n) + 1)), replace=False):
            edge(str(c), vid)
        T["vend"][vid] = dict(base=U(rng, 30, 250), err=U(rng, 0.001, 0.01), domain=f"api.{nm.split('-')[0]}.com")
    T["ingress"] = "ingress:" + str(rng.choice(ING))
    T["ing"] = dict(own=U(rng, 0.5, 3), tail=U(rng, 2.5, 4))
    m = int(rng.integers(3, 7))
    ns = int(rng.integers(0, 4))
    a = int(rng.integers(0, 200))
    T["nodes"] = [[f"ip-10-0-{a + i}-{int(rng.integers(2, 250))}.ec2.internal" for i in range(m)],
                  [f"gke-prod-default-pool-{rid(rng, 8, '0123456789abcdef')}-{rid(rng, 4)}" for _ in range(m)],
                  [f"node-{i + 1}" for i in range(m)], [f"worker-{i + 1:02d}" for i in range(m)]][ns]
    T["ncores"] = {nd: int(rng.choice([8, 16, 32])) for nd in T["nodes"]}
    T["nother"] = {nd: U(rng, 0.05, 0.3) for nd in T["nodes"]}
    sc_mode = rng.choice(["all", "some", "none"], p=[0.45, 0.45, 0.1])
    T["pods"] = {}
    for s in svcs:
        sc = sc_mode == "all" or (sc_mode == "some" and rng.random() < 0.5)
        app_cpu = float(rng.choice([0.5, 1, 2, 4, 8], p=[0.1, 0.25, 0.3, 0.25, 0.1]))
        T["svc"][s] = dict(sidecar=bool(sc), app_cpu=app_cpu, app_mem=int(rng.choice([256, 512, 1024, 2048, 4096])) * MIB,
                           sc_cpu=float(rng.choice([0.5, 1, 2])), sc_mem=int(rng.choice([128, 256, 512, 1024])) * MIB,
                           u_app=U(rng, 0.15, 0.45), u_sc=U(rng, 0.08, 0.3), own=float(rng.lognormal(np.log(12), 0.7)),
                           err0=U(rng, 0.0005, 0.004), tail=U(rng, 2.5, 5), g0=int(rng.integers(10, 80)), gk=U(rng, 1, 3),
                           pb=U(rng, 0.3, 1.2), hop=U(rng, 0.3, 1.0))
        k, h = int(rng.integers(2, 5)), rid(rng, 10)
        nodes = rng.choice(T["nodes"], k, replace=k > m)
        base = s.replace("_", "-")
        T["pods"][s] = [dict(name=np.full(N, f"{base}-{i}" if T["sts"] else f"{base}-{h}-{rid(rng, 5)}", dtype=object),
                             node=np.full(N, str(nodes[i]), dtype=object), w=U(rng, 0.85, 1.15), sw=None,
                             r0=int(rng.choice([0, 0, 0, 1, 2])), mfrac=U(rng, 0.3, 0.55), sfrac=U(rng, 0.2, 0.5))
                        for i in range(k)]
    T["base_rps"] = float(rng.lognormal(np.log(300), 1.0))
    sh = rng.dirichlet([3] * ne)
    T["share"] = {e: float(x) for e, x in zip(T["entries"], sh)}
    T["diurnal"] = U(rng, 0.1, 0.4)
    return T


def rollout(rng, T, s, t_dep, t):
    """Rolling update: pods replaced one by one (new ReplicaSet hash, maybe another node)."""
    h = rid(rng, 10)
    for i, p in enumerate(T["pods"][s]):
        p["sw"] = t_dep + U(rng, 15, 40) + i * U(rng, 20, 60)
        if not T["sts"]:
            new = f"{s.replace('_', '-')}-{h}-{rid(rng, 5)}"
            p["name"] = np.where(t >= p["sw"], new, p["name"]).astype(object)
            p["node"] = np.where(t >= p["sw"], str(rng.choice(T["nodes"])), p["node"]).astype(object)


def choose_fault(rng, T, kind, W0, t):
    on = W0 + U(rng, 1, 8) * 60
    F = dict(kind=kind, onset=on, ramp=U(rng, 20, 240), culprit="")
    S, svcs = T["svc"], T["svcs"]
    users = lambda x: [s for s in svcs if x in T["deps"][s]]
    if kind == "traffic-spike":
        c = str(rng.choice(T["entries"]))
        S[c]["u_app"] = U(rng, 0.3, 0.45)
        F.update(culprit=c, surge=max(2.0, U(rng, 0.65, 0.95) / S[c]["u_app"]), ramp=U(rng, 60, 240))
        for s in svcs:                          # the surge loads everything, but nothing else hits a limit
            S[s]["u_sc"] = min(S[s]["u_sc"], 0.7 / F["surge"])
            if s != c:
                S[s]["u_app"] = min(S[s]["u_app"], 0.75 / F["surge"])
    elif kind == "cpu-saturation":
        c = str(rng.choice(svcs))
        F.update(culprit=c, mult=U(rng, 1.4, 2.5) / S[c]["u_app"])
    elif kind == "memory-pressure":
        c = str(rng.choice(svcs))
        F.update(culprit=c, leak=U(rng, 3, 10) * 60, ramp=1.0)
    elif kind == "code-change":
        c = str(rng.choice(svcs))
        mode = rng.choice(["err", "lat", "both"])
        F.update(culprit=c, err=U(rng, 0.03, 0.3) if mode != "lat" else 0.0,
                 lat=U(rng, 2, 5) if mode != "err" else 1.0, cpu=U(rng, 1.0, 1.6), ramp=1.0)
        F["deploy"] = on - U(rng, 20, 50)
        rollout(rng, T, c, F["deploy"], t)
        F["onset"] = min(p["sw"] for p in T["pods"][c])
    elif kind in ("mysql", "redis"):
        cands = [x for x in T["stor"] if x.startswith(kind + ":")]
        c = max(cands, key=lambda x: (len(users(x)), rng.random()))
        F.update(culprit=c, mult=U(rng, 8, 40) if kind == "mysql" else U(rng, 6, 60),
                 cpu_to=U(rng, 0.8, 0.99), sq=U(rng, 5, 80) if kind == "mysql" else 0.0)
    elif kind == "storage-failover":
        c = str(rng.choice(list(T["stor"])))
        F.update(culprit=c, burst=max(U(rng, 30, 120), 1.5 * T["step"]), burst_err=U(rng, 0.3, 0.95),
                 mult=U(rng, 2, 5), tau=U(rng, 120, 480), rebuild=U(rng, 60, 180), ramp=1.0)
    elif kind == "ingress":
        mode = rng.choice(["err", "lat", "both"])
        F.update(culprit=T["ingress"], add=U(rng, 80, 1500) if mode != "err" else 0.0,
                 err=U(rng, 0.02, 0.25) if mode != "lat" else 0.0)
    elif kind == "sidecar":
        c = str(rng.choice(svcs))
        sv = S[c]
        sv.update(sidecar=True, sc_cpu=float(rng.choice([0.5, 1, 2])), u_sc=U(rng, 0.35, 0.6))
        sv["app_cpu"] = max(sv["app_cpu"], 2 * sv["sc_cpu"])
        F.update(culprit=c, mult=U(rng, 1.5, 2.5) / sv["u_sc"], mesh=rng.random() < 0.6, mesh_ratio=U(rng, 0.35, 0.7))
    elif kind == "pod":
        s = str(rng.choice(svcs))
        p = T["pods"][s][int(rng.integers(0, len(T["pods"][s])))]
        mode = rng.choice(["lat", "err", "both"])
        F.update(culprit=str(p["name"][0]), svc=s, lat=U(rng, 5, 20) if mode != "err" else 1.0,
                 err=U(rng, 0.2, 0.8) if mode != "lat" else 0.0, spin=rng.random() < 0.4)
    elif kind == "node":
        cnt = {nd: len({s for s in svcs for p in T["pods"][s] if p["node"][0] == nd}) for nd in T["nodes"]}
        nd = max(T["nodes"], key=lambda x: (cnt[x], rng.random()))
        mode = rng.choice(["cpu", "nic", "both"])
        F.update(culprit="node:" + nd, node=nd, lat=U(rng, 3, 10), err=U(rng, 0.005, 0.1),
                 cpu=mode != "nic", nic=mode != "cpu", nerr=U(rng, 20, 300))
    elif kind == "network":
        F.update(culprit="cluster", hop=U(rng, 2, 12), herr=U(rng, 0.002, 0.02), nerr=U(rng, 5, 100))
    elif kind == "third-party":
        c = max(T["vend"], key=lambda x: (len(users(x)), rng.random()))
        mode = rng.choice(["err", "lat", "both"])
        F.update(culprit=c, mult=U(rng, 5, 20) if mode != "err" else 1.0, err=U(rng, 0.05, 0.5) if mode != "lat" else 0.0)
    else:                                        # none: a benign blip (GC pause / burst of client errors)
        F.update(blip=str(rng.choice(["lat", "err"])), bmag=U(rng, 3, 8))
    f = np.clip((t - F["onset"]) / F["ramp"], 0, 1)
    if kind not in ("none", "storage-failover") and rng.random() < 0.3:     # partial mitigation near the end
        mt = F["onset"] + U(rng, 12, 25) * 60
        f = f * np.where(t > mt, 0.3 + 0.7 * np.exp(-(t - mt) / 300.0), 1.0)
    F["f"] = f if kind != "none" else np.zeros(len(t))
    return F


# ----------------------------------------------------------------------------- physics
def tf(u):
    """latency factor of a CPU-limited container at demand/limit u (queueing + CFS throttling)"""
    return 1 + 0.25 * np.minimum(u, 1) ** 4 + 5 * np.maximum(0, u - 1) ** 1.2


def simulate(rng, T, F, t):
    N, step, f, fk, cul = len(t), T["step"], F["f"], F["kind"], F["culprit"]
    S, svcs, deps, base = T["svc"], T["svcs"], T["deps"], t < T["W0"]
    ar, e = np.zeros(N), rng.normal(0, 0.015, N)
    for i in range(1, N):
        ar[i] = 0.97 * ar[i - 1] + e[i]
    load = (1 + T["diurnal"] * np.sin(2 * np.pi * ((t % 86400) / 3600 - 9) / 24)) * np.exp(ar)
    offered = T["base_rps"] * load
    rej = F["err"] * f if fk == "ingress" else 0.0
    rps, ing_rps = {s: np.zeros(N) for s in svcs}, np.zeros(N)
    for en in T["entries"]:
        x = offered * T["share"][en] * ((1 + (F["surge"] - 1) * f) if fk == "traffic-spike" and en == cul else 1)
        ing_rps += x
        rps[en] += x * (1 - rej)
    for s in svcs:
        for d, ed in deps[s].items():
            if d in S:
                rps[d] += rps[s] * ed["calls"]
    R = dict(rps=rps, ing_rps=ing_rps, pod={}, svc={}, st={}, node={}, comps={}, oom=[])
    # ---- storage server side and vendors
    for x, st in T["stor"].items():
        q = sum(rps[c] * deps[c][x]["calls"] for c in svcs if x in deps[c])
        ln = q / max(q[base].mean(), 1e-9)
        lat, err, cpu, sq = st["base"] * (1 + 0.3 * (ln - 1)), np.zeros(N), st["util"] * ln, st["sq"] * ln
        conn_f = np.ones(N)
        if x == cul and fk in ("mysql", "redis"):
            lat = lat * (1 + (F["mult"] - 1) * f)
            cpu = cpu + (F["cpu_to"] - cpu) * f
            sq = sq + F["sq"] * f
        if x == cul and fk == "storage-failover":
            on, b = F["onset"], F["burst"]
            burst = (t >= on) & (t < on + b)
            err = np.where(burst, F["burst_err"], 0.0)
            after = np.clip(t - on - b, 0, None)
            lat = lat * np.where(t >= on + b, 1 + (F["mult"] - 1) * np.exp(-after / F["tau"]), np.where(burst, F["mult"] * 3, 1))
            cpu = np.where(burst, cpu * 0.3, cpu * np.where(t >= on, 1 + 0.5 * np.exp(-after / F["tau"]), 1))
            conn_f = np.where(burst, 0.05, np.where(t >= on, 1 - 0.95 * np.exp(-after / F["rebuild"] * 3), 1))
        R["st"][x] = dict(lat=lat, err=err, cpu=np.clip(cpu, 0, 1), sq=sq, conns=np.zeros(N), conn_f=conn_f, q=q)
    vend = {}
    for v, vd in T["vend"].items():
        lat, err = vd["base"] * np.exp(0.5 * ar), np.full(N, vd["err"])
        if v == cul:
            lat, err = lat * (1 + (F["mult"] - 1) * f), err + F["err"] * f
        vend[v] = (lat, err)
    hop_ms = F["hop"] * f if fk == "network" else 0.0
    hop_err = F["herr"] * f if fk == "network" else 0.0
    # ---- memory, restarts, availability per pod (memory-pressure leaks in the culprit's app containers)
    for s in svcs:
        lim = S[s]["app_mem"]
        for p in T["pods"][s]:
            rss = lim * p["mfrac"] * (1 + np.cumsum(rng.normal(0, 0.002, N)))
            if p["sw"] is not None:
                rss = rss * np.where(t >= p["sw"], 1 - 0.35 * np.exp(-(t - p["sw"]) / 150.0), 1)
            up, ooms, oerr = np.ones(N), np.zeros(N), np.zeros(N)
            if fk == "memory-pressure" and s == cul:
                rate = (lim * 0.99 - lim * p["mfrac"]) / (F["leak"] * U(rng, 0.75, 1.3))
                cur, down = lim * p["mfrac"], 0
                for i in range(N):
                    if t[i] >= F["onset"]:
                        cur += rate * step * (0 if down > 0 else 1)
                    if down > 0:
                        down -= 1
                        up[i] = 0
                    if cur >= lim * 0.98:
                        ooms[i], oerr[i], cur = 1, 0.3, lim * p["mfrac"] * 0.6
                        down = max(1, int(round(U(rng, 20, 60) / step)))
                        R["oom"].append((t[i], s, p["name"][i], p["node"][i]))
                    rss[i] = max(rss[i], cur) if t[i] >= F["onset"] else rss[i]
            restarts = np.where(t >= (p["sw"] if p["sw"] is not None else np.inf), 0, p["r0"]) + np.cumsum(ooms)
            p.update(rss=rss, up=up, restarts=restarts, oerr=oerr,
                     cache=np.minimum(lim * p["sfrac"] * (1 + 0.1 * np.sin(t / 900 + p["w"])), np.maximum(lim - rss, 0)),
                     sc_rss=S[s]["sc_mem"] * (0.2 + 0.15 * p["sfrac"]) * (1 + 0.03 * np.log1p(load)))
    # ---- services, leaves first
    for s in reversed(svcs):
        sv, pods = S[s], T["pods"][s]
        W = sum(p["w"] * p["up"] for p in pods)
        ln = rps[s] / max(rps[s][base].mean(), 1e-9)
        agg = dict(lat=np.zeros(N), p99w=np.zeros(N), err=rps[s] * (W == 0), gor=np.zeros(N), dep={})
        for p in pods:
            share = np.where(W > 0, p["w"] * p["up"] / np.maximum(W, 1e-9), 0)
            r = rps[s] * share
            br = max(r[base].mean(), 1e-6)
            act = f if p["sw"] is None else f * (t >= p["sw"])
            isbad = fk == "pod" and p["name"][0] == cul
            dem = 0.02 * sv["app_cpu"] + r * (sv["u_app"] * sv["app_cpu"] / br)
            if fk == "cpu-saturation" and s == cul:
                dem = dem * (1 + (F["mult"] - 1) * f)
            if fk == "code-change" and s == cul:
                dem = dem * (1 + (F["cpu"] - 1) * act)
            if isbad and F["spin"]:
                dem = dem + (1.5 * sv["app_cpu"] - dem) * f
            dem = dem + T["cron"].get(s, 0) * sv["app_cpu"]
            memr = p["rss"] / sv["app_mem"]
            gc = 1 + 4 * np.maximum(0, (memr - 0.8) / 0.2) ** 2
            dem = dem * (1 + 0.3 * (gc - 1) / 5)
            u = dem / sv["app_cpu"]
            sdem = 0.01 + r * (sv["u_sc"] * sv["sc_cpu"] / br) * ((1 + (F["mult"] - 1) * f) if fk == "sidecar" and s == cul else 1)
            usc = sdem / sv["sc_cpu"] if sv["sidecar"] else np.zeros(N)
            proxy = sv["pb"] * tf(usc) ** 2 if sv["sidecar"] else 0.0
            nb = (p["node"] == F.get("node")) * f if fk == "node" else 0.0
            own = sv["own"] * (1 + 0.3 * (ln - 1)) * tf(u) * gc * (rng.lognormal(0.3, 0.35, N) if p.get("noisy") else 1)
            own_err = np.full(N, sv["err0"]) + p["oerr"]
            comps = {"benign": r * sv["err0"], "oom": r * p["oerr"]}
            extra = np.zeros(N)                   # code-change / bad pod: additive slowness, x(lat-1) of normal latency
            if fk == "code-change" and s == cul:
                extra, own_err = (F["lat"] - 1) * act, own_err + F["err"] * act
                comps["code"] = r * F["err"] * act
            if isbad:
                extra, own_err = (F["lat"] - 1) * f, own_err + F["err"] * f
                comps["podfault"] = r * F["err"] * f
            own = own * (1 + (F["lat"] - 1) * nb) if fk == "node" else own
            if fk == "node":
                own_err = own_err + F["err"] * nb
                comps["node"] = r * F["err"] * nb
            infl = 1 + 0.2 * (tf(u) - 1) + 0.2 * (gc - 1) + ((F["lat"] - 1) * nb if fk == "node" else 0)
            lat, err, pdep = own + proxy, own_err.copy(), {}
            for d, ed in deps[s].items():
                if d in S:
                    bt, et, hb = R["svc"][d]["lat"], R["svc"][d]["errf"], sv["hop"]
                elif d in R["st"]:
                    bt, et, hb = R["st"][d]["lat"], R["st"][d]["err"], 0.25
                else:
                    (bt, et), hb = vend[d], 2.0
                if ed["timeout"] is None:
                    fl = 100 if d.startswith("redis:") else 200 if d.startswith("mysql:") else 1000 if d.startswith("http:") else 300
                    ed["timeout"] = max(fl, U(rng, 8, 25) * float(np.median(bt[base])))
                meas = bt * infl + hb + hop_ms + proxy
                meas = ed["timeout"] * np.tanh(meas / ed["timeout"])
                x3 = (meas / ed["timeout"]) ** 3
                derr = np.clip(et + x3 / (1 + x3) + hop_err + (F["err"] * nb * 0.5 if fk == "node" else 0), 0, 1)
                lat = lat + ed["calls"] * ed["seq"] * meas
                ce = ed["pe"] * np.minimum(1, ed["calls"] * derr)
                err = err + ce
                comps["dep:" + d] = r * ce
                if fk == "network":
                    comps["net"] = comps.get("net", 0) + r * ed["pe"] * np.minimum(1, ed["calls"] * hop_err)
                pdep[d] = (meas, r * ed["calls"] * derr)
                if d in R["st"]:
                    infl_n = r * ed["calls"] * meas / 1000
                    R["st"][d]["conns"] += np.minimum(T["stor"][d]["pool"], T["stor"][d]["idle"] + 1.5 * infl_n) * R["st"][d]["conn_f"]
            err = np.clip(err, 0, 1)
            lat = lat + extra * float(np.median(lat[base]))
            umax = np.maximum(u, usc)
            p99 = lat * sv["tail"] * (1 + 1.5 * np.maximum(0, umax - 1)) * (1 + 0.5 * (gc - 1))
            if fk == "none" and F["blip"] == "lat" and p is pods[0] and s == T["entries"][0]:
                p99 = p99 * np.where(np.abs(t - F["onset"]) < step / 2, F["bmag"], 1)
            gor = sv["g0"] + r * lat / 1000 * sv["gk"] * 10
            p.update(rps=r, lat=lat, p99=p99, err=r * err, gor=gor * p["up"], cpu=np.minimum(dem, sv["app_cpu"]) * p["up"],
                     sc_cpu=np.minimum(sdem, sv["sc_cpu"]), dep=pdep, u=u, usc=usc)
            R["comps"][id(p)] = comps
            agg["lat"] += lat * share
            agg["p99w"] += p99 ** 4 * share
            agg["err"] = agg["err"] + r * err
            agg["gor"] += gor * p["up"]
            for d, (ml, de) in pdep.items():
                a = agg["dep"].setdefault(d, [0, 0])
                a[0], a[1] = a[0] + ml * share, a[1] + de
        if fk == "none" and F["blip"] == "err" and s == T["entries"][0]:
            agg["err"] = agg["err"] + rps[s] * 0.05 * F["bmag"] * (np.abs(t - F["onset"]) < step / 2)
        errf = np.clip(agg["err"] / np.maximum(rps[s], 1e-9), 0, 1)
        R["svc"][s] = dict(rps=rps[s], lat=agg["lat"], p99=agg["p99w"] ** 0.25, err=agg["err"], errf=errf, gor=agg["gor"], dep=agg["dep"])
        if fk == "none" and F["blip"] == "lat" and s == T["entries"][0]:
            R["svc"][s]["p99"] = R["svc"][s]["p99"] * np.where(np.abs(t - F["onset"]) < step / 2, 0.5 * F["bmag"], 1)
    # ---- ingress
    ig = T["ing"]
    own = ig["own"] + (F["add"] * f if fk == "ingress" else 0)
    lat = own + sum(rps[e] / np.maximum(sum(rps[x] for x in T["entries"]), 1e-9) * (R["svc"][e]["lat"] + 0.5 + hop_ms) for e in T["entries"])
    errs = ing_rps * rej + sum(R["svc"][e]["err"] for e in T["entries"]) + ing_rps * hop_err
    R["ing"] = dict(rps=ing_rps, lat=lat, p99=lat * ig["tail"] * (1 + (1.5 * F["add"] / 500 * f if fk == "ingress" else 0)), err=errs)
    # ---- nodes
    for nd in T["nodes"]:
        c = sum(np.where(p["node"] == nd, p["cpu"] + (p["sc_cpu"] if T["svc"][s]["sidecar"] else 0), 0) for s in svcs for p in T["pods"][s])
        util = T["nother"][nd] + c / T["ncores"][nd]
        ne = np.full(N, U(rng, 0.01, 0.3))
        if fk == "node" and nd == F["node"]:
            util = util + (U(rng, 0.95, 0.99) - util) * f * F["cpu"]
            ne = ne + F["nerr"] * f * F["nic"]
        if fk == "network":
            ne = ne + F["nerr"] * U(rng, 0.6, 1.4) * f
        R["node"][nd] = dict(cpu=np.clip(util, 0, 1), ne=ne)
    return R


# ----------------------------------------------------------------------------- emission
class Sink:
    def __init__(self, rng, t, step, opt):
        self.rng, self.t, self.step, self.opt, self.rows, self.spiky = rng, t, step, opt, [], []

    def add(self, entity, metric, v, noise, pod=None, node=None, container=None, target=None, source=None, cap=None):
        rng, N, st = self.rng, len(self.t), self.step
        v = np.asarray(v, dtype=float) * np.ones(N)
        if noise == "rate":
            v = rng.poisson(np.maximum(v, 0) * st) / st
        elif noise in ("lat", "p99"):
            v = v * rng.lognormal(0, self.opt["sl"] * (2.5 if noise == "p99" else 1), N)
        elif noise == "count":
            v = np.round(v * rng.normal(1, 0.03, N))
        elif noise == "cpu":
            v = v * rng.normal(1, 0.04, N)
            v = np.minimum(v, cap) if cap is not None else v
        elif noise == "mem":
            v = v * rng.normal(1, 0.004, N)
        elif noise == "util":
            v = np.clip(v + rng.normal(0, 0.015, N), 0, 1)
        ts = self.t.copy()
        if self.opt["jitter"]:
            ts = ts + rng.uniform(0, st) + rng.normal(0, 0.05 * st, N)
        keep = rng.random(N) >= self.opt["drop"]
        v[rng.random(N) < self.opt["nan"]] = np.nan
        if noise in ("lat", "p99", "count", "cpu") and rng.random() < self.opt["spike"]:
            v[int(rng.integers(0, N))] *= U(rng, 3, 8)          # one-sample glitch in a (usually healthy) series
        if rng.random() < self.opt["gap"]:
            g0 = int(rng.integers(0, N)); keep[g0:g0 + int(rng.integers(120, 300) // st)] = False
        metric = self.opt["alias"].get(metric, metric)
        col = lambda x: (x[keep] if isinstance(x, np.ndarray) else np.full(int(keep.sum()), x, dtype=object))
        self.rows.append(((ts[keep] * 1000).astype(np.int64), col(entity), col(metric), v[keep], col(pod), col(node),
                          col(container), col(target), col(source)))


def table(cols, names, tsunit):
    arrs = []
    for n, c in zip(names, cols):
        if n == "ts":
            arrs.append(pa.array(c, type=pa.timestamp("ms")) if tsunit == "ts" else pa.array(c, type=pa.int64()))
        elif n == "value":
            arrs.append(pa.array(c, type=pa.float64(), from_pandas=True))
        else:
            arrs.append(pa.array([None if x is None else str(x) for x in c], type=pa.string()))
    return pa.Table.from_arrays(arrs, names=names)


def emit_metrics(rng, T, F, R, sink):
    S, app_c, src = T["svc"], T["app_container"], T["src"]
    so = lambda name: name if src else None
    for s in T["svcs"]:
        r = R["svc"][s]
        for m, key, nz in (("requests_per_s", "rps", "rate"), ("errors_per_s", "err", "rate"), ("latency_avg_ms", "lat", "lat"),
                           ("latency_p99_ms", "p99", "p99"), ("goroutines", "gor", "count")):
            sink.add(s, m, r[key], nz, source=so("prometheus"))
        for d, (ml, de) in r["dep"].items():
            sink.add(s, "dep_latency_ms", ml, "lat", target=d, source=so("prometheus"))
            sink.add(s, "dep_errors_per_s", de, "rate", target=d, source=so("prometheus"))
        sv = S[s]
        for p in T["pods"][s]:
            pn, nd = p["name"], p["node"]
            up = np.where(p["up"] > 0, 1.0, np.nan)
            for m, v, nz in (("requests_per_s", p["rps"], "rate"), ("errors_per_s", p["err"], "rate"), ("latency_avg_ms", p["lat"] * up, "lat"),
                             ("latency_p99_ms", p["p99"] * up, "p99"), ("goroutines", p["gor"] * up, "count")):
                sink.add(s, m, v, nz, pod=pn, node=nd, source=so("prometheus"))
            if T["pod_dep"]:
                for d, (ml, de) in p["dep"].items():
                    sink.add(s, "dep_latency_ms", ml, "lat", pod=pn, node=nd, target=d, source=so("prometheus"))
                    sink.add(s, "dep_errors_per_s", de, "rate", pod=pn, node=nd, target=d, source=so("prometheus"))
            sink.add(s, "cpu_cores", p["cpu"], "cpu", pn, nd, app_c, source=so("cadvisor"), cap=sv["app_cpu"])
            sink.add(s, "cpu_limit_cores", sv["app_cpu"], "exact", pn, nd, app_c, source=so("cadvisor"))
            sink.add(s, "mem_rss_bytes", p["rss"] * up, "mem", pn, nd, app_c, source=so("cadvisor"))
            sink.add(s, "mem_cache_bytes", p["cache"], "mem", pn, nd, app_c, source=so("cadvisor"))
            sink.add(s, "mem_limit_bytes", sv["app_mem"], "exact", pn, nd, app_c, source=so("cadvisor"))
            sink.add(s, "restarts", p["restarts"], "exact", pn, nd, source=so("kube-state-metrics"))
            if sv["sidecar"]:
                sink.add(s, "cpu_cores", p["sc_cpu"], "cpu", pn, nd, "sidecar", source=so("cadvisor"), cap=sv["sc_cpu"])
                if F["kind"] == "sidecar" and F["mesh"]:
                    sink.add(s, "cpu_cores", p["sc_cpu"] * F["mesh_ratio"], "cpu", pn, nd, "sidecar", source="mesh-dashboard")
                sink.add(s, "cpu_limit_cores", sv["sc_cpu"], "exact", pn, nd, "sidecar", source=so("cadvisor"))
                sink.add(s, "mem_rss_bytes", p["sc_rss"], "mem", pn, nd, "sidecar", source=so("cadvisor"))
                sink.add(s, "mem_cache_bytes", p["sc_rss"] * 0.1, "mem", pn, nd, "sidecar", source=so("cadvisor"))
                sink.add(s, "mem_limit_bytes", sv["sc_mem"], "exact", pn, nd, "sidecar", source=so("cadvisor"))
    for x, st in R["st"].items():
        ex = so("mysqld-exporter" if x.startswith("mysql:") else "redis-exporter")
        sink.add(x, "server_latency_ms", st["lat"], "lat", source=ex)
        sink.add(x, "cpu_utilization", st["cpu"], "util", source=ex)
        sink.add(x, "connections", st["conns"], "count", source=ex)
        if x.startswith("mysql:") or T["redis_sq"]:
            sink.add(x, "slow_queries_per_s", st["sq"], "rate", source=ex)
    ig = R["ing"]
    for m, key, nz in (("requests_per_s", "rps", "rate"), ("errors_per_s", "err", "rate"), ("latency_avg_ms", "lat", "lat"), ("latency_p99_ms", "p99", "p99")):
        sink.add(T["ingress"], m, ig[key], nz, source=so("ingress-controller"))
    for nd, r in R["node"].items():
        sink.add("node:" + nd, "cpu_utilization", r["cpu"], "util", node=nd, source=so("node-exporter"))
        sink.add("node:" + nd, "net_errors_per_s", r["ne"], "rate", node=nd, source=so("node-exporter"))


def make_logs(rng, T, F, R, t):
    step, rows = T["step"], []
    lv = T["log_levels"]
    ip = lambda: f"10.{int(rng.integers(0, 255))}.{int(rng.integers(0, 255))}.{int(rng.integers(2, 250))}"
    res = lambda: str(rng.choice(RES))
    info = [lambda s: f"GET /api/v1/{res()}s/{int(rng.integers(1e4, 1e7))} 200 {int(rng.integers(2, 90))}ms",
            lambda s: f"handled request id={rid(rng, 12, '0123456789abcdef')} route=/{res()} status=200",
            lambda s: f"cache hit key={res()}:{int(rng.integers(1e3, 1e6))}",
            lambda s: f"published event {res()}.updated id={int(rng.integers(1e5, 1e8))}",
            lambda s: f"POST /{res()} 201 in {int(rng.integers(5, 120))}ms trace={rid(rng, 16, '0123456789abcdef')}"]
    benign = [lambda s: f"invalid token for user {int(rng.integers(1e4, 1e7))}", lambda s: "request validation failed: missing field 'email'",
              lambda s: "client closed request (499)", lambda s: f"retrying {res()} lookup (attempt 1)"]

    def err_msgs(key, s):
        d = key[4:] if key.startswith("dep:") else ""
        fo = F["kind"] == "storage-failover" and d == F["culprit"] and rng.random() < 0.7
        if d.startswith("redis:"):
            return ["READONLY You can't write against a read only replica.", "redis: connection reset by peer"] if fo else \
                [f"redis: i/o timeout on GET {res()}:{int(rng.integers(1e3, 1e6))}", f"dial tcp {ip()}:6379: i/o timeout", "redis: connection pool timeout"]
        if d.startswith("mysql:"):
            return ["Error 2013: Lost connection to MySQL server during query", "Error 1290: The MySQL server is running with the --read-only option"] if fo else \
                ["Error 1205 (HY000): Lock wait timeout exceeded; try restarting transaction", "driver: bad connection",
                 f"slow query ({int(rng.integers(800, 9000))}ms): SELECT * FROM {res()}s WHERE id = ?"]
        if d.startswith("http:"):
            dom = T["vend"][d]["domain"]
            return [f"503 from {dom}", f"POST https://{dom}/v2/{res()}: context deadline exceeded", f"{dom} returned 502 Bad Gateway"]
        if d:
            return ["upstream connect error or disconnect/reset before headers. reset reason: connection termination",
                    f"rpc error: code = DeadlineExceeded desc = context deadline exceeded calling {d}", f"call to {d} failed: 503 Service Unavailable"]
        return {"code": ["panic: runtime error: invalid memory address or nil pointer dereference", f"unhandled exception in /{res()}: KeyError: 'tier'",
                         'failed to decode request: json: unknown field "promo_code"'],
                "oom": ["fatal error: runtime: out of memory", "container app OOMKilled (exit code 137)"],
                "podfault": [f"dial tcp {ip()}:8080: connect: connection refused", "worker pool exhausted, dropping request", "request timed out after 30s"],
                "node": ["request timed out after 10s", f"read tcp {ip()}:443: i/o timeout"],
                "net": [f"read tcp {ip()}:{int(rng.integers(30000, 60000))}->{ip()}:443: read: connection reset by peer", "i/o timeout dialing upstream"],
                }.get(key, [b(s) for b in benign])

    def put(ts, ent, msg, level, pod=None, node=None):
        if lv:
            rows.append((ts, ent, msg, pod, node, level if rng.random() > 0.1 else level.upper()))
        else:
            rows.append((ts, ent, {"info": "INFO ", "warn": "WARN ", "error": "ERROR "}[level] + msg if rng.random() < 0.7
                         else f"level={level} msg=\"{msg}\"", pod, node, None))

    def scatter(rate):
        cnt = rng.poisson(np.clip(rate, 0, 5) * step)
        idx = np.repeat(np.arange(len(t)), cnt)
        return t[idx] + rng.uniform(0, step, len(idx)), idx

    for s in T["svcs"]:
        base_lat = max(float(np.median(R["svc"][s]["lat"][t < T["W0"]])), 1e-3)
        ir = U(rng, 0.03, 0.3)
        for p in T["pods"][s]:
            for ts, i in zip(*scatter(ir * p["up"])):
                put(ts, s, info[int(rng.integers(len(info)))](s), "info", p["name"][i], p["node"][i])
            for key, rate in R["comps"][id(p)].items():
                if not isinstance(rate, np.ndarray):
                    continue
                for ts, i in zip(*scatter(rate * T["log_frac"])):
                    put(ts, s, str(rng.choice(err_msgs(key, s))), "warn" if key == "benign" else "error", p["name"][i], p["node"][i])
            slow = p["rps"] * np.clip((p["lat"] / base_lat - 1.8) / 10, 0, 0.2) * T["log_frac"] * 0.1
            for ts, i in zip(*scatter(slow)):
                put(ts, s, f"slow request route=/{res()} took {int(p['lat'][i] * U(rng, 2, 6))}ms", "warn", p["name"][i], p["node"][i])
    for ts, s, pn, nd in R["oom"]:
        put(ts + 1, s, "container app OOMKilled (exit code 137); restarting", "error", pn, nd)
    for ts, i in zip(*scatter(R["ing"]["err"] * T["log_frac"] * 0.5)):
        put(ts, T["ingress"], str(rng.choice(["upstream timed out (110: Connection timed out) while reading response header from upstream",
                                               "no live upstreams while connecting to upstream", "upstream prematurely closed connection"])), "error")
    for x, st in R["st"].items():
        if x.startswith("mysql:"):
            for ts, i in zip(*scatter(st["sq"] * 0.2)):
                put(ts, x, f"# Query_time: {st['lat'][i] / 100 * U(rng, 5, 30):.3f} Lock_time: 0.000 Rows_examined: {int(rng.integers(1e4, 1e7))}", "warn")
    if F["kind"] == "storage-failover":
        put(F["onset"] + 2, F["culprit"], "primary unreachable, promoting replica to primary", "warn")
    if F["kind"] == "node":
        for ts, i in zip(*scatter(0.05 * F["f"])):
            put(ts, F["culprit"], str(rng.choice(["kernel: NETDEV WATCHDOG: eth0 (ena): transmit queue 3 timed out",
                                                  "kubelet: PLEG is not healthy: pleg was last seen active 3m2s ago",
                                                  "kernel: hrtimer: interrupt took 412364 ns"])), "warn", node=F["node"])
    return rows


def events(rng, T, F, t, W0):
    ev, svcs = [], [s for s in T["svcs"] if s != F["culprit"] and s != F.get("svc")]
    ver = lambda: f"v{int(rng.integers(1, 4))}.{int(rng.integers(0, 30))}.{int(rng.integers(0, 20))}"
    if F["kind"] == "code-change":
        a = ver()
        ev.append((F["deploy"], F["culprit"], "deploy", f"image {a} -> {a[:-1]}{int(a[-1]) + 1}"))
    if F["kind"] == "storage-failover":
        x = F["culprit"].split(":")[1]
        ev.append((F["onset"] + U(rng, 0, 20), F["culprit"], "failover", f"primary {x}-0 -> {x}-1"))
    if F["kind"] == "ingress" and rng.random() < 0.4:
        ev.append((F["onset"] - U(rng, 10, 60), T["ingress"], "config", "nginx.conf reloaded: proxy_read_timeout 60s -> 5s"))
    if rng.random() < 0.6 and svcs:                  # unrelated deploy: hours ago, in the baseline, or in the window away from onset
        s = str(rng.choice(svcs))
        when = rng.choice(["hours", "baseline"] + (["window"] if F["kind"] != "code-change" else []))
        ts = {"hours": W0 - U(rng, 2, 10) * 3600, "baseline": T["data0"] + U(rng, 5, 30) * 60,
              "window": F["onset"] + rng.choice([-1, 1]) * U(rng, 6, 12) * 60}[when]
        if t[0] < ts < t[-1]:
            rollout(rng, T, s, ts, t)
        a = ver()
        ev.append((ts, s, "deploy", f"image {a} -> {a[:-1]}{int(a[-1]) + 1}"))
    if rng.random() < 0.3:
        rpl = int(rng.integers(2, 5))
        ev.append((W0 - U(rng, 1, 5) * 3600, str(rng.choice(T["svcs"])), "scale", f"replicas {rpl} -> {rpl + int(rng.choice([-1, 1, 2]))}"))
    return ev


# ----------------------------------------------------------------------------- one archive
def toml_list(xs):
    return "[" + ", ".join(f'"{x}"' for x in xs) + "]"


def generate(kind, seed, out):
    rng = np.random.default_rng(zlib.crc32(f"{kind}/{seed}".encode()))
    step = int(rng.choice([10, 15, 30, 60]))
    W0 = float(datetime(int(rng.choice([2024, 2025])), int(rng.integers(1, 13)), int(rng.integers(1, 29)),
                        int(rng.integers(0, 24)), int(rng.integers(0, 60)), tzinfo=timezone.utc).timestamp())
    B = U(rng, 45, 90) * 60
    data0 = W0 - B - U(rng, 0, 10) * 60
    t = np.arange(data0, W0 + 45 * 60, step, dtype=float)
    T = build(rng, kind, t)
    T.update(step=step, W0=W0, data0=data0, app_container="app" if rng.random() < 0.5 else None, src=rng.random() < 0.5,
             pod_dep=rng.random() < 0.4, redis_sq=rng.random() < 0.5, log_levels=rng.random() < 0.6, log_frac=U(rng, 0.05, 0.3))
    F = choose_fault(rng, T, kind, W0, t)
    if F["kind"] == "sidecar" and F["mesh"]:
        T["src"] = True
    ev = events(rng, T, F, t, W0)
    # distractors: a cron-like CPU bump on an unrelated service, one noisy pod
    T["cron"] = {}
    others = [s for s in T["svcs"] if s != F["culprit"] and s != F.get("svc")]
    if rng.random() < 0.5 and others:
        c = str(rng.choice(others))
        per, dur = float(rng.choice([900, 1800])), U(rng, 120, 240)
        k_ = F["surge"] if kind == "traffic-spike" else 1.3       # benign: stays well below the CPU limit
        amp = min(U(rng, 0.15, 0.3), max(0.05, 0.85 - T["svc"][c]["u_app"] * k_))
        T["cron"][c] = amp * (((t - t[0] + U(rng, 0, per)) % per) < dur)
    if rng.random() < 0.4:
        pods = [p for s in others for p in T["pods"][s]]
        if pods:
            pods[int(rng.integers(0, len(pods)))]["noisy"] = 1
    add_ing, sm = rng.random() < 0.25, max(1, int(120 // step))
    for attempt in range(4):                    # alert: the entry (or ingress) series that moved most; amplify weak faults
        R = simulate(rng, T, F, t)
        on_i = int(np.searchsorted(t, F["onset"]))
        cands = [(T["ingress"], R["ing"])] if kind == "ingress" else \
            [(e, R["svc"][e]) for e in T["entries"]] + ([(T["ingress"], R["ing"])] if add_ing else [])
        best = None
        for ent, r in cands:
            for m, key, fl in (("latency_p99_ms", "p99", 0.0), ("errors_per_s", "err", 0.5)):
                b = float(np.mean(r[key][t < W0]))
                x = r[key] if kind == "none" else np.convolve(r[key], np.ones(sm) / sm, "same")   # rule evaluates ~2 min
                w = x[on_i:int(np.searchsorted(t, W0 + 40 * 60))]
                score = (w.max() + fl) / (b + fl)
                if best is None or score > best[0]:
                    best = (score, ent, m, key, r, b, w)
        if kind == "none" or best[0] >= 1.6:
            break
        for k_, a_ in (("mult", 1.6), ("lat", 1.6)):
            if k_ in F and kind != "traffic-spike":
                F[k_] = 1 + (F[k_] - 1) * a_
        for k_ in ("err", "burst_err", "herr"):
            if k_ in F:
                F[k_] = min(0.95, F[k_] * 1.6)
        for k_ in ("add", "hop", "nerr"):
            if k_ in F:
                F[k_] *= 1.6
        if "leak" in F:
            F["leak"] *= 0.7
    score, ent, metric, key, r, b, w = best
    fl = 0.5 if key == "err" else 0.0
    k = int(np.argmax(w >= b + min(0.35 * (w.max() - b), b + fl))) if kind != "none" else int(np.argmax(w))
    fired = float(t[on_i + k]) + (U(rng, 0, 90) if kind != "none" else 0)
    L = U(rng, 15, 40) * 60
    W1 = min(max(W0 + L, fired + U(rng, 4, 10) * 60), W0 + 40 * 60)
    d = os.path.join(out, f"{kind}-{seed}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "metrics"))
    opt = dict(jitter=rng.random() < 0.4, drop=float(rng.choice([0, 0.002, 0.01])), nan=float(rng.choice([0, 0.002])),
               spike=U(rng, 0.005, 0.03), gap=0.002, sl=U(rng, 0.04, 0.1), alias={})
    if rng.random() < 0.25:
        opt["alias"] = {"goroutines": "go_goroutines", "latency_avg_ms": "http_server_duration_avg"}
    sink = Sink(rng, t, step, opt)
    emit_metrics(rng, T, F, R, sink)
    names = ["ts", "entity", "metric", "value", "pod", "node", "container", "target"] + (["source"] if T["src"] else [])
    tsunit = "ts" if rng.random() < 0.5 else "int"
    cols = [np.concatenate([row[i] for row in sink.rows]) for i in range(len(names))]
    tab = table(cols, names, tsunit)
    split = rng.choice(["one", "entity", "hour"])
    if split == "one":
        pq.write_table(tab, os.path.join(d, "metrics", "metrics.parquet"))
    else:
        key = [str(e).split(":")[0] if ":" in str(e) else "services" for e in cols[1]] if split == "entity" \
            else [str(x // 3_600_000) for x in cols[0]]
        key = np.array(key)
        for kv in sorted(set(key)):
            pq.write_table(tab.filter(pa.array(key == kv)), os.path.join(d, "metrics", f"part-{kv}.parquet"))
    if ev:
        os.makedirs(os.path.join(d, "events"))
        ev.sort()
        pq.write_table(table([np.array([int(e[0] * 1000) for e in ev])] + [[e[j] for e in ev] for j in (1, 2, 3)],
                             ["ts", "entity", "kind", "detail"], tsunit), os.path.join(d, "events", "events.parquet"))
    nlog = 0
    if rng.random() < 0.5:
        rows = make_logs(rng, T, F, R, t)
        if rows:
            os.makedirs(os.path.join(d, "logs"))
            cols = [np.array([int(x[0] * 1000) for x in rows])] + [[x[j] for x in rows] for j in range(1, 6)]
            pq.write_table(table(cols, ["ts", "entity", "message", "pod", "node", "level"], tsunit), os.path.join(d, "logs", "logs.parquet"))
            nlog = len(rows)
    # incident.toml (topology partly omitted in some seeds)
    omit = float(rng.choice([0, 0.15, 0.35]))
    what = {"latency_p99_ms": "p99 latency high", "errors_per_s": "error rate high"}[metric]
    lines = [f'id = "{kind}-{seed}"', f'title = "{ent} {what}"', "", "[alert]", f'entity = "{ent}"', f'metric = "{metric}"',
             f"fired_at = {iso(fired)}", "", "[window]", f"start = {iso(W0)}", f"end = {iso(W1)}",
             f"baseline_start = {iso(W0 - B)}", f"baseline_end = {iso(W0)}"]
    for s in T["svcs"]:
        if rng.random() < omit / 2:
            continue
        sv, dl = T["svc"][s], list(T["deps"][s])
        lines += ["", "[[entity]]", f'id = "{s}"']
        if dl and rng.random() >= omit:
            if len(dl) > 1 and rng.random() < omit / 2:
                dl.pop(int(rng.integers(0, len(dl))))
            lines.append(f"depends_on = {toml_list(dl)}")
        if s in T["entries"] and rng.random() >= omit / 2:
            lines.append("entry = " + toml_list([T["ingress"]]))
        if rng.random() >= omit:
            lines.append(f"sidecar = {'true' if sv['sidecar'] else 'false'}")
        if rng.random() >= omit:
            rs = f"app_cpu = {sv['app_cpu']:.1f}, app_mem_bytes = {sv['app_mem']}"
            if sv["sidecar"]:
                rs += f", sidecar_cpu = {sv['sc_cpu']:.1f}, sidecar_mem_bytes = {sv['sc_mem']}"
            lines.append(f"resources = {{ {rs} }}")
    if opt["alias"]:
        lines += ["", "[metric_aliases]"] + [f'"{v}" = "{k}"' for k, v in opt["alias"].items()]
    lines += ["", "[expected]", f'kind = "{kind}"'] + ([f'culprit = "{F["culprit"]}"'] if kind != "none" else [])
    with open(os.path.join(d, "incident.toml"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return dict(dir=d, step=step, rows=tab.num_rows, logs=nlog, events=len(ev), alert=f"{ent}/{metric}", score=round(score, 2),
                culprit=F["culprit"], onset_to_fire=round((fired - F["onset"]) / 60, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", default="1..4", help="e.g. 1..4 or 1,3,7")
    ap.add_argument("--kinds", default=",".join(KINDS))
    a = ap.parse_args()
    seeds = list(range(int(a.seeds.split("..")[0]), int(a.seeds.split("..")[1]) + 1)) if ".." in a.seeds \
        else [int(x) for x in a.seeds.split(",")]
    for seed in seeds:
        for kind in a.kinds.split(","):
            info = generate(kind, seed, a.out)
            print(" ".join(f"{k}={v}" for k, v in info.items()))


if __name__ == "__main__":
    main()

"""The 13 root-cause kinds (and a false alarm), each as a physical mechanism on the cluster.

plan(kind, rng, cluster, on, n) returns a Fault: the culprit as the archive contract names it,
a per-tick function that writes Mods, the events it leaves, where an alert would fire, and
which optional parts of the archive carry its mechanism (those are never dropped).
"""

from dataclasses import dataclass, field

from cluster import Pod, nominal_rps, pod_name
from mods import lerp, ramp

KINDS = ["traffic-spike", "cpu-saturation", "memory-pressure", "code-change", "mysql", "redis",
         "storage-failover", "ingress", "sidecar", "pod", "node", "network", "third-party",
         "none"]

NEEDS = {"mysql": {"mysql"}, "redis": {"redis"}, "third-party": {"vendor"},
         "sidecar": {"sidecar"}, "storage-failover": set()}


@dataclass
class Fault:
    kind: str
    culprit: str
    apply: object
    alerts: list  # candidate alert entities, most natural first
    metric: str = "latency_p99_ms"
    events: list = field(default_factory=list)  # (tick, entity, kind, detail)
    keep: set = field(default_factory=set)  # optional parts that carry the mechanism
    new_template: dict = field(default_factory=dict)  # pod -> error template after the fault
    variant: str = ""


def callers_up(c, target, rng):
    """Services calling target directly, then one hop further up, for alert choice."""
    first = [s.name for s in c.callers(target)]
    second = [s.name for n in first for s in c.callers(n) if s.name not in first]
    rng.shuffle(first)
    return first + second


def _headroom(c, rps_mult, keep_rho=0.75):
    """Raise CPU (and sidecar) limits so a traffic surge alone saturates nothing."""
    for s in c.services:
        per_pod = rps_mult.get(s.name, 1.0) * 1.5 * nominal_rps(c)[s.name] / len(s.pods)
        need = (s.cpu_idle + s.cpu_per_req * per_pod) / keep_rho
        if need > s.cpu_limit:
            s.cpu_limit = round(need * 4 + 0.5) / 4
        if s.sidecar:
            sc = (0.02 + s.sc_per_req * per_pod) / keep_rho
            s.sc_limit = max(s.sc_limit, round(sc * 10 + 0.5) / 10)


def _downstream_mult(c, start, k):
    mult = {s.name: 1.0 for s in c.services}
    mult[start] = k
    for s in c.services:
        for d, _ in s.deps:
            if d in mult and mult[s.name] > 1:
                mult[d] = max(mult[d], k)
    return mult


def traffic_spike(rng, c, on, n):
    k, dur = rng.uniform(1.9, 4.0), rng.choice([1, 2, 6, 12])
    gws = [g for g in c.ingresses if sum(g in s.entry for s in c.services) >= 2]
    if gws and rng.random() < 0.25:
        g = rng.choice(gws)
        behind = [s.name for s in c.services if g in s.entry]
        mult = {}
        for b in behind:
            for name, v in _downstream_mult(c, b, k).items():
                mult[name] = max(mult.get(name, 1.0), v)
        _headroom(c, mult)

        def apply(t, m):
            m.ingress_ext[g] = lerp(ramp(t, on, dur), 1.0, k)
            for b in behind:
                m.err_add[b] = ramp(t, on, dur) * 0.01
        return Fault("traffic-spike", g, apply, [g] + behind, variant="gateway")
    s = rng.choice([s for s in c.services if s.entry])
    _headroom(c, _downstream_mult(c, s.name, k))
    shed = rng.choice([0.0, 0.01, 0.05])
    queue = rng.uniform(1.6, 2.4)  # the worker pool queues before the CPU runs out

    def apply(t, m):
        f = ramp(t, on, dur)
        m.ext_mult[s.name] = lerp(f, 1.0, k)
        m.lat_mult[s.name] = lerp(f, 1.0, queue)
        m.err_add[s.name] = f * shed
    alerts = [s.name] * 3 + list(s.entry)
    return Fault("traffic-spike", s.name, apply, alerts, variant="service")


def cpu_saturation(rng, c, on, n):
    s = rng.choice(c.services)
    target = rng.uniform(1.4, 3.0) * s.cpu_limit
    dur = rng.choice([1, 3, 6, 18])
    burn = rng.random() < 0.5

    def apply(t, m):
        f = ramp(t, on, dur)
        if burn:  # a runaway loop: CPU burnt whatever the traffic
            m.cpu_add[s.name] = f * target
        else:  # a hot path got dearer per request
            per_pod = max(1e-6, nominal_rps(c)[s.name] / len(s.pods))
            m.cpu_cost[s.name] = lerp(f, 1.0, max(2.0, target / (s.cpu_per_req * per_pod)))
    return Fault("cpu-saturation", s.name, apply, [s.name] * 2 + callers_up(c, s.name, rng),
                 keep={"limits"}, variant="burn" if burn else "cost")


def memory_pressure(rng, c, on, n):
    s = rng.choice(c.services)
    lead = rng.randint(36, 84)  # ticks between the leak's start and the alert's onset
    start = max(1, on - lead)
    slope = (0.98 * s.mem_limit - s.mem_base * 1.05) / (lead * 10 * rng.uniform(0.95, 1.2))

    def apply(t, m):
        if t >= start:
            m.leak[s.name] = slope
    alerts = [s.name] * 2 + callers_up(c, s.name, rng)
    return Fault("memory-pressure", s.name, apply, alerts, keep={"limits"},
                 metric=rng.choice(["latency_p99_ms", "errors_per_s"]))


def code_change(rng, c, on, n):
    s = rng.choice(c.services)
    variant = rng.choice(["errors", "latency", "n-plus-one", "errors"])
    stores = [d for d, _ in s.deps if d.startswith("mysql") or d.startswith("redis")]
    if variant == "n-plus-one" and not stores:
        variant = "latency"
    config = rng.random() < 0.2
    old = f"v{rng.randint(1, 3)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
    new = old[:-1] + str(int(old[-1]) + 1)
    detail = (f"feature flag {rng.choice(['new-pricing', 'async-checkout', 'v2-search'])} "
              "enabled" if config else f"image {s.name}:{old} -> {s.name}:{new}")
    fault = Fault("code-change", s.name, None, [s.name] * 2 + callers_up(c, s.name, rng),
                  events=[(on, s.name, "config" if config else "deploy", detail)],
                  keep={"events"}, variant=variant + ("/config" if config else "/deploy"),
                  metric="errors_per_s" if variant == "errors" else "latency_p99_ms")
    bad = set()
    if not config:
        gap = rng.randint(2, 4)
        nodes = sorted(c.nodes)
        for i, p in enumerate(list(s.pods)):
            t_new = on + i * gap
            q = Pod(pod_name(rng, s.name), s.name, rng.choice(nodes), t_new, n, p.weight)
            p.end = t_new + 1
            s.pods.append(q)
            bad.add(q.name)
    err, lat, calls = rng.uniform(0.03, 0.4), rng.uniform(3, 10), rng.uniform(4, 10)
    tmpl = rng.choice([
        "panic: runtime error: invalid memory address or nil pointer dereference in {fn}",
        "NullPointerException at com.shop.{fn}(Handler.java:{n})",
        "TypeError: Cannot read properties of undefined (reading '{fn}')",
        "failed to decode response: unexpected field {fn} in payload"])
    for q in s.pods:
        if q.name in bad or config:
            fault.new_template[q.name] = tmpl
    store = rng.choice(stores) if stores else None

    def apply(t, m):
        if t < on:
            return
        for q in s.pods:
            if config or (q.name in bad and t >= q.start):
                if variant == "errors":
                    m.pod_err[q.name] = err
                elif variant == "latency":
                    m.pod_lat[q.name] = lat
        if variant == "n-plus-one":
            frac = 1.0 if config else sum(q.name in bad and t >= q.start for q in s.pods) / \
                max(1, len(bad))
            m.calls[(s.name, store)] = lerp(frac, 1.0, calls)
    fault.apply = apply
    return fault


def _storage_slow(kind, rng, c, on, n):
    sid = rng.choice([x for x in c.storages if x.startswith(kind) and c.callers(x)])
    mult = rng.uniform(5, 40) if kind == "mysql" else rng.uniform(15, 250)
    util = rng.uniform(0.2, 0.6)
    dur = rng.choice([1, 2, 6, 12])

    def apply(t, m):
        f = ramp(t, on, dur)
        m.store_lat[sid] = lerp(f, 1.0, mult)
        m.store_util[sid] = f * util
    return Fault(kind, sid, apply, callers_up(c, sid, rng),
                 metric=rng.choice(["latency_p99_ms", "latency_p99_ms", "errors_per_s"]))


def storage_failover(rng, c, on, n):
    sid = rng.choice([x for x in c.storages if c.callers(x)])
    down, cold, cold_mult = rng.randint(2, 6), rng.randint(18, 60), rng.uniform(2, 6)
    drop = rng.uniform(0.6, 1.0)
    short = sid.split(":", 1)[1]

    def apply(t, m):
        if on <= t < on + down:
            m.store_conn[sid], m.store_err[sid] = 0.05, drop
        elif t >= on + down:
            f = max(0.0, 1 - (t - on - down) / cold)
            m.store_lat[sid] = 1 + (cold_mult - 1) * f
            m.store_err[sid] = 0.02 * f
            m.store_util[sid] = 0.3 * f
    ev = [(on, sid, "failover", f"primary {short}-0 -> {short}-1")]
    return Fault("storage-failover", sid, apply, callers_up(c, sid, rng), events=ev,
                 keep={"events"}, metric="errors_per_s")


def ingress(rng, c, on, n):
    g = rng.choice([g for g in c.ingresses if any(g in s.entry for s in c.services)])
    add, rej, dur = rng.uniform(150, 2000), rng.choice([0.0, 0.02, 0.1, 0.3]), rng.choice([1, 3, 9])

    def apply(t, m):
        f = ramp(t, on, dur)
        m.ingress_lat[g], m.ingress_err[g] = f * add, f * rej
    return Fault("ingress", g, apply, [g], metric="errors_per_s" if rej >= 0.1 and
                 rng.random() < 0.5 else "latency_p99_ms")


def sidecar(rng, c, on, n):
    opts = [s for s in c.services if s.sidecar]
    s = rng.choice(opts) if opts else rng.choice(c.services)
    if not s.sidecar:
        s.sidecar, s.sc_per_req = True, rng.uniform(0.0002, 0.0008)
    traffic = bool(s.entry) and rng.random() < 0.6
    k = rng.uniform(1.4, 1.9)
    if traffic:
        _headroom(c, _downstream_mult(c, s.name, k), keep_rho=0.6)
    per_pod = nominal_rps(c)[s.name] / len(s.pods)
    s.sc_limit = max(0.1, round((0.02 + s.sc_per_req * per_pod) / rng.uniform(0.45, 0.65)
                                * 10) / 10)
    want = rng.uniform(1.3, 2.2) * s.sc_limit / max(1e-6, 0.02 + s.sc_per_req * per_pod)
    dur = rng.choice([1, 3, 6])

    def apply(t, m):
        f = ramp(t, on, dur)
        if traffic:
            m.ext_mult[s.name] = lerp(f, 1.0, k)
            m.sc_cost[s.name] = lerp(f, 1.0, max(1.0, want / k))
        else:  # the mesh got dearer per request (mTLS policy, access logging)
            m.sc_cost[s.name] = lerp(f, 1.0, want)
    return Fault("sidecar", s.name, apply, [s.name] * 2 + callers_up(c, s.name, rng),
                 variant="traffic" if traffic else "cost")


def pod(rng, c, on, n):
    s = rng.choice([s for s in c.services if len(s.pods) >= 3] or
                   [s for s in c.services if len(s.pods) >= 2])
    p = rng.choice(s.pods)
    variant = rng.choice(["slow", "errors", "crashloop"])
    lat, err = rng.uniform(6, 40), rng.uniform(0.2, 0.8)

    def apply(t, m):
        if t < on:
            return
        if variant == "slow":
            m.pod_lat[p.name] = lat
        elif variant == "errors":
            m.pod_err[p.name] = err
        else:
            m.crashloop.add(p.name)
            m.pod_err[p.name] = 0.5
    return Fault("pod", p.name, apply, [s.name] * 3 + callers_up(c, s.name, rng),
                 keep={"pods"}, variant=variant,
                 metric="latency_p99_ms" if variant == "slow" else "errors_per_s")


def node(rng, c, on, n):
    def hosted(nd):
        return {s.name for s in c.services for p in s.pods if p.node == nd}
    nodes = sorted(c.nodes, key=lambda nd: -len(hosted(nd)))
    nd = nodes[0] if rng.random() < 0.5 else rng.choice(nodes[:2])
    variant = rng.choice(["cpu", "nic"])
    bg, err = c.nodes[nd] * rng.uniform(1.5, 3.0), rng.uniform(0.05, 0.3)

    def apply(t, m):
        f = ramp(t, on, 2)
        if variant == "cpu":
            m.node_bg[nd] = f * bg
        else:
            m.node_net[nd] = f * err
    return Fault("node", "node:" + nd, apply, sorted(hosted(nd)), keep={"nodes"},
                 variant=variant)


def network(rng, c, on, n):
    add, err = rng.uniform(15, 250), rng.choice([0.0, 0.01, 0.03, 0.1])
    dur = rng.choice([1, 2])

    def apply(t, m):
        f = ramp(t, on, dur)
        m.net_lat, m.net_err = f * add, f * err
    alerts = [s.name for s in c.services if s.entry] + [s.name for s in c.services]
    return Fault("network", "cluster", apply, alerts)


def third_party(rng, c, on, n):
    vid = rng.choice([v for v in c.vendors if c.callers(v)])
    variant = rng.choice(["slow", "errors", "both"])
    lat, err = rng.uniform(6, 40), rng.uniform(0.2, 0.9)

    def apply(t, m):
        f = ramp(t, on, 2)
        if variant != "errors":
            m.vendor_lat[vid] = lerp(f, 1.0, lat)
        if variant != "slow":
            m.vendor_err[vid] = f * err
    return Fault("third-party", vid, apply, callers_up(c, vid, rng),
                 metric="errors_per_s" if variant == "errors" else "latency_p99_ms")


def none(rng, c, on, n):
    s = rng.choice([s for s in c.services if s.entry] or c.services)
    size, length = rng.uniform(1.3, 2.5), rng.randint(2, 5)

    def apply(t, m):
        if on <= t < on + length:
            m.blip[s.name] = size
    return Fault("none", "", apply, [s.name])


PLANNERS = {"traffic-spike": traffic_spike, "cpu-saturation": cpu_saturation,
            "memory-pressure": memory_pressure, "code-change": code_change,
            "mysql": lambda *a: _storage_slow("mysql", *a),
            "redis": lambda *a: _storage_slow("redis", *a),
            "storage-failover": storage_failover, "ingress": ingress, "sidecar": sidecar,
            "pod": pod, "node": node, "network": network, "third-party": third_party,
            "none": none}


def plan(kind, rng, c, on, n):
    return PLANNERS[kind](rng, c, on, n)

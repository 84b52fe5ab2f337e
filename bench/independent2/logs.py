"""Application logs drawn from the simulated state: routine lines, slow-request warnings, and one
error line per sampled failure, worded by what failed (the dependency, or the service itself).
A healthy service may carry a red-herring error that has nothing to do with the incident."""

import math

PATHS = ["/api/v1/items", "/api/v1/cart", "/checkout", "/login", "/api/v2/search", "/healthz",
         "/api/v1/orders/{id}", "/graphql", "/api/v1/users/{id}/profile"]

ROUTINE = [
    "{method} {path} {code} {ms}ms",
    "handled request path={path} status={code} duration_ms={ms}",
    "cache refresh done entries={n} took={ms}ms",
    "processed message offset={n} partition={p}",
    "user {id} session renewed",
]
RED_HERRING = [
    "failed to refresh feature flags from flagd: connection refused",
    "metrics exporter: push to collector failed: deadline exceeded",
    "deprecated config key 'retry.max' ignored",
    "TLS handshake error from 10.0.{p}.{n}: EOF",
]


def dep_error(dep, rng):
    kind, _, name = dep.partition(":")
    if kind == "mysql":
        return rng.choice([
            f"mysql {name}: query failed after {{ms}}ms: context deadline exceeded",
            f"Error 1205: Lock wait timeout exceeded; try restarting transaction (db {name})"])
    if kind == "redis":
        return rng.choice([
            f"redis {name}: GET session:{{id}} failed: i/o timeout",
            f"dial tcp 10.0.{{p}}.{{n}}:6379: i/o timeout ({name})"])
    if kind == "http":
        return rng.choice([
            f"POST https://api.{name}.example.com/v1/{{id}} failed: 504 Gateway Timeout",
            f"call to {name} failed: context deadline exceeded after {{ms}}ms"])
    return rng.choice([f"upstream {dep} returned 503 Service Unavailable",
                       f"rpc error: code = Unavailable desc = {dep}: connection reset by peer",
                       f"request to http://{dep}:8080{{path}} timed out after {{ms}}ms"])


def _fill(tmpl, rng):
    return tmpl.format(method=rng.choice(["GET", "POST", "PUT"]), path=rng.choice(PATHS)
                       .replace("{id}", str(rng.randrange(1000, 99999))),
                       code=rng.choice([200, 200, 200, 201, 204, 304]),
                       ms=rng.randrange(1, 900), n=rng.randrange(1, 50000),
                       p=rng.randrange(0, 32), id=rng.randrange(10000, 9999999),
                       fn=rng.choice(["OrderHandler.handle", "CartService.total",
                                      "priceOf", "applyCoupon"]), line=rng.randrange(20, 400))


def poisson(rng, lam):
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam))))
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


def generate(rng, sim, fault, t0_ms, tick_s, herring):
    """Rows (ts_ms, entity, pod, node, level, message)."""
    rows = []
    info_rate = rng.uniform(0.3, 1.5)  # routine lines per pod per tick
    err_sample = rng.choice([0.02, 0.05, 0.2])
    templates = {}
    routine = {s.name: rng.sample(ROUTINE, 2) for s in sim.c.services}
    for s in sim.c.services:
        base_lat = None
        for p in s.pods:
            causes = sim.causes.get((s.name, p.name))
            lat = sim.out.get((s.name, "latency_avg_ms", p.name, p.node, "app", None))
            if causes is None:
                continue
            for t, cz in enumerate(causes):
                if cz is None:
                    continue
                ts = t0_ms + t * tick_s * 1000
                base_lat = base_lat or lat[t]
                for _ in range(poisson(rng, info_rate)):
                    rows.append((ts + rng.randrange(tick_s * 1000), s.name, p.name, p.node,
                                 "info", _fill(rng.choice(routine[s.name]), rng)))
                if lat[t] and base_lat and lat[t] > 3 * base_lat and rng.random() < 0.5:
                    rows.append((ts + rng.randrange(tick_s * 1000), s.name, p.name, p.node,
                                 "warn", f"slow request {rng.choice(PATHS)} took "
                                 f"{int(lat[t])}ms"))
                for cause, per_s in cz.items():
                    k = min(20, poisson(rng, per_s * tick_s * err_sample))
                    if cause == "self":
                        tmpl = fault.new_template.get(p.name) if t >= fault_on(fault) else None
                        tmpl = tmpl or "request failed: internal error handling {path}"
                    else:
                        tmpl = templates.get(cause) or templates.setdefault(
                            cause, dep_error(cause, rng))
                    for _ in range(k):
                        rows.append((ts + rng.randrange(tick_s * 1000), s.name, p.name,
                                     p.node, "error", _fill(tmpl, rng)))
    rows += _herring(rng, sim, t0_ms, tick_s, herring)
    return rows


def fault_on(fault):
    return fault.events[0][0] if fault.events else 0


def _herring(rng, sim, t0_ms, tick_s, herring):
    """herring = (service, start tick, message) or None."""
    if herring is None:
        return []
    name, start, msg = herring
    s = sim.c.service(name)
    rows = []
    for t in range(start, sim.n):
        if rng.random() < 0.3:
            p = rng.choice([p for p in s.pods if p.start <= t < p.end] or s.pods)
            rows.append((t0_ms + t * tick_s * 1000 + rng.randrange(tick_s * 1000), name,
                         p.name, p.node, "error", _fill(msg, rng)))
    return rows

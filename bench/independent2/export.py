"""From true per-tick series to what collectors export: scraped at their own step, with noise,
outliers, gaps, NaNs, duplicate rows, an outage, and a second collector that reports some
series differently (scaled, lagged or smoothed). Per-pod or aggregate service series, limits
as metrics or not, an optional node column: choices made per archive in `opts`."""

import math

from logs import poisson

TICK_S = 10
SERVICE_SERIES = {"requests_per_s", "errors_per_s", "latency_avg_ms", "latency_p99_ms"}
LIMITS = {"cpu_limit_cores", "mem_limit_bytes"}
NOISE = {"latency_avg_ms": 0.07, "latency_p99_ms": 0.12, "requests_per_s": 0.03,
         "cpu_cores": 0.05, "mem_rss_bytes": 0.01, "mem_cache_bytes": 0.02,
         "goroutines": 0.05, "dep_latency_ms": 0.08, "server_latency_ms": 0.08,
         "slow_queries_per_s": 0.2, "cpu_utilization": 0.04, "connections": 0.03}
COUNTS = {"errors_per_s", "dep_errors_per_s", "net_errors_per_s"}


def _aggregate_deps(out):
    """Per (service, target): errors summed and latency averaged over the pods."""
    agg = {}
    for (ent, met, pod, node, cont, tgt), vals in out.items():
        if met not in ("dep_latency_ms", "dep_errors_per_s") or pod is None:
            continue
        key = (ent, met, None, None, None, tgt)
        acc = agg.setdefault(key, [[0.0, 0] for _ in vals])
        for i, v in enumerate(vals):
            if v is not None:
                acc[i][0] += v
                acc[i][1] += 1
    res = {}
    for key, acc in agg.items():
        mean = key[1] == "dep_latency_ms"
        res[key] = [(s / k if mean else s) if k else None for s, k in acc]
    return res


def select(out, opts):
    """The series this archive exports, keyed as the simulator keys them."""
    res = {}
    for key, vals in out.items():
        ent, met, pod = key[0], key[1], key[2]
        if met in LIMITS and not opts["limit_metrics"]:
            continue
        if met in SERVICE_SERIES and ":" not in ent:
            if (pod is None and opts["agg"] == "pods") or (pod and opts["agg"] == "aggregate"):
                continue
        if met.startswith("dep_") and pod and opts["agg"] == "aggregate":
            continue
        res[key] = vals
    if opts["agg"] == "aggregate":
        res.update(_aggregate_deps(out))
    return res


def scrape(vals, step, phase):
    """Mean of the ticks in (T - step, T] for every scrape time T (seconds from tick 0)."""
    n, res, t = len(vals), [], phase
    while t < n * TICK_S:
        lo, hi = math.floor((t - step) / TICK_S) + 1, math.floor(t / TICK_S)
        got = [vals[i] for i in range(max(0, lo), min(n - 1, hi) + 1) if vals[i] is not None]
        res.append((t, sum(got) / len(got) if got else None))
        t += step
    return res


def noisy(rng, met, samples, step):
    sigma, ar, res = NOISE.get(met), 0.0, []
    for t, v in samples:
        if v is None:
            res.append((t, None))
            continue
        if met in COUNTS:  # a counter's increase over the step, as a rate
            v = poisson(rng, max(v, 0.0) * step) / step
        elif sigma:
            ar = 0.6 * ar + rng.gauss(0, sigma * 0.8)
            v = max(0.0, v * (1 + ar))
            if rng.random() < 0.002:
                v *= rng.uniform(2, 6)  # a scrape that caught a stall
        if met in ("connections", "goroutines", "restarts"):
            v = float(round(v))
        res.append((t, v))
    return res


def distort(rng, samples):
    """How a second collector gets the same series wrong."""
    how = rng.choice(["scale", "lag", "smooth"])
    if how == "scale":
        k = rng.uniform(0.5, 0.8)
        return [(t, None if v is None else v * k) for t, v in samples], how
    if how == "lag":
        k = rng.randint(2, 6)
        vals = [v for _, v in samples]
        return [(t, vals[max(0, i - k)]) for i, (t, _) in enumerate(samples)], how
    k = rng.randint(4, 12)
    res = []
    for i, (t, v) in enumerate(samples):
        win = [x for _, x in samples[max(0, i - k):i + 1] if x is not None]
        res.append((t, sum(win) / len(win) if win else None))
    return res, how


def gaps(rng, samples, rate):
    if rng.random() > rate:
        return samples
    res = list(samples)
    for _ in range(rng.randint(1, 2)):
        a = rng.randrange(len(res))
        for i in range(a, min(len(res), a + rng.randint(2, 20))):
            res[i] = (res[i][0], None)
    return res


def rows(rng, sim, opts, t0_ms):
    """List of (ts_ms, entity, metric, value, pod, node, container, target, source)."""
    series = select(sim.out, opts)
    step, src = opts["step"], opts["source"]
    phase = rng.uniform(0, step)
    outage = opts["outage"]  # (from s, to s) when the primary collector was down, or None
    res = []
    for key in sorted(series, key=lambda k: tuple("" if x is None else x for x in k)):
        met = key[1]
        samples = noisy(rng, met, scrape(series[key], step, phase), step)
        samples = gaps(rng, samples, opts["gap_rate"])
        emit(rng, res, samples, key, src, outage, t0_ms, opts)
        if key in opts["second"]:
            second, _ = distort(rng, samples)
            step2 = opts["second_step"]
            if step2 != step:
                second = noisy(rng, met, scrape(series[key], step2, phase), step2)
                second, _ = distort(rng, second)
            emit(rng, res, second, key, opts["source2"], None, t0_ms, opts)
    return res


def emit(rng, res, samples, key, src, outage, t0_ms, opts):
    ent, met, pod, node, cont, tgt = key
    cont = None if cont == "app" and opts["null_app"] else cont
    node = node if opts["node_col"] else None
    for t, v in samples:
        if outage and outage[0] <= t < outage[1]:
            continue
        if v is None:
            continue
        if rng.random() < 0.003:
            v = float("nan")
        ts = t0_ms + int(t * 1000) + rng.randrange(-400, 400)
        res.append((ts, ent, opts["alias"].get(met, met), v, pod, node, cont, tgt, src))
        if rng.random() < 0.002:
            res.append((ts, ent, opts["alias"].get(met, met), v * rng.uniform(0.9, 1.1),
                        pod, node, cont, tgt, src))

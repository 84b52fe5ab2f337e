#!/usr/bin/env python3
"""Independent incident generator: archives (contract v1) of the 13 root-cause kinds and false
alarms, from a random cluster, the physics of each fault, confounders and collector artefacts.

    python3 bench/independent2/gen.py --seeds 1..10 --out /tmp/corpus

Writes ROOT/seed-NNN/<kind>/ archives and ROOT/manifest.tsv (id, kind, culprit, variant,
confounders). The same seed always gives the same archives.
"""

import argparse
import datetime as dt
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster as cl  # noqa: E402
import confound  # noqa: E402
import export  # noqa: E402
import logs as lg  # noqa: E402
import write  # noqa: E402
from faults import KINDS, NEEDS, plan  # noqa: E402
from sim import TICK_S, Sim  # noqa: E402

SOURCES = [("cadvisor", "mesh-dashboard"), ("prometheus", "datadog-agent"),
           ("otel-collector", "cadvisor"), ("kube-prometheus", "newrelic-infra")]
ALIASES = {"latency_p99_ms": "http_server_duration_p99_ms",
           "requests_per_s": "http_requests_rate", "cpu_cores": "container_cpu_usage_cores"}


def timeline(rng):
    """Ticks: data start, baseline, window, fired_at; and the [window] table or None."""
    explicit = rng.random() < 0.3
    base_min = rng.choice([30, 45, 60]) if explicit else 60
    before = rng.choice([10, 15, 20]) if explicit else 15
    after = rng.choice([10, 15, 25]) if explicit else 15
    pre, post = rng.randint(0, 60), rng.randint(0, 30)
    b0 = pre
    w0 = b0 + base_min * 6
    fired = w0 + before * 6
    w1 = fired + after * 6
    n = w1 + post
    day = dt.datetime(2025, 1, 6, tzinfo=dt.timezone.utc) + dt.timedelta(days=rng.randrange(300))
    fired_epoch = int(day.timestamp()) + rng.randrange(0, 86400 // 10) * 10
    t0 = fired_epoch - fired * TICK_S
    win = (t0 + w0 * TICK_S, t0 + w1 * TICK_S, t0 + b0 * TICK_S, t0 + w0 * TICK_S) \
        if explicit else None
    return {"b0": b0, "w0": w0, "fired": fired, "w1": w1, "n": n, "t0": t0, "window": win}


def pick_alert(sim, fault, tl):
    """The first candidate whose series really worsened, as a monitor would have fired."""
    seen, cands = set(), []
    for a in fault.alerts:
        if a not in seen:
            seen.add(a)
            cands.append(a)
    metrics = [fault.metric] + [m for m in ("latency_p99_ms", "errors_per_s") if m != fault.metric]
    for met in metrics:
        for ent in cands:
            vals = sim.out.get((ent, met, None, None, None, None))
            if vals and worsened(vals, tl, met):
                return ent, met
    return cands[0], fault.metric


def alert_check(sim, alert, tl):
    """The alert series' baseline median -> median after the alert, for the manifest."""
    vals = sim.out.get((alert[0], alert[1], None, None, None, None)) or []
    xs = sorted(v for v in vals[tl["b0"]:tl["w0"]] if v is not None)
    ys = sorted(v for v in vals[tl["fired"]:tl["w1"]] if v is not None)
    if not xs or not ys:
        return "-"
    return f"{xs[len(xs) // 2]:.3g}->{ys[len(ys) // 2]:.3g}"


def worsened(vals, tl, met):
    """Sustained (median) or spiky (90th percentile) worsening after the onset."""
    def q(a, b, f):
        xs = sorted(v for v in vals[a:b] if v is not None)
        return xs[int(f * (len(xs) - 1))] if xs else None
    for f, k in ((0.5, 1.0), (0.9, 2.0)):
        base, inc = q(tl["b0"], tl["w0"], f), q(tl["fired"] - 6, tl["w1"], f)
        if base is None or inc is None:
            return False
        if met == "errors_per_s" and inc > k * max(2 * base, base + 0.5):
            return True
        if met != "errors_per_s" and inc > k * 1.3 * base:
            return True
    return False


def options(rng, kind, fault, c):
    keep = set(fault.keep)
    if kind in ("cpu-saturation", "memory-pressure", "sidecar"):
        keep.add("limits")
    drop_limits = "limits" not in keep and rng.random() < 0.25
    modes = ["metric"] * 3 + ["both"] + ([] if "limits" in keep else ["toml"])
    lim_mode = "none" if drop_limits else rng.choice(modes)
    src, src2 = rng.choice(SOURCES)
    second = set()
    if rng.random() < 0.6:
        svcs = rng.sample(c.services, min(len(c.services), rng.randint(1, 3)))
        if rng.random() < 0.5 and any(s.name == fault.culprit for s in c.services):
            svcs.append(c.service(fault.culprit))
        cont = rng.choice(["app", "sidecar"])
        for s in svcs:
            for p in s.pods:
                second.add((s.name, "cpu_cores", p.name, p.node, cont, None))
    step = rng.choice([10, 15, 20, 30, 30, 60])
    agg = rng.choice(["pods", "aggregate", "both", "both"])
    if kind == "pod" and agg == "aggregate":
        agg = "both"
    return {
        "limit_metrics": lim_mode in ("metric", "both"), "limit_toml": lim_mode in ("toml", "both"),
        "agg": agg, "step": step, "source": src, "source2": src2, "second": second,
        "second_step": rng.choice([step, step, 60]), "gap_rate": rng.choice([0.0, 0.05, 0.2]),
        "null_app": rng.random() < 0.5,
        "node_col": "nodes" in keep or rng.random() < 0.85,
        "alias": ({k: v for k, v in ALIASES.items() if rng.random() < 0.5}
                  if rng.random() < 0.15 else {}),
        "logs": rng.random() < 0.75, "events": "events" in keep or rng.random() < 0.75,
        "topology": rng.choice(["full"] * 6 + ["sparse"] * 3 + ["none"]),
        "ts": rng.choice(["ms", "us_utc", "int64"]), "f32": rng.random() < 0.15,
        "split": rng.choice(["all", "all", "family", "time"]),
    }


def topology(rng, c, opts):
    if opts["topology"] == "none":
        return []
    ents = []
    for s in c.services:
        if opts["topology"] == "sparse" and rng.random() < 0.5:
            continue
        deps = [d for d, _ in s.deps]
        if opts["topology"] == "sparse":
            deps = [d for d in deps if rng.random() < 0.6]
        e = {"id": s.name, "depends_on": deps, "entry": s.entry if opts["topology"] == "full"
             else [], "sidecar": s.sidecar if opts["topology"] == "full" or s.sidecar else None}
        if opts["limit_toml"]:
            e["resources"] = {"app_cpu": s.cpu_limit, "app_mem_bytes": int(s.mem_limit)}
            if s.sidecar:
                e["resources"].update(sidecar_cpu=s.sc_limit, sidecar_mem_bytes=2**28)
        ents.append(e)
    return ents


def herring(rng, c, fault, tl):
    others = [s for s in c.services if s.name != fault.culprit]
    if not others or rng.random() < 0.4:
        return None
    s = rng.choice(others)
    start = 0 if rng.random() < 0.5 else rng.randint(tl["w0"], tl["fired"] + 6)
    return s.name, start, rng.choice(lg.RED_HERRING)


def generate(seed, kind, root):
    rng = random.Random(f"independent2/{seed}/{kind}")
    tl = timeline(rng)
    c = cl.build(rng, tl["n"], NEEDS.get(kind, set()))
    # symptoms start 1-6 min before the alert; a false alarm fires on the blip itself,
    # a failover's error burst fires the alert within a minute or so
    quick = kind in ("none", "storage-failover")
    on = tl["fired"] - (rng.randint(1, 4) if quick else rng.randint(6, 36))
    fault = plan(kind, rng, c, on, tl["n"])
    applies, events, notes = confound.add(rng, c, fault, tl["n"], tl["w0"], tl["fired"])
    sim = Sim(rng, c, tl["n"], tl["t0"], [fault.apply] + applies).run()
    alert = pick_alert(sim, fault, tl)
    check = alert_check(sim, alert, tl)
    opts = options(rng, kind, fault, c)
    t_out = (tl["t0"] + tl["fired"] * TICK_S + 60 * rng.randint(-40, 10), 0)
    opts["outage"] = ((t_out[0] - tl["t0"]), (t_out[0] - tl["t0"]) + 60 * rng.randint(1, 5)) \
        if rng.random() < 0.25 else None
    t0_ms = tl["t0"] * 1000
    ident = f"s{seed:03d}-{kind}"
    d = os.path.join(root, f"seed-{seed:03d}", kind)
    mrows = export.rows(rng, sim, opts, t0_ms)
    drop = () if opts["node_col"] else ("node",)
    write.write_split(mrows, write.METRIC_COLS, os.path.join(d, "metrics"), opts["ts"],
                      opts["split"], rng, opts["f32"], drop)
    if opts["logs"]:
        lrows = lg.generate(rng, sim, fault, t0_ms, TICK_S, herring(rng, c, fault, tl))
        lrows.sort(key=lambda r: (r[0], r[1], r[2]))
        ldrop = () if rng.random() < 0.7 else ("level",)
        write.write_split(lrows, ["ts", "entity", "pod", "node", "level", "message"],
                          os.path.join(d, "logs"), opts["ts"], "all", rng, drop=ldrop)
    all_events = [e for e in fault.events + events if 0 <= e[0] < tl["n"]]
    if opts["events"] and all_events:
        erows = sorted((t0_ms + t * TICK_S * 1000, ent, k, det) for t, ent, k, det in all_events)
        write.write_split(erows, ["ts", "entity", "kind", "detail"], os.path.join(d, "events"),
                          opts["ts"], "all", rng)
    inc = {"id": ident, "title": f"{alert[0]} {alert[1]} alert",
           "alert": (alert[0], alert[1], tl["t0"] + tl["fired"] * TICK_S),
           "window": tl["window"], "entities": topology(rng, c, opts),
           "aliases": {v: k for k, v in opts["alias"].items()},
           "expected": (kind, fault.culprit)}
    with open(os.path.join(d, "incident.toml"), "w") as f:
        f.write(write.toml(inc))
    return [ident, kind, fault.culprit or "-", fault.variant or "-", f"{alert[0]} {alert[1]}",
            check, "; ".join(notes) or "-"]


def parse_seeds(text):
    if ".." in text:
        a, b = text.split("..")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in text.split(",")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1..10")
    ap.add_argument("--out", required=True)
    ap.add_argument("--kinds", default=",".join(KINDS))
    args = ap.parse_args()
    manifest = []
    for seed in parse_seeds(args.seeds):
        for kind in args.kinds.split(","):
            manifest.append(generate(seed, kind, args.out))
    with open(os.path.join(args.out, "manifest.tsv"), "w") as f:
        f.write("id\tkind\tculprit\tvariant\talert\talert_true_median\tconfounders\n")
        for row in manifest:
            f.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A naive ranker on the same imported archives funnel analyses: every series' robust median
shift, |median(incident) - median(baseline)| / max(1.4826 * MAD(baseline), 1 % of
|median(baseline)|), and each entity ranked by its largest. The floor any analyzer should clear. Prints one JSON line like realdata_eval.py.

Usage: naive_cases.py <archives-root>
"""
import glob, json, os, sys, time, tomllib, warnings

warnings.filterwarnings("ignore")
import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from realdata_eval import expected, score  # noqa: E402


def windows(spec):
    """(start, end, baseline_start, baseline_end) as naive timestamps, with the archive
    contract's defaults: start = fired_at - 15 min, end = fired_at + 15 min, baseline the 60 min
    before start."""
    fired = pd.Timestamp(spec["alert"]["fired_at"]).tz_localize(None)
    w = spec.get("window", {})
    t = lambda k, d: pd.Timestamp(w[k]).tz_localize(None) if k in w else d
    start = t("start", fired - pd.Timedelta(minutes=15))
    end = t("end", fired + pd.Timedelta(minutes=15))
    return start, end, t("baseline_start", start - pd.Timedelta(minutes=60)), t("baseline_end", start)


def shifts(archive):
    spec = tomllib.load(open(os.path.join(archive, "incident.toml"), "rb"))
    start, end, b0, b1 = windows(spec)
    df = pd.concat([pd.read_parquet(f) for f in glob.glob(os.path.join(archive, "metrics", "*.parquet"))])
    ts = pd.to_datetime(df["ts"])
    if ts.dt.tz is not None:
        ts = ts.dt.tz_localize(None)
    df["t"] = ts
    pod = df["pod"].fillna("") if "pod" in df else ""
    df["col"] = df["entity"] + "|" + df["metric"] + "|" + pod
    base = df[(df["t"] >= b0) & (df["t"] < b1)]
    inc = df[(df["t"] >= start) & (df["t"] < end)]
    best = {}
    bg = base.groupby("col")["value"]
    ig = inc.groupby("col")["value"].median()
    for col, vals in bg:
        v = vals.dropna().to_numpy()
        if len(v) < 3 or col not in ig or np.isnan(ig[col]):
            continue
        med = np.median(v)
        mad = 1.4826 * np.median(np.abs(v - med))
        # A flat baseline (MAD 0: a gauge that rarely changes, memory in bytes) would give any
        # wobble an infinite score; 1 % of the baseline level is the least shift that counts.
        scale = max(mad, 0.01 * abs(med), 1e-9)
        s = abs(ig[col] - med) / scale
        e = col.split("|")[0]
        best[e] = max(best.get(e, 0.0), s)
    return [e for e, _ in sorted(best.items(), key=lambda x: (-x[1], x[0]))]


def main():
    root = sys.argv[1]
    lists, misses, t0 = [], [], time.time()
    names = sorted(n for n in os.listdir(root) if os.path.isfile(os.path.join(root, n, "incident.toml")))
    for name in names:
        a = os.path.join(root, name)
        truth = expected(a)
        if truth is None:
            continue
        try:
            ranked = shifts(a)
        except Exception as e:  # a case the ranker cannot score counts as a miss
            ranked = []
            misses.append(f"{name}: naive failed: {e}")
        if truth not in ranked[:1]:
            misses.append(f"{name}: want {truth}, got {ranked[:3]}")
        lists.append((truth, ranked))
    res = score(lists)
    res["secs_per_case"] = (time.time() - t0) / max(len(names), 1)
    res["misses"] = misses
    print(json.dumps(res))


if __name__ == "__main__":
    main()

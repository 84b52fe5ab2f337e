#!/usr/bin/env python3
"""The naive ranker the benchmark prints beside funnel: every entity scored by the largest robust
shift of any of its series between the baseline and the incident window,

    z = |med(window) - med(baseline)| / (1.4826 MAD(baseline) + 0.01 |med(baseline)| + 1e-9)

and the top entity named as the culprit. It reads only metrics and the windows of incident.toml
(never [expected] for ranking); it can name an entity id, so never a pod, `cluster` or "none".

    python3 bench/independent2/naive.py ROOT   ->  TSV: dir, id, kind, culprit, naive, rank
"""

import datetime as dt
import os
import sys
import tomllib

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

KEY = ["entity", "metric", "pod", "container", "target", "source"]


def _epoch_ms(v):
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.timezone.utc)
        return int(v.timestamp() * 1000)
    raise ValueError(f"not a datetime: {v!r}")


def windows(inc):
    fired = _epoch_ms(inc["alert"]["fired_at"])
    w = inc.get("window", {})
    start = _epoch_ms(w["start"]) if "start" in w else fired - 15 * 60_000
    end = _epoch_ms(w["end"]) if "end" in w else fired + 15 * 60_000
    b1 = _epoch_ms(w["baseline_end"]) if "baseline_end" in w else start
    b0 = _epoch_ms(w["baseline_start"]) if "baseline_start" in w else start - 60 * 60_000
    return b0, b1, start, end


def _ts_ms(col):
    if pa.types.is_timestamp(col.type):
        return pc.cast(pc.cast(col, pa.timestamp("ms", tz=col.type.tz)), pa.int64())
    return pc.cast(col, pa.int64())


def load(folder):
    tables = [pq.read_table(os.path.join(folder, f)) for f in sorted(os.listdir(folder))
              if f.endswith(".parquet")]
    rows = {}
    for t in tables:
        ts = _ts_ms(t.column("ts")).to_pylist()
        vals = pc.cast(t.column("value"), pa.float64()).to_pylist()
        cols = [t.column(k).to_pylist() if k in t.column_names else [None] * len(ts)
                for k in KEY]
        for i in range(len(ts)):
            v = vals[i]
            if v is None or v != v:
                continue
            rows.setdefault(tuple(c[i] for c in cols), []).append((ts[i], v))
    return rows


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def rank(archive):
    with open(os.path.join(archive, "incident.toml"), "rb") as f:
        inc = tomllib.load(f)
    b0, b1, w0, w1 = windows(inc)
    best = {}
    for key, pts in load(os.path.join(archive, "metrics")).items():
        base = [v for t, v in pts if b0 <= t < b1]
        win = [v for t, v in pts if w0 <= t <= w1]
        if len(base) < 3 or len(win) < 3:
            continue
        mb = _median(base)
        mad = _median([abs(v - mb) for v in base])
        z = abs(_median(win) - mb) / (1.4826 * mad + 0.01 * abs(mb) + 1e-9)
        ent = key[0]
        if z > best.get(ent, -1.0):
            best[ent] = z
    return inc, sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))


def archives(root):
    for d, _, files in sorted(os.walk(root)):
        if "incident.toml" in files:
            yield d


def main():
    root = sys.argv[1]
    print("dir\tid\tkind\tculprit\tnaive\trank")
    for d in archives(root):
        inc, ranking = rank(d)
        exp = inc.get("expected", {})
        culprit = exp.get("culprit", "")
        names = [e for e, _ in ranking]
        r = names.index(culprit) + 1 if culprit in names else 0
        print("\t".join([os.path.relpath(d, root), inc.get("id", os.path.basename(d)),
                         exp.get("kind", ""), culprit, names[0] if names else "", str(r)]))


if __name__ == "__main__":
    main()

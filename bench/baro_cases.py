#!/usr/bin/env python3
"""BARO (RCAEval) on the same imported archives funnel analyses: same data, same windows.

Reads each archive's metrics/*.parquet and incident.toml, pivots to the wide layout BARO
expects (`time` in unix seconds, one column per entity|metric|pod), fills NaNs, splits at the
incident window start and ranks columns; a column's entity is its culprit. Timing includes
reading the Parquet files. Prints one JSON line like realdata_eval.py plus "secs_per_case".

Usage: baro_cases.py <archives-root>
"""
import datetime, glob, importlib.util, json, os, re, sys, time, tomllib, warnings

warnings.filterwarnings("ignore")
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from realdata_eval import expected, score  # noqa: E402


def load_baro():
    # On Python 3.11 `from RCAEval.e2e import baro` fails on a matplotlib import in the
    # package's __init__; load the module file directly.
    import RCAEval
    path = os.path.join(os.path.dirname(RCAEval.__file__), "e2e", "baro.py")
    spec = importlib.util.spec_from_file_location("baro_module", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.baro


def wide(archive):
    df = pd.concat([pd.read_parquet(f) for f in glob.glob(os.path.join(archive, "metrics", "*.parquet"))])
    pod = df["pod"].fillna("") if "pod" in df else ""
    df["col"] = df["entity"] + "|" + df["metric"] + "|" + pod
    # RCAEval's own loaders convert memory to MB (`convert_mem_mb` on `*_mem` columns) before
    # BARO's RobustScaler, whose unit scale on a flat baseline would otherwise rank raw bytes.
    mem = df["metric"].str.endswith("_bytes")
    df.loc[mem, "value"] = df.loc[mem, "value"] / 1e6
    df["time"] = pd.to_datetime(df["ts"]).astype("datetime64[s]").astype("int64")
    w = df.pivot_table(index="time", columns="col", values="value", aggfunc="mean").sort_index()
    w = w.ffill().bfill().fillna(0.0)
    w.columns = [str(c) for c in w.columns]
    return w.reset_index()


def main():
    root = sys.argv[1]
    baro = load_baro()
    lists, misses, t0 = [], [], time.time()
    names = sorted(n for n in os.listdir(root) if os.path.isfile(os.path.join(root, n, "incident.toml")))
    for name in names:
        a = os.path.join(root, name)
        truth = expected(a)
        spec = tomllib.load(open(os.path.join(a, "incident.toml"), "rb"))
        w = spec.get("window", {})
        start = w["start"] if "start" in w else spec["alert"]["fired_at"] - datetime.timedelta(minutes=15)
        inject = int(start.timestamp())
        try:
            out = baro(wide(a), inject_time=inject, dataset="funnel-import")
            ranked = []
            for col in out["ranks"]:
                e = col.split("|")[0]
                if e not in ranked:
                    ranked.append(e)
        except Exception as e:  # a case BARO cannot score counts as a miss
            ranked = []
            misses.append(f"{name}: BARO failed: {e}")
        lists.append((truth, ranked))
    res = score(lists)
    res["secs_per_case"] = (time.time() - t0) / max(len(names), 1)
    res["misses"] = misses
    print(json.dumps(res))


if __name__ == "__main__":
    main()

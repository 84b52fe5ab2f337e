#!/usr/bin/env python3
"""Layout matrix of the large-archive benchmark (issue 21).

The same metric rows (SERVICES services x 42 series x 1,800 samples at 5 s: 20.4 M rows at 270
services) written the ways users' tools write Parquet, then for each layout:

  * funnel: `funnel analyze` wall time (process, report included), its read stage
    (FUNNEL_TIMINGS=1) and peak RSS (/usr/bin/time);
  * the floor: Python polars, lazy scan + group-by mean per series, once over the whole
    archive and once file by file; the faster of the two, with its peak RSS.

Both run in the same invocation, one after the other, best of REPEAT (default 1); FLOOR=0 skips
the floor (bench/memory.sh, where only funnel's time and peak RSS matter).

  FUNNEL_BIN=target/release/funnel python3 bench/layouts.py
  LAYOUTS=dict-grouped,plain-time SERVICES=68,270,810 python3 bench/layouts.py   # linearity
  python3 bench/layouts.py --list

Needs python3 with polars and pyarrow (PyPI); skips with a message without them. Archives are
generated under BENCH_DIR (default target/bench-layouts), reused across runs, never committed.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASE_TS = 1_714_567_500_000  # 2024-05-01T12:45:00Z, the baseline start
FIRED_MS = 1_714_575_600_000  # 2024-05-01T15:00:00Z
FIRED = "2024-05-01T15:00:00Z"
STEP_MS = 5_000
SAMPLES = 150 * 60_000 // STEP_MS  # baseline + window: 2.5 h
FAULT_AT = (FIRED_MS - 8 * 60_000 - BASE_TS) // STEP_MS
KEYS = ["entity", "metric", "pod", "container", "target"]
TEXT = ["entity", "metric", "pod", "node", "container", "target"]

# name: (strings, order, files, row group rows (None: the writer's default), ts unit, tz)
LAYOUTS = {
    "plain-grouped": ("plain", "series", 6, None, "ms", None),
    "dict-grouped": ("dict", "series", 6, None, "ms", None),
    "view-grouped": ("view", "series", 6, None, "ms", None),
    "plain-time": ("plain", "time", 6, None, "ms", None),
    "dict-time": ("dict", "time", 6, None, "ms", None),
    "view-time": ("view", "time", 6, None, "ms", None),
    "polars-grouped": ("polars", "series", 6, None, "ms", None),
    "polars-time": ("polars", "time", 6, None, "ms", None),
    "one-file": ("plain", "series", 1, None, "ms", None),
    "files-1000": ("plain", "series", 1000, None, "ms", None),
    "rg-small": ("plain", "series", 6, 10_000, "ms", None),
    "rg-large": ("plain", "series", 6, 1 << 30, "ms", None),
    "ts-ns": ("plain", "series", 6, None, "ns", None),
    "ts-ms-utc": ("plain", "series", 6, None, "ms", "UTC"),
    "ts-ns-utc": ("dict", "time", 6, None, "ns", "UTC"),
    # A per-interval export (one file every 2.5 minutes); written file by file, so bench/memory.sh
    # can generate 200 M rows without holding them.
    "dict-time-60": ("dict", "time", 60, None, "ms", None),
}


def series_table(pl, services):
    """One row per series, 42 per service, as benches/large.rs lays them out."""
    rows = []
    for s in range(services):
        svc = f"svc-{s:03}"
        deps = [f"mysql:db-{s % 20:02}", f"redis:cache-{(s * 7) % 20:02}"]
        fault = 4.0 if s == 0 else 1.0

        def add(metric, level, pod=None, node=None, container=None, target=None, mult=1.0):
            rows.append((svc, metric, pod, node, container, target, level, mult, len(rows)))

        for m, lvl in [("latency_p99_ms", 120.0), ("latency_avg_ms", 40.0),
                       ("requests_per_s", 300.0), ("errors_per_s", 0.5)]:
            add(m, lvl, mult=fault if m.startswith("latency") else 1.0)
        for p in range(4):
            pod, node = f"{svc}-7f9c-{p}", f"node-{(s + p) % 40}"
            for c, cpu in [("app", 1.2), ("sidecar", 0.6)]:
                add("cpu_cores", cpu, pod, node, c,
                    mult=3.3 if s == 0 and c == "sidecar" else 1.0)
                add("cpu_limit_cores", 4.0 if c == "app" else 2.0, pod, node, c)
                add("mem_rss_bytes", 5e8, pod, node, c)
            add("latency_p99_ms", 120.0, pod, node, mult=fault)
            for d in deps:
                add("dep_latency_ms", 3.0, pod, node, target=d, mult=fault)
        for d in deps:
            add("dep_latency_ms", 3.0, target=d, mult=fault)
    cols = ["entity", "metric", "pod", "node", "container", "target", "level", "mult", "sid"]
    return pl.DataFrame(rows, schema=cols, orient="row")


def incident_toml(services):
    out = [f'id = "layouts"\ntitle = "Benchmark: {services} services"\n\n[alert]\n'
           f'entity = "svc-000"\nmetric = "latency_p99_ms"\nfired_at = {FIRED}\n']
    for s in range(services):
        deps = [f"mysql:db-{s % 20:02}", f"redis:cache-{(s * 7) % 20:02}"]
        out.append(f'\n[[entity]]\nid = "svc-{s:03}"\ndepends_on = ["{deps[0]}", "{deps[1]}"]\n'
                   "sidecar = true\n")
    return "".join(out)


def rows_frame(pl, services, lo=0, hi=SAMPLES):
    """Samples lo..hi of every series, grouped by series, in time order within a series."""
    series = series_table(pl, services)
    i = pl.int_range(lo, hi, dtype=pl.Int64, eager=True).alias("i").to_frame()
    df = series.join(i, how="cross")
    # Deterministic noise in [-1, 1) from a hash of (series, sample).
    noise = (pl.struct("sid", "i").hash(seed=7) % 2_000_000).cast(pl.Float64) / 1e6 - 1.0
    value = pl.col("level") * (1.0 + 0.05 * noise)
    value = pl.when(pl.col("i") >= FAULT_AT).then(value * pl.col("mult")).otherwise(value)
    return df.select(
        (pl.lit(BASE_TS) + pl.col("i") * STEP_MS).alias("ts"),
        *TEXT[:2], value.alias("value"), *TEXT[2:], "i",
    )


def write_layout(pl, pa, pq, base, out, spec, toml):
    strings, order, files, rg, unit, tz = spec
    metrics = out / "metrics"
    metrics.mkdir(parents=True)
    df = base.sort("i", maintain_order=True) if order == "time" else base
    write_files(pl, pa, pq, df, metrics, spec, 0)
    (out / "incident.toml").write_text(toml)


def write_time_ordered(pl, pa, pq, services, out, spec, toml):
    """A time-ordered layout file by file (each a range of samples), so that 60 M rows fit in
    memory: the same files `write_layout` writes when `files` divides SAMPLES."""
    metrics = out / "metrics"
    metrics.mkdir(parents=True)
    files = spec[2]
    for k in range(files):
        lo, hi = SAMPLES * k // files, SAMPLES * (k + 1) // files
        df = rows_frame(pl, services, lo, hi).sort("i", maintain_order=True)
        write_files(pl, pa, pq, df, metrics, (*spec[:2], 1, *spec[3:]), k)
        del df
    (out / "incident.toml").write_text(toml)


def write_files(pl, pa, pq, df, metrics, spec, first):
    strings, order, files, rg, unit, tz = spec
    df = df.drop("i")
    ts = pl.col("ts").cast(pl.Datetime("ms"))
    if unit == "ns":
        ts = ts.cast(pl.Datetime("ns"))
    if tz:
        ts = ts.dt.replace_time_zone(tz)
    df = df.with_columns(ts)
    n = df.height
    cuts = [n * k // files for k in range(files + 1)]
    for k in range(files):
        part = df.slice(cuts[k], cuts[k + 1] - cuts[k])
        path = metrics / f"part-{first + k:04}.parquet"
        if strings == "polars":
            # What Python polars users write: polars' own writer.
            part.write_parquet(path, compression="zstd", row_group_size=rg)
            continue
        table = part.to_arrow()
        cols = []
        for name, col in zip(table.column_names, table.columns):
            if name in TEXT:
                col = col.cast(pa.string_view() if strings == "view" else pa.string())
                if strings == "dict":  # pandas categoricals, as pyarrow stores them
                    col = col.dictionary_encode()
            cols.append(col)
        table = pa.table(cols, names=table.column_names)
        pq.write_table(table, path, compression="zstd",
                       row_group_size=rg if rg else None)


def generate(root, services, names):
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    toml = incident_toml(services)
    base = None
    for name in names:
        out = root / f"s{services}" / name
        if (out / "incident.toml").exists():
            continue
        spec = LAYOUTS[name]
        if spec[1] == "time" and SAMPLES % spec[2] == 0:
            if out.exists():
                shutil.rmtree(out)
            t = time.time()
            write_time_ordered(pl, pa, pq, services, out, spec, toml)
            print(f"# wrote {name} in {time.time() - t:.1f} s", flush=True)
            continue
        if base is None:
            t = time.time()
            base = rows_frame(pl, services)
            print(f"# generated {base.height:,} rows in {time.time() - t:.1f} s", flush=True)
        if out.exists():
            shutil.rmtree(out)
        t = time.time()
        write_layout(pl, pa, pq, base, out, LAYOUTS[name], toml)
        print(f"# wrote {name} in {time.time() - t:.1f} s", flush=True)


FLOOR = r"""
import resource, sys, time, glob
import polars as pl
mode, d = sys.argv[1], sys.argv[2]
keys = %r
q = lambda lf: lf.group_by(keys).agg(pl.col("value").mean())
t = time.time()
if mode == "whole":
    n = q(pl.scan_parquet(d + "/metrics/*.parquet")).collect().height
else:
    n = sum(q(pl.scan_parquet(f)).collect().height for f in sorted(glob.glob(d + "/metrics/*.parquet")))
print(time.time() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, n)
""" % (KEYS,)


def floor(d):
    best = None
    for mode in ("whole", "per-file"):
        o = subprocess.run([sys.executable, "-c", FLOOR, mode, str(d)], check=True,
                           capture_output=True, text=True).stdout.split()
        r = (float(o[0]), float(o[1]), mode)
        best = r if best is None or r[0] < best[0] else best
    return best


def funnel(binary, d):
    with tempfile.TemporaryDirectory() as out:
        t = time.time()
        p = subprocess.run(["/usr/bin/time", "-f", "RSS %M", binary, "analyze", str(d),
                            "--out", out], env={**os.environ, "FUNNEL_TIMINGS": "1"},
                           capture_output=True, text=True)
        wall = time.time() - t
    if p.returncode != 0:
        sys.exit(f"funnel failed on {d}:\n{p.stderr}")
    read = re.search(r"read ([0-9.]+) ms", p.stderr)
    rss = re.search(r"RSS (\d+)", p.stderr)
    return wall, float(read.group(1)) / 1e3 if read else float("nan"), int(rss.group(1)) / 1024


def main():
    if "--list" in sys.argv:
        print("\n".join(LAYOUTS))
        return
    try:
        import polars  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        print("skipping: needs python3 with polars and pyarrow (pip install polars pyarrow)")
        return
    binary = os.environ.get("FUNNEL_BIN", str(REPO / "target/release/funnel"))
    if not os.access(binary, os.X_OK):
        print(f"skipping: {binary} not found (cargo build --release, or set FUNNEL_BIN)")
        return
    names = [n for n in os.environ.get("LAYOUTS", ",".join(LAYOUTS)).split(",") if n]
    unknown = [n for n in names if n not in LAYOUTS]
    if unknown:
        sys.exit(f"unknown layout(s) {unknown}; --list shows them")
    sizes = [int(s) for s in os.environ.get("SERVICES", "270").split(",")]
    repeat = int(os.environ.get("REPEAT", "1"))
    with_floor = os.environ.get("FLOOR", "1") != "0"
    root = Path(os.environ.get("BENCH_DIR", REPO / "target/bench-layouts"))
    print(f"# {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; funnel {binary}; best of {repeat}")
    print(f"{'layout':<14} {'rows':>6} {'files':>5} {'read s':>7} {'total s':>7} {'RSS MB':>7}"
          f" {'floor s':>7} {'(mode)':<9} {'fl MB':>6} {'ratio':>6}")
    for services in sizes:
        generate(root, services, names)
        rows = services * 42 * SAMPLES
        for name in names:
            d = root / f"s{services}" / name
            runs = [funnel(binary, d) for _ in range(repeat)]
            wall, read, rss = min(runs)
            files = len(list((d / "metrics").glob("*.parquet")))
            line = f"{name:<14} {rows / 1e6:>5.1f}M {files:>5} {read:>7.2f} {wall:>7.2f} {rss:>7.0f}"
            if with_floor:
                fl = min(floor(d) for _ in range(repeat))
                line += f" {fl[0]:>7.2f} {fl[2]:<9} {fl[1]:>6.0f} {wall / fl[0]:>5.2f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()

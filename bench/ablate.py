#!/usr/bin/env python3
"""Copies a collection of incident archives with one part of the data removed, for the
ablation rows of bench/rank.sh: what each part is worth to funnel beside the naive ranker and
BARO, which read the metrics alone.

  no-topology    incident.toml without its [[entity]] tables (calls, gateways, resources)
  no-limits      no *_limit_* metrics and no declared resources
  no-logs        no logs/
  no-events      no events/
  no-traces      no client-side dependency metrics (rows with a `target`: what traces give)
  one-collector  only the most common `source` of the metrics (rows without one are kept)
  step-60s       metrics averaged into 60 s buckets
  baseline-10    a baseline of 10 samples (at the archive's own step) ending at the window start

Exits 3 without writing anything when the ablation removes nothing from any archive of the
collection (a metrics-only collection has no logs to remove): the row would repeat the full run.

Usage: ablate.py <ablation> <archives-root> <out-root>
"""
import datetime, os, re, shutil, sys, tomllib

import pandas as pd

ABLATIONS = ["no-topology", "no-limits", "no-logs", "no-events", "no-traces", "one-collector", "step-60s", "baseline-10"]


def read_metrics(a):
    d = os.path.join(a, "metrics")
    return {f: pd.read_parquet(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".parquet")}


def write_metrics(a, tables):
    for f, df in tables.items():
        df.to_parquet(os.path.join(a, "metrics", f), index=False)


def drop_tables(text, name):
    """`text` without the TOML tables or arrays of tables named `name`, and their sub-tables
    (`[entity.resources]` belongs to the `[[entity]]` above it)."""
    out, skip = [], False
    for line in text.splitlines(keepends=True):
        s = line.strip()
        if s.startswith("["):
            table = s.strip("[]").strip()
            skip = table == name or table.startswith(name + ".")
        if not skip:
            out.append(line)
    return "".join(out)


def step_ms(tables):
    ts = pd.concat([pd.to_datetime(df["ts"]) for df in tables.values()]).drop_duplicates().sort_values()
    diffs = ts.diff().dropna()
    return max(int(diffs.median().total_seconds() * 1000), 1000) if len(diffs) else 60_000


def ablate_toml(kind, a):
    p = os.path.join(a, "incident.toml")
    text = open(p).read()
    if kind == "no-topology":
        new = drop_tables(text, "entity")
    elif kind == "no-limits":
        # Resources as a sub-table (`[entity.resources]`) or inline (`resources = { ... }`).
        new = drop_tables(text, "entity.resources")
        new = "".join(l for l in new.splitlines(keepends=True) if not l.strip().startswith("resources"))
    else:  # baseline-10
        spec = tomllib.loads(text)
        w = spec.get("window", {})
        start = w.get("start", spec["alert"]["fired_at"] - datetime.timedelta(minutes=15))
        end = w.get("end", spec["alert"]["fired_at"] + datetime.timedelta(minutes=15))
        step = datetime.timedelta(milliseconds=step_ms(read_metrics(a)))
        iso = lambda t: t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        new = drop_tables(text, "window").rstrip("\n") + (
            f"\n\n[window]\nstart = {iso(start)}\nend = {iso(end)}\n"
            f"baseline_start = {iso(start - 10 * step)}\nbaseline_end = {iso(start)}\n"
        )
    open(p, "w").write(new)
    return new != text


def ablate_metrics(kind, a):
    tables, changed = read_metrics(a), False
    if kind == "one-collector":
        src = pd.concat([df["source"] for df in tables.values() if "source" in df]) if any("source" in df for df in tables.values()) else pd.Series(dtype=str)
        if src.dropna().nunique() < 2:
            return False
        keep = src.dropna().value_counts().index[0]
    for f, df in tables.items():
        n = len(df)
        if kind == "no-limits":
            df = df[~df["metric"].str.contains("limit")]
        elif kind == "no-traces" and "target" in df:
            df = df[df["target"].isna()]
        elif kind == "one-collector" and "source" in df:
            df = df[df["source"].isna() | (df["source"] == keep)]
        elif kind == "step-60s":
            ts = pd.to_datetime(df["ts"])
            if ts.dt.tz is not None:
                ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
            df = df.assign(ts=ts.dt.floor("60s"))
            keys = [c for c in df.columns if c not in ("ts", "value")]
            df = df.assign(**{c: df[c].astype(object).where(df[c].notna(), "\0") for c in keys})
            df = df.groupby(["ts"] + keys, sort=True)["value"].mean().reset_index()
            df = df.assign(**{c: df[c].where(df[c] != "\0", None) for c in keys})
            changed = True
        changed |= len(df) != n
        tables[f] = df
    if changed:
        write_metrics(a, tables)
    return changed


def ablate(kind, a):
    if kind in ("no-logs", "no-events"):
        d = os.path.join(a, kind[3:])
        if os.path.isdir(d) and os.listdir(d):
            shutil.rmtree(d)
            return True
        return False
    changed = False
    if kind in ("no-topology", "no-limits", "baseline-10"):
        changed |= ablate_toml(kind, a)
    if kind in ("no-limits", "no-traces", "one-collector", "step-60s"):
        changed |= ablate_metrics(kind, a)
    return changed


def main():
    kind, src, out = sys.argv[1:4]
    if kind not in ABLATIONS:
        sys.exit(f"unknown ablation {kind!r}; expected one of {', '.join(ABLATIONS)}")
    os.makedirs(out, exist_ok=True)
    changed = False
    for name in sorted(os.listdir(src)):
        a = os.path.join(src, name)
        if not os.path.isfile(os.path.join(a, "incident.toml")):
            continue
        dst = os.path.join(out, name)
        shutil.copytree(a, dst, symlinks=False)
        changed |= ablate(kind, dst)
    if not changed:
        shutil.rmtree(out)
        sys.exit(3)


if __name__ == "__main__":
    main()

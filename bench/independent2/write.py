"""Parquet tables and incident.toml, in the forms the archive contract allows (timestamp units,
epoch milliseconds, split files, optional columns)."""

import datetime as dt
import os

import pyarrow as pa
import pyarrow.parquet as pq

METRIC_COLS = ["ts", "entity", "metric", "value", "pod", "node", "container", "target", "source"]


def iso(epoch_s):
    return dt.datetime.fromtimestamp(epoch_s, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts_array(ms, style):
    if style == "int64":
        return pa.array(ms, pa.int64())
    if style == "us_utc":
        return pa.array([m * 1000 for m in ms], pa.timestamp("us", tz="UTC"))
    return pa.array(ms, pa.timestamp("ms"))


def table(rows, cols, style, f32=False, drop=()):
    data = {}
    for i, name in enumerate(cols):
        if name in drop:
            continue
        vals = [r[i] for r in rows]
        if name == "ts":
            data[name] = _ts_array(vals, style)
        elif name == "value":
            data[name] = pa.array(vals, pa.float32() if f32 else pa.float64())
        else:
            data[name] = pa.array(vals, pa.string())
    return pa.table(data)


def write_split(rows, cols, folder, style, split, rng, f32=False, drop=()):
    """One table, as one file or split by entity family or by time."""
    os.makedirs(folder, exist_ok=True)
    if not rows:
        return
    parts = {"all": rows}
    if split == "family":
        parts = {}
        for r in rows:
            fam = r[1].split(":", 1)[0] if ":" in r[1] else "services"
            parts.setdefault(fam, []).append(r)
    elif split == "time":
        mid = sorted(r[0] for r in rows)[len(rows) // 2]
        parts = {"part-0": [r for r in rows if r[0] < mid], "part-1": [r for r in rows
                                                                     if r[0] >= mid]}
    for name, part in sorted(parts.items()):
        if part:
            rng.shuffle(part) if split == "time" else None
            pq.write_table(table(part, cols, style, f32, drop), os.path.join(folder,
                                                                             f"{name}.parquet"))


def _q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list(xs):
    return "[" + ", ".join(_q(x) for x in xs) + "]"


def toml(inc):
    """inc: dict with id, title, alert (entity, metric, fired), window or None, entities,
    aliases, expected (kind, culprit)."""
    out = [f"id = {_q(inc['id'])}", f"title = {_q(inc['title'])}", "", "[alert]",
           f"entity = {_q(inc['alert'][0])}", f"metric = {_q(inc['alert'][1])}",
           f"fired_at = {iso(inc['alert'][2])}", ""]
    if inc["window"]:
        w = inc["window"]
        out += ["[window]", f"start = {iso(w[0])}", f"end = {iso(w[1])}",
                f"baseline_start = {iso(w[2])}", f"baseline_end = {iso(w[3])}", ""]
    for e in inc["entities"]:
        out.append("[[entity]]")
        out.append(f"id = {_q(e['id'])}")
        if e.get("depends_on") is not None:
            out.append(f"depends_on = {_list(e['depends_on'])}")
        if e.get("entry"):
            out.append(f"entry = {_list(e['entry'])}")
        if e.get("sidecar") is not None:
            out.append(f"sidecar = {'true' if e['sidecar'] else 'false'}")
        if e.get("resources"):
            res = ", ".join(f"{k} = {v}" for k, v in e["resources"].items())
            out.append(f"resources = {{ {res} }}")
        out.append("")
    if inc["aliases"]:
        out.append("[metric_aliases]")
        out += [f"{_q(k)} = {_q(v)}" for k, v in sorted(inc["aliases"].items())]
        out.append("")
    kind, culprit = inc["expected"]
    out += ["[expected]", f"kind = {_q(kind)}"]
    if culprit:
        out.append(f"culprit = {_q(culprit)}")
    return "\n".join(out) + "\n"

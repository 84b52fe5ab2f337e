#!/usr/bin/env python3
"""Loghub-2k template-mining benchmark: `funnel logs` side by side with drain3.

For each of the eight Loghub-2k systems, runs `$FUNNEL_BIN logs <log> --format <fmt> --out <csv>`
(the per-system header format from log_formats.json only isolates <Content>; the miner runs with
its built-in defaults) and drain3 0.9.11 with its defaults on the same <Content> strings, scores
both with the dataset's metrics_ref.py (GA, FGA, PA, FTA) and prints a table, the means and
lines per second. Throughput is measured on each system's log repeated REPEAT times (so process
start-up does not dominate), pinned to one core with `taskset -c 0` when available.

Environment: FUNNEL_BIN (default target/release/funnel), FUNNEL_DATA (default
../shared/data/loghub-2k from the repository root), REPEAT (default 50). The dataset is only read.
Exits 0 with a message when the dataset is absent.
"""
import csv
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEMS = ["HDFS", "Hadoop", "Spark", "Zookeeper", "OpenStack", "Linux", "Mac", "Apache"]
METRICS = ["GA", "FGA", "PA", "FTA"]
ROOT = Path(__file__).resolve().parent.parent


def find_data():
    env = os.environ.get("FUNNEL_DATA")
    path = Path(env) if env else ROOT.parent / "shared" / "data" / "loghub-2k"
    return path if (path / "log_formats.json").is_file() else None


def find_bin():
    raw = os.environ.get("FUNNEL_BIN", "target/release/funnel")
    p = Path(raw)
    if not p.is_absolute() and not p.exists():
        p = ROOT / raw
    return p


def load_metrics(data):
    sys.path.insert(0, str(data))
    try:
        return importlib.import_module("metrics_ref")
    finally:
        sys.path.pop(0)


def load_drain3():
    try:
        return importlib.import_module("drain3")
    except ImportError:
        pass
    print("installing drain3==0.9.11 ...", flush=True)
    for extra in ([], ["--user"]):
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *extra, "drain3==0.9.11"])
        if r.returncode == 0:
            importlib.invalidate_caches()
            try:
                return importlib.import_module("drain3")
            except ImportError:
                pass
    print("drain3 unavailable: its columns are left empty")
    return None


def format_regex(log_format):
    """LOGPAI's header regex: `<Name>` -> lazy named group, spaces -> \\s+, anchored."""
    parts = re.split(r"(<[^<>]+>)", log_format)
    pattern, names = "", []
    for k, part in enumerate(parts):
        if k % 2 == 0:
            pattern += re.sub(" +", r"\\s+", part)
        else:
            names.append(part.strip("<").strip(">"))
            pattern += f"(?P<{names[-1]}>.*?)"
    return re.compile("^" + pattern + "$")


def read_lines(path):
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return [l[:-1] if l.endswith("\r") else l for l in lines]


def contents_of(lines, regex):
    out = []
    for line in lines:
        m = regex.search(line.strip())
        out.append(m.group("Content") if m else line.strip())
    return out


def ground_truth(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: int(r["LineId"]))
    return [r["EventTemplate"] for r in rows]


def run_funnel(binary, log, fmt, out, pin=False):
    cmd = [str(binary), "logs", str(log), "--format", fmt, "--out", str(out)]
    if pin and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return dt


def read_funnel_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != ["line_id", "template_id", "template"]:
            raise RuntimeError(f"unexpected CSV header {header}")
        rows = sorted(((int(a), b, c) for a, b, c in reader), key=lambda r: r[0])
    return [r[1] for r in rows], [r[2] for r in rows]


def run_drain3(drain3, contents):
    from drain3.template_miner_config import TemplateMinerConfig

    miner = drain3.TemplateMiner(config=TemplateMinerConfig())  # library defaults, no drain3.ini
    t0 = time.perf_counter()
    ids = [miner.add_log_message(c)["cluster_id"] for c in contents]
    dt = time.perf_counter() - t0
    final = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [str(i) for i in ids], [final[i] for i in ids], dt


def score(metrics, gt, ids, templates):
    ga, fga = metrics.grouping(gt, ids)
    fta = metrics.template_accuracy(gt, templates)[0]
    return dict(GA=ga, FGA=fga, PA=metrics.parsing_accuracy(gt, templates), FTA=fta)


def fmt_row(name, a, b, extra):
    cells = [f"{a[m]:.3f}" for m in METRICS] + [f"{b[m]:.3f}" if b else "  -  " for m in METRICS]
    return f"{name:<10} " + " ".join(f"{c:>6}" for c in cells) + extra


def main():
    data = find_data()
    if data is None:
        print("loghub-2k dataset not found (set FUNNEL_DATA); skipping the log mining benchmark")
        return 0
    binary = find_bin()
    if not binary.exists():
        print(f"funnel binary not found at {binary} (build with `cargo build --release` or set FUNNEL_BIN)")
        return 1
    repeat = int(os.environ.get("REPEAT", "50"))
    metrics = load_metrics(data)
    drain3 = load_drain3()
    formats = json.loads((data / "log_formats.json").read_text())

    results, tot = [], dict(lines=0, ours_s=0.0, d3_s=0.0, rep_lines=0, rep_s=0.0)
    with tempfile.TemporaryDirectory(prefix="loghub-bench-") as tmp:
        tmp = Path(tmp)
        for sysname in SYSTEMS:
            spec = formats[sysname]
            log = data / spec["log_file"]
            gt = ground_truth(log.with_name(log.name + "_structured.csv"))
            lines = read_lines(log)
            if len(lines) != len(gt):
                print(f"{sysname}: {len(lines)} lines but {len(gt)} ground-truth rows; skipped")
                continue
            out = tmp / f"{sysname}.csv"
            ours_s = run_funnel(binary, log, spec["log_format"], out)
            ids, templates = read_funnel_csv(out)
            if len(ids) != len(gt):
                raise RuntimeError(f"{sysname}: funnel wrote {len(ids)} rows for {len(gt)} lines")
            ours = score(metrics, gt, ids, templates)
            ours["n"] = len(set(ids))
            theirs = None
            if drain3 is not None:
                d_ids, d_templates, d_s = run_drain3(drain3, contents_of(lines, format_regex(spec["log_format"])))
                theirs = score(metrics, gt, d_ids, d_templates)
                theirs["n"] = len(set(d_ids))
                tot["d3_s"] += d_s
            # Throughput: the same log repeated, mined once, on one core.
            big = tmp / f"{sysname}.rep.log"
            raw = log.read_bytes()
            if not raw.endswith(b"\n"):
                raw += b"\n"
            big.write_bytes(raw * repeat)
            rep_s = run_funnel(binary, big, spec["log_format"], tmp / "rep.csv", pin=True)
            big.unlink()
            tot["lines"] += len(lines)
            tot["ours_s"] += ours_s
            tot["rep_lines"] += len(lines) * repeat
            tot["rep_s"] += rep_s
            results.append((sysname, ours, theirs, len(set(gt))))

    print()
    print(f"{'':<10} {'funnel':^27} {'drain3 (defaults)':^27}")
    print(f"{'system':<10} " + " ".join(f"{m:>6}" for m in METRICS * 2) + "   templates (gt/funnel/drain3)")
    for name, a, b, n_gt in results:
        print(fmt_row(name, a, b, f"   {n_gt}/{a['n']}/{b['n'] if b else '-'}"))
    if results:
        mean = lambda rs: {m: sum(r[m] for r in rs) / len(rs) for m in METRICS}
        ours_mean = mean([r[1] for r in results])
        d3_mean = mean([r[2] for r in results]) if all(r[2] for r in results) else None
        print(fmt_row("mean", ours_mean, d3_mean, ""))
        worst = min(results, key=lambda r: r[1]["GA"])
        print(f"\nfunnel: mean GA {ours_mean['GA']:.3f} (target >= 0.93), lowest {worst[0]} {worst[1]['GA']:.3f} (target >= 0.80)")
    rep_lps = tot["rep_lines"] / tot["rep_s"] if tot["rep_s"] else 0.0
    pinned = "one core (taskset -c 0)" if shutil.which("taskset") else "unpinned (no taskset)"
    print(f"funnel throughput: {rep_lps:,.0f} lines/s on {pinned}, each log x{repeat}, "
          f"whole process incl. reading, header regex and CSV writing")
    print(f"funnel on the 2k logs as is: {tot['lines'] / tot['ours_s']:,.0f} lines/s (process start-up included)")
    if tot["d3_s"]:
        d3_lps = tot["lines"] / tot["d3_s"]
        print(f"drain3 throughput: {d3_lps:,.0f} lines/s (add_log_message only, in-process)")
        print(f"speed ratio funnel/drain3: {rep_lps / d3_lps:.1f}x (target >= 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

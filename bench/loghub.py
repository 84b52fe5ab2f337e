#!/usr/bin/env python3
"""Loghub-2k template-mining benchmark: `funnel logs` side by side with drain3.

For each of the eight Loghub-2k systems, runs `$FUNNEL_BIN logs <log> --format <fmt> --out <csv>`
(the per-system header format from log_formats.json only isolates <Content>; the miner runs with
its built-in defaults) and drain3 0.9.11 with its defaults on the same <Content> strings, scores
both with the dataset's metrics_ref.py (GA, FGA, PA, FTA) and prints a table, the means and
lines per second.

Throughput, both on one core (`taskset -c 0` for funnel, sched_setaffinity for the drain3
process, when available), best and median of RUNS runs:
- funnel: whole process (reading, header regex, mining, CSV writing) on each system's log
  repeated REPEAT times, so process start-up does not dominate. Copy k has every digit shifted
  by k (mod 10): copies are not byte-identical, so nothing can profit from exactly repeated
  lines, while each line keeps its template. The figure for byte-identical copies is printed
  too, for comparison with earlier runs. Note: funnel reuses the masking of a line that differs
  from an earlier one only in its digits (exact; see src/logs/distinct.rs), which every shifted
  copy does, so these figures are the best case for that memo, like a long log of a few
  statements whose numbers keep their widths. The in-process figure on the 2k logs below has no
  copies at all: there the memo only gains from the logs' own repetition.
- funnel, like for like: `benches/logmine.rs` (built here with cargo) mines <Content> strings
  in-process: masking, clustering and labelling, the stage drain3's `add_log_message` covers,
  without reading or writing files. Once on exactly drain3's input (the 2k logs, a fresh miner
  per run, best of at least 21 runs), once on each log repeated REPEAT times with digits shifted.
- drain3: `add_log_message` in-process on the 2k <Content> strings of each system, a fresh
  miner per run.

Leave one system out. The figures above are on the eight systems the miner's rules were
written against (seen). To say what a new user's log would get, every choice is also made
without the system it is judged on: for each held-out system, the configuration with the best
mean GA on the other seven is picked from GRID below and its GA on the held-out system is
reported; the mean of those is the headline figure. The configurations are mined by
`benches/logmine.rs` (LABELS_DIR mode, a debug build is enough: accuracy does not depend on
the profile) through the same `mine_file_to_csv` as `funnel logs`; the default configuration's
labels are checked against FUNNEL_BIN's. Ties go to the built-in default, then to grid order,
so "default picked for 8/8" means the defaults were not fitted to any one held-out system. The
masks are not tunable (no per-system masks exist); they are part of every configuration.
A second table shows each system's GA over the whole grid (min, median, max, default): how much
a system depends on the configuration, with no selection.

GRID: depth {2, 3} (leading tokens keying a cluster) x similarity {0.4, 0.5, 0.6} x
slot_values {3, 4, 6} (distinct values that make a slot a variable) x enumerations {off,
(4 values, 3 lines each), (4 values, 10 lines each)}: 54 configurations.

Environment: FUNNEL_BIN (default target/release/funnel), FUNNEL_DATA (default
../shared/data/loghub-2k from the repository root), REPEAT (default 50), RUNS (default 5),
THROUGHPUT (auto: measured only when FUNNEL_BIN is a release build; 0 or 1 to force),
DRAIN3 (1: install and run drain3 0.9.11 if missing; 0: skip it), LOO (1: the
leave-one-system-out table; 0: skip). The dataset is only read. Exits 0 with a message when
the dataset is absent.
"""
import csv
import importlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = [(d, s, k, e, l) for d in (2, 3) for s in (0.4, 0.5, 0.6) for k in (3, 4, 6)
        for (e, l) in ((0, 0), (4, 3), (4, 10))]
DEFAULT = (2, 0.5, 4, 4, 3)  # MinerConfig::default(), src/logs/miner.rs
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
    """Runs funnel; returns (wall seconds, CPU seconds of the child: user + system)."""
    cmd = [str(binary), "logs", str(log), "--format", fmt, "--out", str(out)]
    if pin and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {err.strip()}")
    return dt, usage.ru_utime + usage.ru_stime


def read_funnel_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != ["line_id", "template_id", "template"]:
            raise RuntimeError(f"unexpected CSV header {header}")
        rows = sorted(((int(a), b, c) for a, b, c in reader), key=lambda r: r[0])
    return [r[1] for r in rows], [r[2] for r in rows]


def run_drain3(drain3, contents):
    """Returns ids, final templates, wall seconds and CPU seconds of add_log_message."""
    from drain3.template_miner_config import TemplateMinerConfig

    miner = drain3.TemplateMiner(config=TemplateMinerConfig())  # library defaults, no drain3.ini
    t0, c0 = time.perf_counter(), time.process_time()
    ids = [miner.add_log_message(c)["cluster_id"] for c in contents]
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    final = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [str(i) for i in ids], [final[i] for i in ids], dt, dc


def cargo_exe(args):
    """Builds benches/logmine.rs with `cargo <args> --message-format=json`; its path or None."""
    try:
        build = subprocess.run(["cargo", *args, "--bench", "logmine", "--message-format=json"],
                               cwd=ROOT, capture_output=True, text=True)
    except FileNotFoundError:
        return None
    exe = None
    for line in build.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "logmine":
            exe = msg.get("executable") or exe
    if build.returncode != 0 or not exe:
        print(f"benches/logmine.rs could not be built: {build.stderr.strip()[-400:]}")
        return None
    return exe


def mine_bench(data, repeat, runs):
    """In-process funnel mining (benches/logmine.rs), the stage drain3's add_log_message covers.

    Returns (lines, [best s, median s]) summed over the systems, or None when the bench cannot be
    built or run. It is built with cargo (bench profile) and run pinned to CPU 0."""
    exe = cargo_exe(["bench", "--no-run"])
    if exe is None:
        return None
    cmd = [exe]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    env = dict(os.environ, FUNNEL_DATA=str(data), REPEAT=str(repeat), RUNS=str(runs))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0] == "RESULT" and f[1] == "total":
            return int(f[2]), float(f[3]), float(f[4])
    return None


def grid_labels(data, tmp):
    """Mines every system with every GRID configuration (benches/logmine.rs, debug build).

    Returns {config: {system: ids}} or None when the bench cannot be built or run."""
    exe = cargo_exe(["build"])
    if exe is None:
        return None
    out = tmp / "grid"
    spec = ";".join(",".join(str(x) for x in c) for c in GRID)
    env = dict(os.environ, FUNNEL_DATA=str(data), LABELS_DIR=str(out), GRID=spec)
    r = subprocess.run([exe], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        print(f"benches/logmine.rs LABELS_DIR mode failed: {r.stderr.strip()[-400:]}")
        return None
    return {c: {s: read_funnel_csv(out / str(k) / f"{s}.csv")[0] for s in SYSTEMS
                if (out / str(k) / f"{s}.csv").is_file()}
            for k, c in enumerate(GRID)}


def same_partition(a, b):
    """Whether two label lists group the lines alike (ids may be numbered differently)."""
    return len(a) == len(b) and len(set(zip(a, b))) == len(set(a)) == len(set(b))


def grid_ga(metrics, gts, labels):
    """{config: {system: GA}}."""
    return {c: {s: metrics.grouping(gts[s], ids)[0] for s, ids in per.items()}
            for c, per in labels.items()}


def print_spread(ga):
    """How much each system's GA depends on the configuration: min, median, max over GRID."""
    print(f"\nGA over the {len(GRID)} configurations of GRID (sensitivity, no selection):")
    print(f"{'system':<10} {'min':>6} {'median':>6} {'max':>6} {'default':>7}")
    for s in SYSTEMS:
        vals = [ga[c][s] for c in GRID if s in ga[c]]
        if vals:
            print(f"{s:<10} {min(vals):>6.3f} {statistics.median(vals):>6.3f} {max(vals):>6.3f} "
                  f"{ga[DEFAULT].get(s, float('nan')):>7.3f}")


def leave_one_out(ga, gts):
    """Per held-out system: (config picked on the other systems, its GA there, GA held out)."""
    rows = []
    for held in gts:
        others = [s for s in gts if s != held]
        fit = lambda c: sum(ga[c][s] for s in others) / len(others)
        best = max(fit(c) for c in GRID)
        tied = [c for c in GRID if fit(c) == best]
        pick = DEFAULT if DEFAULT in tied else tied[0]
        rows.append((held, pick, best, ga[pick][held]))
    return rows


def print_loo(rows):
    print("\nleave one system out: configuration picked on the other 7 systems (GRID, see the "
          "docstring), GA on the held-out one")
    print(f"{'held out':<10} {'depth,sim,slot,enum,lines':<27} {'GA others':>9} {'GA held out':>11}")
    for held, pick, fit, ga in rows:
        cfg = ",".join(str(x) for x in pick) + (" (default)" if pick == DEFAULT else "")
        print(f"{held:<10} {cfg:<27} {fit:>9.4f} {ga:>11.4f}")
    mean = sum(r[3] for r in rows) / len(rows)
    worst = min(rows, key=lambda r: r[3])
    n_default = sum(r[1] == DEFAULT for r in rows)
    print(f"leave-one-system-out mean GA {mean:.4f} (target >= 0.93), lowest {worst[0]} "
          f"{worst[3]:.4f} (target >= 0.80); the default configuration was picked for "
          f"{n_default}/{len(rows)} held-out systems")


def pin_self():
    """Pins this process (drain3 runs in it) to CPU 0; returns a function that undoes it."""
    if not hasattr(os, "sched_setaffinity"):
        return lambda: None
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {0})
    except OSError:
        return lambda: None
    return lambda: os.sched_setaffinity(0, before)


def shifted_digits(raw, k):
    """`raw` with every ASCII digit d replaced by (d + k) mod 10: same templates, other bytes."""
    return raw.translate(bytes.maketrans(b"0123456789", bytes(48 + (d + k) % 10 for d in range(10))))


def rate(lines, seconds):
    return lines / seconds if seconds else 0.0


def score(metrics, gt, ids, templates):
    ga, fga = metrics.grouping(gt, ids)
    fta = metrics.template_accuracy(gt, templates)[0]
    return dict(GA=ga, FGA=fga, PA=metrics.parsing_accuracy(gt, templates), FTA=fta)


def fmt_row(name, a, b, extra):
    cells = [f"{a[m]:.3f}" for m in METRICS] + [f"{b[m]:.3f}" if b else "  -  " for m in METRICS]
    return f"{name:<10} " + " ".join(f"{c:>6}" for c in cells) + extra


def accuracy(binary, data, formats, metrics, drain3, tmp):
    """Per system: (name, funnel scores, drain3 scores or None, gt template count, gt, ids)."""
    results = []
    for sysname in SYSTEMS:
        spec = formats[sysname]
        log = data / spec["log_file"]
        gt = ground_truth(log.with_name(log.name + "_structured.csv"))
        lines = read_lines(log)
        if len(lines) != len(gt):
            print(f"{sysname}: {len(lines)} lines but {len(gt)} ground-truth rows; skipped")
            continue
        out = tmp / f"{sysname}.csv"
        run_funnel(binary, log, spec["log_format"], out)
        ids, templates = read_funnel_csv(out)
        if len(ids) != len(gt):
            raise RuntimeError(f"{sysname}: funnel wrote {len(ids)} rows for {len(gt)} lines")
        ours = score(metrics, gt, ids, templates)
        ours["n"] = len(set(ids))
        theirs = None
        if drain3 is not None:
            contents = contents_of(lines, format_regex(spec["log_format"]))
            d_ids, d_templates, _, _ = run_drain3(drain3, contents)
            theirs = score(metrics, gt, d_ids, d_templates)
            theirs["n"] = len(set(d_ids))
        results.append((sysname, ours, theirs, len(set(gt)), gt, ids))
    return results


def print_accuracy(results):
    print()
    print("seen: the eight systems the miner's rules were written against, built-in defaults")
    print(f"{'':<10} {'funnel':^27} {'drain3 (defaults)':^27}")
    print(f"{'system':<10} " + " ".join(f"{m:>6}" for m in METRICS * 2) + "   templates (gt/funnel/drain3)")
    for name, a, b, n_gt, _, _ in results:
        print(fmt_row(name, a, b, f"   {n_gt}/{a['n']}/{b['n'] if b else '-'}"))
    mean = lambda rs: {m: sum(r[m] for r in rs) / len(rs) for m in METRICS}
    ours_mean = mean([r[1] for r in results])
    d3_mean = mean([r[2] for r in results]) if all(r[2] for r in results) else None
    print(fmt_row("mean", ours_mean, d3_mean, ""))
    worst = min(results, key=lambda r: r[1]["GA"])
    print(f"\nfunnel on seen systems: mean GA {ours_mean['GA']:.4f}, lowest {worst[0]} {worst[1]['GA']:.4f}")


def throughput(binary, data, formats, drain3, repeat, runs, tmp):
    """The whole-process and in-process throughput figures (release builds only)."""
    var_s, same_s, d3_s = [0.0] * runs, [0.0] * runs, [0.0] * runs
    var_c, same_c, d3_c = [0.0] * runs, [0.0] * runs, [0.0] * runs
    lines_2k = rep_lines = 0
    for sysname in SYSTEMS:
        spec = formats[sysname]
        log = data / spec["log_file"]
        lines = read_lines(log)
        if drain3 is not None:
            contents = contents_of(lines, format_regex(spec["log_format"]))
            unpin = pin_self()
            try:
                for r in range(runs):
                    _, _, d_s, d_c = run_drain3(drain3, contents)
                    d3_s[r] += d_s
                    d3_c[r] += d_c
            finally:
                unpin()
        # The log repeated, mined once per run, on one core.
        raw = log.read_bytes()
        if not raw.endswith(b"\n"):
            raw += b"\n"
        var, same = tmp / f"{sysname}.var.log", tmp / f"{sysname}.same.log"
        var.write_bytes(b"".join(shifted_digits(raw, k) for k in range(repeat)))
        same.write_bytes(raw * repeat)
        for r in range(runs):
            for (ws, cs), path in (((var_s, var_c), var), ((same_s, same_c), same)):
                w, c = run_funnel(binary, path, spec["log_format"], tmp / "rep.csv", pin=True)
                ws[r] += w
                cs[r] += c
        var.unlink()
        same.unlink()
        lines_2k += len(lines)
        rep_lines += len(lines) * repeat
    pinned = "one core (taskset -c 0)" if shutil.which("taskset") else "unpinned (no taskset)"
    best = lambda ts, n: rate(n, min(ts))
    med = lambda ts, n: rate(n, statistics.median(ts))
    print(f"\nthroughput, lines/s on {pinned}, best / median of {runs} runs; wall clock, and CPU time "
          f"(user + system: what the process got of the core, robust to other load):")
    rows = [("funnel", var_s, var_c, rep_lines,
             f"each log x{repeat}, copies differ (digits shifted); whole process"),
            ("funnel", same_s, same_c, rep_lines, f"each log x{repeat}, identical copies (earlier methodology)")]
    if drain3 is not None:
        rows.append(("drain3", d3_s, d3_c, lines_2k, "add_log_message only, in-process, the 2k logs"))
    print(f"  {'':<7} {'wall best':>11} {'wall median':>12} {'CPU best':>11} {'CPU median':>11}")
    for name, ws, cs, n, what in rows:
        print(f"  {name:<7} {best(ws, n):>11,.0f} {med(ws, n):>12,.0f} {best(cs, n):>11,.0f} {med(cs, n):>11,.0f}   {what}")
    # In-process mining: the 2k logs exactly as drain3 gets them, then repeated like the
    # whole-process runs (funnel deduplicates masked messages, so long logs mine faster per line).
    strict = mine_bench(data, 1, max(runs, 21))
    mined = mine_bench(data, repeat, runs)
    for got, what in ((strict, "the 2k logs, same contents as drain3"),
                      (mined, f"each log x{repeat}, digits shifted")):
        if got:
            n, b, m = got
            print(f"  {'funnel':<7} {rate(n, b):>11,.0f} {rate(n, m):>12,.0f} {'':>11} {'':>11}   "
                  f"mining only, in-process: {what} (benches/logmine.rs)")
    if drain3 is not None:
        for got, what in ((strict, "same 2k contents"), (mined, f"funnel on each log x{repeat}")):
            if got:
                n, b, m = got
                print(f"speed ratio, in-process mining ({what}) funnel / drain3: "
                      f"wall {rate(n, b) / best(d3_s, lines_2k):.1f}x best, {rate(n, m) / med(d3_s, lines_2k):.1f}x median")
        print(f"speed ratio funnel whole process (copies differ) / drain3 in-process: wall {best(var_s, rep_lines) / best(d3_s, lines_2k):.1f}x best, "
              f"{med(var_s, rep_lines) / med(d3_s, lines_2k):.1f}x median; CPU {best(var_c, rep_lines) / best(d3_c, lines_2k):.1f}x best, "
              f"{med(var_c, rep_lines) / med(d3_c, lines_2k):.1f}x median")
    print("targets: funnel >= 1,000,000 lines/s on one core, >= 20x drain3")


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
    runs = max(1, int(os.environ.get("RUNS", "5")))
    metrics = load_metrics(data)
    drain3 = load_drain3() if os.environ.get("DRAIN3", "1") != "0" else None
    formats = json.loads((data / "log_formats.json").read_text())
    release = "release" in binary.resolve().parts
    measure = {"0": False, "1": True}.get(os.environ.get("THROUGHPUT", "auto"), release)
    with tempfile.TemporaryDirectory(prefix="loghub-bench-") as tmp:
        tmp = Path(tmp)
        results = accuracy(binary, data, formats, metrics, drain3, tmp)
        if not results:
            return 0
        print_accuracy(results)
        if os.environ.get("LOO", "1") != "0":
            labels = grid_labels(data, tmp)
            if labels is not None:
                gts = {r[0]: r[4] for r in results}
                for name, _, _, _, _, ids in results:
                    if not same_partition(labels[DEFAULT].get(name, []), ids):
                        print(f"warning: {name}: benches/logmine.rs with the defaults groups "
                              f"differently from {binary}; is the binary stale?")
                ga = grid_ga(metrics, gts, labels)
                print_spread(ga)
                print_loo(leave_one_out(ga, gts))
        if measure:
            throughput(binary, data, formats, drain3, repeat, runs, tmp)
        else:
            print(f"\nthroughput: not measured this time ({binary} is not a release build; "
                  "THROUGHPUT=1 forces it, but debug figures say nothing about release speed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

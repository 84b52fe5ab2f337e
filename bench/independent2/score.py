#!/usr/bin/env python3
"""Per-kind right/total for funnel (from `funnel check --junit`) and for the naive ranker.

    python3 score.py MANIFEST.tsv CHECK.xml NAIVE.tsv

funnel is right when its root cause matches [expected] kind and culprit (or is null for a false
alarm); the naive ranker is right when its top entity is the expected culprit (it names no kind,
so it is never right on a false alarm, a pod or the network).
"""

import sys
import xml.etree.ElementTree as ET

from faults import KINDS


def read_tsv(path):
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def funnel_results(path):
    """id -> True (passed), False (mismatch or error)."""
    res = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        bad = case.find("failure") is not None or case.find("error") is not None
        res[case.get("name")] = not bad
    return res


def main():
    manifest, junit, naive = read_tsv(sys.argv[1]), funnel_results(sys.argv[2]), \
        read_tsv(sys.argv[3])
    naive_ok = {r["id"]: r["naive"] == r["culprit"] and r["culprit"] != "" for r in naive}
    per = {k: [0, 0, 0] for k in KINDS}  # funnel right, naive right, total
    missing = 0
    for r in manifest:
        k = r["kind"]
        per[k][2] += 1
        if r["id"] not in junit:
            missing += 1
        per[k][0] += junit.get(r["id"], False)
        per[k][1] += naive_ok.get(r["id"], False)
    print(f"{'kind':<18} {'funnel':>9} {'naive':>9}")
    tot = [0, 0, 0]
    for k in KINDS:
        f, n, t = per[k]
        if t:
            print(f"{k:<18} {f:>4}/{t:<4} {n:>4}/{t:<4}")
            tot = [a + b for a, b in zip(tot, per[k])]
    f, n, t = tot
    print(f"{'overall':<18} {f:>4}/{t:<4} {n:>4}/{t:<4}  "
          f"(funnel {f / max(t, 1):.3f}, naive {n / max(t, 1):.3f})")
    real = [per[k] for k in KINDS if k != "none"]
    rf, rn, rt = (sum(x[i] for x in real) for i in range(3))
    print(f"{'excluding none':<18} {rf:>4}/{rt:<4} {rn:>4}/{rt:<4}  "
          f"(funnel {rf / max(rt, 1):.3f}, naive {rn / max(rt, 1):.3f})")
    if missing:
        print(f"{missing} archives had no verdict in the JUnit file (counted wrong)")


if __name__ == "__main__":
    main()

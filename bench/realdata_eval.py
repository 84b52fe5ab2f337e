#!/usr/bin/env python3
"""Scores funnel verdicts (and optionally BARO) on imported real incidents: AC@1/3/5, Avg@5.

Usage: realdata_eval.py funnel <archives-root> <reports-root>
Prints one JSON line: {"n", "ac1", "ac3", "ac5", "avg5", "misses"}.
"""
import json, os, re, sys


def expected(archive):
    t = open(os.path.join(archive, "incident.toml")).read()
    m = re.search(r'\[expected\]\s*kind = "[^"]+"\s*culprit = "([^"]+)"', t)
    return m.group(1) if m else None


def culprits(verdict):
    """Distinct culprits in ranking order (the root cause heads the ranking)."""
    out = []
    for r in verdict.get("ranking", []):
        if r["culprit"] not in out:
            out.append(r["culprit"])
    return out


def score(ranked_lists):
    n = len(ranked_lists)
    if n == 0:
        return {"n": 0, "ac1": 0, "ac3": 0, "ac5": 0, "avg5": 0}
    ac = {k: sum(1 for truth, r in ranked_lists if truth in r[:k]) / n for k in range(1, 6)}
    return {"n": n, "ac1": ac[1], "ac3": ac[3], "ac5": ac[5], "avg5": sum(ac.values()) / 5}


def main():
    _, archives, reports = sys.argv[1:4]
    lists, misses = [], []
    for name in sorted(os.listdir(archives)):
        a = os.path.join(archives, name)
        truth = expected(a)
        if truth is None:
            continue
        try:
            v = json.load(open(os.path.join(reports, name, "verdict.json")))
            r = culprits(v)
        except Exception:
            r = []
        lists.append((truth, r))
        if truth not in r[:1]:
            misses.append(f"{name}: want {truth}, got {r[:3]}")
    out = score(lists)
    out["misses"] = misses
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Nezha's real traces through OTLP: for every Train Ticket fault (2023-01-29 + 2023-01-30, 45),
# compares the verdict of `funnel import nezha` (metrics, logs and the importer's own reading of
# the span CSVs) with that of an archive imported WITHOUT the span CSVs (a day folder without
# trace/: no call graph, no trace-derived series) to which the same spans, converted to OTLP
# JSON by bench/nezha_otlp.py, are attached with `funnel attach traces`.
# Prints how many faults keep the same culprit (the ranking's first), the same top 3 culprits,
# and each fault that differs.
#
# Usage: bench/nezha_traces.sh        (FUNNEL_BIN defaults to $CARGO_TARGET_DIR/release/funnel)
#        KEEP=1 bench/nezha_traces.sh (keeps the work folder and prints its path)
# Needs: ../shared/data/nezha-tt (skips with a message when absent), tar with zstd, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
T=${CARGO_TARGET_DIR:-target}
BIN=${FUNNEL_BIN:-$T/release/funnel}
if [ ! -d "$DATA/nezha-tt" ]; then echo "skipping: $DATA/nezha-tt is absent"; exit 0; fi
[ -x "$BIN" ] || { echo "no funnel binary at $BIN (build it, or set FUNNEL_BIN)"; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/funnel-nezha-traces.XXXXXX")
if [ -n "${KEEP:-}" ]; then echo "work folder: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
JOBS=${JOBS:-2}

tar --zstd -xf "$DATA/nezha-tt/logs.tar.zst" -C "$WORK"
tar --zstd -xf "$DATA/nezha-tt/traces.tar.zst" -C "$WORK"
for d in 2023-01-29 2023-01-30; do
  for v in full bare; do
    mkdir -p "$WORK/$v/$d"
    ln -s "$(realpath "$DATA/nezha-tt/$d/metric")" "$WORK/$v/$d/metric"
    ln -s "$(realpath "$DATA/nezha-tt/$d/$d-fault_list.json")" "$WORK/$v/$d/"
    ln -s "$WORK/rca_data/$d/log" "$WORK/$v/$d/log"
  done
  ln -s "$WORK/rca_data/$d/trace" "$WORK/full/$d/trace"
  ln -s "$WORK/rca_data/$d/trace" "$WORK/otlp-src-$d"
  "$BIN" import nezha "$WORK/full/$d" --out "$WORK/direct" >/dev/null
  "$BIN" import nezha "$WORK/bare/$d" --out "$WORK/attached" >/dev/null
  python3 bench/nezha_otlp.py "$WORK/full/$d" "$WORK/otlp" 2>/dev/null
done

for c in $(ls "$WORK/attached"); do
  "$BIN" attach traces "$WORK/attached/$c" "$WORK/otlp/$c.otlp.jsonl" >/dev/null
  rm "$WORK/otlp/$c.otlp.jsonl"
done
for v in direct attached; do
  ls "$WORK/$v" | xargs -P "$JOBS" -I{} "$BIN" analyze "$WORK/$v/{}" --out "$WORK/$v-out/{}" >/dev/null 2>&1 || true
done

python3 - "$WORK" <<'PY'
import json, os, sys
w = sys.argv[1]
def culprits(path):
    try:
        v = json.load(open(path))
    except Exception:
        return []
    out = []
    for r in v.get("ranking", []):
        if r["culprit"] not in out:
            out.append(r["culprit"])
    return out
names = sorted(os.listdir(f"{w}/direct"))
same1 = same3 = 0
for n in names:
    a = culprits(f"{w}/direct-out/{n}/verdict.json")
    b = culprits(f"{w}/attached-out/{n}/verdict.json")
    same1 += a[:1] == b[:1]
    same3 += a[:3] == b[:3]
    if a[:3] != b[:3]:
        print(f"  {n}: import {a[:3]}, attach {b[:3]}")
print(f"{same1}/{len(names)} same culprit, {same3}/{len(names)} same top 3")
PY

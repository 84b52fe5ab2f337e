#!/usr/bin/env bash
# Peak memory of `funnel analyze` on archives of 20 M, 100 M and 200 M metric rows (generated on
# the fly by bench/layouts.py under BENCH_DIR, never committed), with the time; then the refusal
# of an archive over --max-memory, which must come before any row is read.
#
#   bench/memory.sh                               # 20 M, 100 M, 200 M rows, dictionary strings
#   SERVICES=270 LAYOUTS=plain-time bench/memory.sh
#
# Needs python3 with polars and pyarrow, and a release build (FUNNEL_BIN, default
# target/release/funnel). The 200 M-row archive takes ~1.5 GB of disk and a few minutes to write.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${CARGO_TARGET_DIR:-target}
export FUNNEL_BIN=${FUNNEL_BIN:-$T/release/funnel}
export BENCH_DIR=${BENCH_DIR:-$T/bench-memory}
export LAYOUTS=${LAYOUTS:-dict-time-60}
# 75,600 rows per service: 265 -> 20.0 M, 1,323 -> 100.0 M, 2,646 -> 200.0 M rows.
export SERVICES=${SERVICES:-265,1323,2646}
export FLOOR=0
python3 bench/layouts.py

# The refusal: the largest archive against a limit far below its estimate.
largest=${SERVICES##*,}
archive="$BENCH_DIR/s$largest/${LAYOUTS%%,*}"
[ -f "$archive/incident.toml" ] || exit 0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
set +e
/usr/bin/time -f "RSS %M" "$FUNNEL_BIN" analyze "$archive" --out "$out/report" --max-memory 1G \
    2>"$out/err"
code=$?
set -e
took=$(printf '%.3f' "$(echo "$(date +%s.%N) - $start" | bc)")
rss=$(sed -n 's/^RSS //p' "$out/err")
echo "refusal at --max-memory 1G: exit $code in $took s, peak RSS $((rss / 1024)) MB:"
grep -v -e '^RSS ' -e '^Command exited' "$out/err" | head -3 | sed 's/^/  /'

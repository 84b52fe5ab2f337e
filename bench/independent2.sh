#!/usr/bin/env bash
# Verdicts on incidents from a second independent generator (bench/independent2/gen.py, written
# from the archive contract alone), beside a naive largest-robust-shift ranker on the same
# archives. Seeds 101..200 are kept unseen: see bench/independent2/README.md.
#
#   SEEDS=1..10 bench/independent2.sh            # FUNNEL_BIN defaults to target/debug/funnel
#   OUT=/tmp/corpus SEEDS=1..3 bench/independent2.sh   # keep the corpus and the check output
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
seeds="${SEEDS:-1..10}"
bin="${FUNNEL_BIN:-target/debug/funnel}"
if [ ! -x "$bin" ]; then
    echo "funnel binary not found at $bin (set FUNNEL_BIN)" >&2
    exit 2
fi
if ! python3 -c 'import pyarrow' 2>/dev/null; then
    echo "installing pyarrow for the generator" >&2
    python3 -m pip install --quiet pyarrow
fi

if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    work="$(cd "$OUT" && pwd)"
    rm -rf "$work/corpus"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi

start=$(date +%s)
python3 "$here/independent2/gen.py" --seeds "$seeds" --out "$work/corpus"
gen_s=$(( $(date +%s) - start ))
n=$(find "$work/corpus" -name incident.toml | wc -l)
echo "generated $n archives for seeds $seeds in ${gen_s}s"

start=$(date +%s)
rc=0
"$bin" check "$work/corpus" --junit "$work/check.xml" >"$work/check.out" 2>&1 || rc=$?
echo "funnel check: exit $rc in $(( $(date +%s) - start ))s ($(tail -n 1 "$work/check.out"))"
if [ "$rc" -ge 2 ] && [ ! -s "$work/check.xml" ]; then
    echo "funnel check failed without a JUnit file:" >&2
    tail -n 20 "$work/check.out" >&2
    exit 2
fi

python3 "$here/independent2/naive.py" "$work/corpus" >"$work/naive.tsv"
cd "$here/independent2" && python3 score.py "$work/corpus/manifest.tsv" "$work/check.xml" \
    "$work/naive.tsv"

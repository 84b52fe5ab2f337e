#!/usr/bin/env bash
# Verdict accuracy on incidents from an independently written generator: bench/independent/
# gen.py was written from the archive contract alone, without reading funnel's code or its
# simulator, with its own physics (latency built leaves-first, errors and worker counts
# propagating to callers, rollouts renaming pods), noise, partial topologies and distractors.
# It writes one archive per root-cause kind (plus false alarms) and seed; `funnel check`
# compares each verdict with the injected cause and prints the mismatches and the pass count.
#
# Usage: bench/independent.sh            (SEEDS=1..10, FUNNEL_BIN=target/release/funnel)
#        SEEDS=11..20 FUNNEL_BIN=target/debug/funnel bench/independent.sh
# Needs: python3 with numpy and pyarrow.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FUNNEL_BIN:-target/release/funnel}
SEEDS=${SEEDS:-1..10}
[ -x "$BIN" ] || { echo "no funnel binary at $BIN (build it, or set FUNNEL_BIN)"; exit 2; }
python3 -c "import numpy, pyarrow" 2>/dev/null || { echo "skipping: needs python3 with numpy and pyarrow"; exit 0; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/funnel-independent.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
python3 bench/independent/gen.py --out "$WORK/corpus" --seeds "$SEEDS" >/dev/null
n=$(ls "$WORK/corpus" | wc -l)
t0=$(date +%s.%N)
"$BIN" check "$WORK/corpus" || true
t1=$(date +%s.%N)
echo "seeds $SEEDS: $n archives, $(echo "($t1 - $t0) / $n" | bc -l | cut -c1-5) s per archive (wall, $(nproc) cores)"

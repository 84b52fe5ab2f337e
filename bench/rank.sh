#!/usr/bin/env bash
# Ranking accuracy beside simple statistics: for each collection, funnel's AC@1/3/5 (the root
# cause, then the ranking's other culprits) beside a naive ranker (each entity's largest robust
# median shift, bench/naive_cases.py) and BARO (PyPI rcaeval, bench/baro_cases.py), all three
# on the same imported archives in the same run. Collections: sockshop (RCD's Sock Shop, 50
# CPU/memory faults), petshop (52), nezha (Train Ticket, 45), sim (`funnel simulate --all`,
# SIM_SEEDS), independent (bench/independent/gen.py, IND_SEEDS), independent2 (only when named,
# with IND2_GEN pointing at that generator's gen.py). ABLATE=1 also runs every
# collection with parts removed (bench/ablate.py) and prints AC@1 per ablation. FUNNEL_ONLY=1
# skips the naive and BARO columns; WORK=DIR KEEP=1 keeps (and reuses) the imported archives.
#
# Usage: bench/rank.sh [COLLECTION...]        (default: all five)
#        FUNNEL_BIN=target/debug/funnel SIM_SEEDS=61..70 bench/rank.sh sim
# Needs: ../shared/data for the real collections (each skips with a message when absent);
# python3 with numpy, pandas, pyarrow (and rcaeval, scikit-learn for BARO; PYTHON picks the
# interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
BIN=$(realpath "${FUNNEL_BIN:-target/release/funnel}")
PY=${PYTHON:-python3}
JOBS=${JOBS:-2}
SIM_SEEDS=${SIM_SEEDS:-1..10}
IND_SEEDS=${IND_SEEDS:-1..10}
[ -x "$BIN" ] || { echo "no funnel binary at $BIN (build it, or set FUNNEL_BIN)"; exit 2; }
"$PY" -c "import numpy, pandas, pyarrow" 2>/dev/null || { echo "skipping: needs $PY with numpy, pandas and pyarrow"; exit 0; }
BARO_OK=1
"$PY" -c "import RCAEval, sklearn" 2>/dev/null || { BARO_OK=0; echo "(BARO skipped: pip install rcaeval scikit-learn)"; }
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/funnel-rank.XXXXXX")}
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"
COLLECTIONS=${*:-sockshop petshop nezha sim independent}

build_sockshop() { # root
  [ -d "$DATA/sockshop-rcd" ] || return 1
  "$PY" bench/sockshop_csv.py "$DATA/sockshop-rcd" "$WORK/sockshop-csv" | while read -r csv row svc; do
    "$BIN" import wide-csv "$csv" --fault-row "$row" --root-cause "$svc" --out "$1" 2>/dev/null
  done
}
build_petshop() { [ -d "$DATA/petshop/dataset" ] && "$BIN" import petshop "$DATA/petshop/dataset" --out "$1" >/dev/null 2>&1; }
build_nezha() {
  [ -d "$DATA/nezha-tt" ] || return 1
  tar --zstd -xf "$DATA/nezha-tt/logs.tar.zst" -C "$WORK"
  tar --zstd -xf "$DATA/nezha-tt/traces.tar.zst" -C "$WORK"
  for d in 2023-01-29 2023-01-30; do
    mkdir -p "$WORK/nezha-days/$d"
    ln -sfn "$(realpath "$DATA/nezha-tt/$d/metric")" "$WORK/nezha-days/$d/metric"
    ln -sfn "$(realpath "$DATA/nezha-tt/$d/$d-fault_list.json")" "$WORK/nezha-days/$d/"
    for k in log trace; do [ -d "$WORK/rca_data/$d/$k" ] && ln -sfn "$WORK/rca_data/$d/$k" "$WORK/nezha-days/$d/$k"; done
    "$BIN" import nezha "$WORK/nezha-days/$d" --out "$1" >/dev/null 2>&1
  done
  rm -rf "$WORK/rca_data"
}
build_sim() { "$BIN" simulate --all --seeds "$SIM_SEEDS" --out "$1" >/dev/null; }
build_independent() { "$PY" bench/independent/gen.py --out "$1" --seeds "$IND_SEEDS" >/dev/null; }
# A generator kept out of the analyzer's tuning (IND2_GEN=path/to/gen.py, IND2_SEEDS): its
# seed/kind folders are linked flat under the collection root.
build_independent2() {
  [ -n "${IND2_GEN:-}" ] || return 1
  "$PY" "$IND2_GEN" --out "$1.nested" --seeds "${IND2_SEEDS:-1..4}" >/dev/null
  mkdir -p "$1"
  for d in "$1.nested"/*/*/; do
    if [ -f "$d/incident.toml" ]; then ln -sfn "$(realpath "$d")" "$1/$(basename "$(dirname "$d")")-$(basename "$d")"; fi
  done
}

score() { # label root -> one table row per method
  local label=$1 root=$2
  ls "$root" | xargs -P "$JOBS" -I{} "$BIN" analyze "$root/{}" --out "$root-out/{}" >/dev/null 2>&1 || true
  "$PY" bench/realdata_eval.py funnel "$root" "$root-out" > "$root.funnel.json"
  if [ -n "${FUNNEL_ONLY:-}" ]; then echo '{}' > "$root.naive.json"; echo '{}' > "$root.baro.json"; else
  "$PY" bench/naive_cases.py "$root" > "$root.naive.json"
  if [ $BARO_OK = 1 ]; then "$PY" bench/baro_cases.py "$root" > "$root.baro.json"; else echo '{}' > "$root.baro.json"; fi
  fi
  "$PY" - "$label" "$root" <<'PY'
import json, sys
label, root = sys.argv[1:3]
cells = []
for m in ["funnel", "naive", "baro"]:
    d = json.load(open(f"{root}.{m}.json"))
    cells.append(f"{d['ac1']:.3f} {d['ac3']:.3f} {d['ac5']:.3f}" if d else "    -     -     -")
n = json.load(open(f"{root}.funnel.json"))["n"]
print(f"{label:<28}{n:>4}   " + "   ".join(cells), flush=True)
PY
}

printf '%-28s%4s   %-17s   %-17s   %-17s\n' collection n "funnel AC@1/3/5" "naive AC@1/3/5" "BARO AC@1/3/5"
for c in $COLLECTIONS; do
  root="$WORK/$c"
  if [ ! -d "$root" ]; then
    "build_$c" "$root" || { echo "$c: skipped (no data under $DATA)"; continue; }
  fi
  score "$c" "$root"
  [ -n "${MISSES:-}" ] && "$PY" -c "import json;[print('  funnel miss', m) for m in json.load(open('$root.funnel.json'))['misses']]"
  if [ -n "${ABLATE:-}" ]; then
    for a in ${ABLATIONS:-no-topology no-limits no-logs no-traces no-events one-collector step-60s baseline-10}; do
      rm -rf "$root~$a" "$root~$a-out"
      rc=0; "$PY" bench/ablate.py "$a" "$root" "$root~$a" || rc=$?
      case $rc in
        0) score "  $c ~$a" "$root~$a" ;;
        3) printf '  %-26s  (nothing to remove)\n' "$c ~$a" ;;
        *) echo "  $c ~$a: ablation failed (exit $rc)"; exit 1 ;;
      esac
    done
  fi
done

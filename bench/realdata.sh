#!/usr/bin/env bash
# Real-data benchmark: import and analyse PetShop (low_traffic + high_traffic, 52 cases) and
# Nezha Train Ticket (2023-01-29 + 2023-01-30, 45 faults, metrics + logs + traces), print
# AC@1, AC@3, AC@5, Avg@5 and seconds per case, side by side with BARO (PyPI rcaeval) run on
# the same imported archives in the same run. Three timings: import + analysis (funnel converts
# the CSVs first; BARO reads the converted archives); read + rank, each method reading the same
# archives from disk and ranking, funnel as one `analyze` process per case (which also writes
# its report and charts, and BARO as one Python process per case, timed on a few cases); and
# batch, one process and one thread looping over the cases (`funnel mine --reports -j 1`, whose
# verdicts must match analyze's; BARO's usual loop).
#
# Usage: bench/realdata.sh            (FUNNEL_BIN defaults to target/release/funnel)
#        FUNNEL_BIN=target/debug/funnel bench/realdata.sh
# Needs: ../shared/data (skips with a message when absent), tar with zstd, python3 with
# rcaeval, pandas, pyarrow for the BARO column (skipped with a message when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
BIN=${FUNNEL_BIN:-target/release/funnel}
if [ ! -d "$DATA/petshop/dataset" ] || [ ! -d "$DATA/nezha-tt" ]; then
  echo "skipping: $DATA (petshop/, nezha-tt/) is absent"; exit 0
fi
[ -x "$BIN" ] || { echo "no funnel binary at $BIN (build it, or set FUNNEL_BIN)"; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/funnel-realdata.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
JOBS=${JOBS:-2}
now() { date +%s.%N; }

# Nezha day folders: metric/ and the fault list from the dataset, log/ and trace/ extracted
# from the tarballs (they hold rca_data/<day>/{log,trace}/).
tar --zstd -xf "$DATA/nezha-tt/logs.tar.zst" -C "$WORK"
tar --zstd -xf "$DATA/nezha-tt/traces.tar.zst" -C "$WORK"
for d in 2023-01-29 2023-01-30; do
  mkdir -p "$WORK/nezha-days/$d"
  ln -s "$(realpath "$DATA/nezha-tt/$d/metric")" "$WORK/nezha-days/$d/metric"
  ln -s "$(realpath "$DATA/nezha-tt/$d/$d-fault_list.json")" "$WORK/nezha-days/$d/"
  for k in log trace; do [ -d "$WORK/rca_data/$d/$k" ] && ln -s "$WORK/rca_data/$d/$k" "$WORK/nezha-days/$d/$k"; done
done

run_funnel() { # name, import commands... ; sets RES_<name>
  local name=$1; shift
  local t0; t0=$(now)
  "$@" >/dev/null 2>&1
  local tm; tm=$(now)
  ls "$WORK/$name" | xargs -P "$JOBS" -I{} "$BIN" analyze "$WORK/$name/{}" --out "$WORK/$name-out/{}" >/dev/null 2>&1 || true
  local t1; t1=$(now)
  # Batch, the way BARO is timed: one process, one thread, a loop over the cases (funnel mine
  # also writes every report and its trend tables).
  RAYON_NUM_THREADS=1 "$BIN" mine "$WORK/$name" --out "$WORK/$name-mine" --reports -j 1 >/dev/null 2>&1 || true
  local t2; t2=$(now)
  local n; n=$(ls "$WORK/$name" | wc -l)
  local same=0
  for c in $(ls "$WORK/$name"); do cmp -s "$WORK/$name-out/$c/verdict.json" "$WORK/$name-mine/reports/$c/verdict.json" && same=$((same+1)); done
  python3 bench/realdata_eval.py funnel "$WORK/$name" "$WORK/$name-out" \
    | python3 -c "import json,sys;d=json.load(sys.stdin);d['secs_per_case']=($t1-$t0)*$JOBS/max($n,1);d['analysis_secs_per_case']=($t1-$tm)*$JOBS/max($n,1);d['batch_secs_per_case']=($t2-$t1)/max($n,1);d['batch_same']=$same;print(json.dumps(d))" > "$WORK/$name.funnel.json"
}

run_funnel petshop "$BIN" import petshop "$DATA/petshop/dataset" --out "$WORK/petshop"
run_funnel nezha sh -c "'$BIN' import nezha '$WORK/nezha-days/2023-01-29' --out '$WORK/nezha' && '$BIN' import nezha '$WORK/nezha-days/2023-01-30' --out '$WORK/nezha'"

BARO_OK=1
python3 -c "import RCAEval, pandas, pyarrow, sklearn" 2>/dev/null || { BARO_OK=0; echo "(BARO skipped: pip install rcaeval pandas pyarrow scikit-learn)"; }
# BARO per process, like funnel's read+rank column: one Python process per case (interpreter,
# pandas and RCAEval imports included), timed on the first PROCESS_CASES cases only.
PROCESS_CASES=${PROCESS_CASES:-3}
baro_per_process() { # name -> seconds per case
  local name=$1 t0 t1 n=0
  t0=$(now)
  for c in $(ls "$WORK/$name" | head -n "$PROCESS_CASES"); do
    mkdir -p "$WORK/one-$name-$c" && ln -s "$WORK/$name/$c" "$WORK/one-$name-$c/$c"
    python3 bench/baro_cases.py "$WORK/one-$name-$c" >/dev/null 2>&1 || true
    n=$((n+1))
  done
  t1=$(now)
  python3 -c "print(($t1-$t0)/max($n,1))"
}
for name in petshop nezha; do
  if [ $BARO_OK = 1 ]; then
    per=$(baro_per_process "$name")
    python3 bench/baro_cases.py "$WORK/$name" \
      | python3 -c "import json,sys;d=json.load(sys.stdin);d['batch_secs_per_case']=d['secs_per_case'];d['analysis_secs_per_case']=$per;print(json.dumps(d))" > "$WORK/$name.baro.json"
  else echo '{}' > "$WORK/$name.baro.json"; fi
done

PROCESS_CASES=$PROCESS_CASES python3 - "$WORK" "$BIN" "$JOBS" <<'PY'
import json, sys
work, binary, jobs = sys.argv[1], sys.argv[2], sys.argv[3]
print(f"funnel binary: {binary}; seconds per case = wall time x processes at once / cases. "
      f"s/case: funnel import + analysis, BARO Parquet read + ranking in one process; "
      f"read+rank: one process per case reading the imported archive and ranking (funnel analyze, "
      f"{jobs} at once, each writing its report; BARO one Python process per case, timed on the "
      f"first {__import__('os').environ.get('PROCESS_CASES', '3')} cases); batch: one process and "
      f"one thread looping over the cases (funnel mine --reports -j 1; BARO as in s/case)")
print(f"{'collection':<22}{'method':<8}{'n':>4}{'AC@1':>8}{'AC@3':>8}{'AC@5':>8}{'Avg@5':>8}{'s/case':>9}{'read+rank':>11}{'batch':>9}")
for name, label in [("petshop", "PetShop (52)"), ("nezha", "Nezha TT (45)")]:
    for m in ["funnel", "baro"]:
        d = json.load(open(f"{work}/{name}.{m}.json"))
        if not d:
            continue
        rr = d.get('analysis_secs_per_case', d['secs_per_case'])
        batch = d.get('batch_secs_per_case', d['secs_per_case'])
        print(f"{label:<22}{m:<8}{d['n']:>4}{d['ac1']:>8.3f}{d['ac3']:>8.3f}{d['ac5']:>8.3f}{d['avg5']:>8.3f}{d['secs_per_case']:>9.2f}{rr:>11.3f}{batch:>9.3f}")
        if 'batch_same' in d and d['batch_same'] != d['n']:
            print(f"  warning: {d['n'] - d['batch_same']} batch verdicts differ from analyze's")
PY

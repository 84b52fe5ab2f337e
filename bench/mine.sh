#!/usr/bin/env bash
# Benchmark of `funnel mine`: incidents per second and peak RSS at several corpus sizes.
#
#   bench/mine.sh                       # release binary, 100 and 1,000 incidents
#   SIZES="30" FUNNEL_BIN=target/debug/funnel bench/mine.sh    # a quick smoke run
#
# Generates a corpus once: by default the seed incident (`live-rt-jitter`, ~108k metric rows and
# ~4k log lines each) at seeds 1..N, which is seed-sized by definition; SCENARIO=all uses the
# scenario library instead (`funnel simulate --all`, 14 archives per seed, ~3x larger). It hard-links the first N archives into a root per size, mines each root once and prints
# N, wall time, incidents/s and peak RSS (from /usr/bin/time -v). Target (issue 5): ≥ 50
# incidents/s on 2 cores, and peak RSS flat in N (it is bounded by --jobs, not the corpus).
#
# Environment: FUNNEL_BIN (default target/release/funnel), SIZES (default "100 1000"), JOBS
# (default: funnel's default, twice the CPU count), BENCH_DIR (default target/bench-mine; the corpus
# is reused across runs made with the same binary), CORPUS (an existing folder of archives to
# use instead of simulating one). Exits 0 with a message when the binary is
# missing. A debug binary is refused above 100 incidents: it is ~10x slower and measures nothing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${FUNNEL_BIN:-$repo/target/release/funnel}"
sizes="${SIZES:-100 1000}"
work="${BENCH_DIR:-$repo/target/bench-mine}"
per_seed=14

if [[ ! -x "$bin" ]]; then
    echo "skipping: $bin not found (cargo build --release, or set FUNNEL_BIN)"
    exit 0
fi
max=0
for n in $sizes; do (( n > max )) && max=$n; done
if [[ "$bin" == */debug/* ]] && (( max > 100 )); then
    echo "error: $bin is a debug build; use a release binary for $max incidents (or SIZES<=100 for a smoke run)" >&2
    exit 2
fi
have_time=0
[[ -x /usr/bin/time ]] && have_time=1 || echo "note: /usr/bin/time not found; peak RSS not measured"

# 1. Corpus: ceil(max / 14) seeds, regenerated when the binary changes.
stamp="$(stat -c '%Y-%s' "$bin")"
seeds=$(( (max + per_seed - 1) / per_seed ))
corpus="${CORPUS:-$work/corpus}"
mkdir -p "$work"
if [[ -z "${CORPUS:-}" && "$(cat "$work/corpus.stamp" 2>/dev/null)" != "$stamp-$seeds" ]]; then
    rm -rf "$corpus"
    mkdir -p "$work"
    echo "simulating ${SCENARIO:-live-rt-jitter} incidents into $corpus ..."
    t0=$(date +%s.%N)
    if [[ "${SCENARIO:-live-rt-jitter}" == all ]]; then
        "$bin" simulate --all --seeds "1..$seeds" --out "$corpus" >/dev/null
    else
        "$bin" simulate "${SCENARIO:-live-rt-jitter}" --seeds "1..$max" --out "$corpus" >/dev/null
    fi
    echo "  took $(echo "$(date +%s.%N) - $t0" | bc) s"
    echo "$stamp-$seeds" > "$work/corpus.stamp"
fi
mapfile -t archives < <(find "$corpus" -mindepth 1 -maxdepth 1 -type d | sort)

# 2. Mine each size; hard links keep the per-size roots cheap (mine does not follow symlinks).
printf '\n%-10s %10s %14s %14s %8s\n' incidents "wall s" "incidents/s" "peak RSS MB" failed
for n in $sizes; do
    root="$work/root-$n"
    out="$work/out-$n"
    rm -rf "$root" "$out"
    mkdir -p "$root"
    for a in "${archives[@]:0:$n}"; do cp -al "$a" "$root/"; done
    args=(mine "$root" --out "$out")
    [[ -n "${JOBS:-}" ]] && args+=(--jobs "$JOBS")
    t0=$(date +%s.%N)
    rc=0
    if (( have_time )); then
        /usr/bin/time -v -o "$work/time-$n.txt" "$bin" "${args[@]}" 2>"$work/mine-$n.log" || rc=$?
    else
        "$bin" "${args[@]}" 2>"$work/mine-$n.log" || rc=$?
    fi
    wall=$(echo "$(date +%s.%N) - $t0" | bc)
    if (( rc > 1 )); then
        echo "error: funnel mine exited $rc; see $work/mine-$n.log" >&2
        exit "$rc"
    fi
    rss="-"
    if (( have_time )); then
        kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time-$n.txt")
        rss=$(echo "scale=0; $kb / 1024" | bc)
    fi
    failed=$(grep -o ', [0-9]* failed' "$work/mine-$n.log" | grep -o '[0-9]*' || echo "?")
    rate=$(echo "scale=3; $n / $wall" | bc)
    printf '%-10s %10.1f %14.2f %14s %8s\n' "$n" "$wall" "$rate" "$rss" "$failed"
done
echo
echo "binary: $bin; outputs under $work (target: >= 50 incidents/s on 2 cores, RSS flat in N)"

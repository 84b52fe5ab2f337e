#!/usr/bin/env bash
# Export speed: a cluster of 300 services × 10 pods (the bundled incident's raw series, its
# services copied) backfilled into a real Prometheus, exported with the built-in profile.
# Prints wall time, peak RSS, queries, series, samples and where the time goes.
#   bench/export.sh                                   # 300 × 10, debug build
#   FUNNEL_BENCH_SERVICES=60 bench/export.sh          # smaller
#   PROFILE=release bench/export.sh                   # with an existing release build
#   FUNNEL_BENCH_DATA=/tmp/cluster bench/export.sh    # keep the backfilled blocks, reuse them next time
# Needs prometheus and promtool (apt-get install prometheus).
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
[ "${PROFILE:-debug}" = release ] && args=(--release)
cargo test --locked "${args[@]}" --test cli export_bench -- --ignored --nocapture

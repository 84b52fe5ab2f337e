#!/usr/bin/env bash
# Fuzz benchmark: a byte-mutation fuzzer (examples/fuzz) over real inputs — the archive's
# Parquet files (footers above all) and incident.toml, log files for `funnel logs`, the
# wide-CSV, PetShop and Nezha importers' inputs, a real Prometheus' JSON answers replayed
# through `funnel export prometheus`, and the Loki, kubectl, OTLP, Jaeger and Tempo files of
# `funnel attach` — run in-process through the CLI's code paths,
# each case bounded in time. Prints cases/s, distinct errors, errors naming no file, crashes
# (panics) and hangs; exits 1 when any crash or hang was found, its input saved under CRASHES.
#
#   bench/fuzz.sh                          # 1,000,000 cases, one worker per CPU
#   CASES=3000 bench/fuzz.sh               # the CI smoke (.ci/run)
#
# Environment: CASES (default 1000000), JOBS (default: CPU count), SEED (default 1), TIMEOUT_MS
# of CPU time per case (default 10000; ten times that on the wall clock), TMPDIR for the cases'
# files (default /dev/shm when writable: 240 cases/s there against 64 on this machine's disk,
# one worker, release), CRASHES (default target/fuzz-crashes), PROFILE (default dev; `release`
# is ~10x faster but builds polars in release first), FUNNEL_DATA (the shared datasets, default
# ../shared/data; small built-in seeds stand in when missing).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
profile="${PROFILE:-dev}"
if [[ -z "${TMPDIR:-}" && -w /dev/shm ]]; then export TMPDIR=/dev/shm; fi
cargo build --locked --profile "$profile" --example fuzz
dir=debug
[[ "$profile" == dev ]] || dir="$profile"
exec "$CARGO_TARGET_DIR/$dir/examples/fuzz" \
    --cases "${CASES:-1000000}" \
    --jobs "${JOBS:-$(nproc)}" \
    --seed "${SEED:-1}" \
    --timeout-ms "${TIMEOUT_MS:-10000}" \
    --crashes "${CRASHES:-$CARGO_TARGET_DIR/fuzz-crashes}"

#!/usr/bin/env bash
# Attach speed: 1 M logcli JSON lines and 1 M OTLP JSON spans (generated on the fly into a
# temporary folder, never committed) attached to a copy of the bundled incident.
# Prints lines/s, spans/s (wall clock, and per CPU second), peak RSS and, from FUNNEL_TIMINGS,
# the time per phase. One core: rayon and polars are held to one thread. Uses
# $CARGO_TARGET_DIR/release/funnel when it exists, else the debug build (and says which).
#   bench/attach.sh            # 1 M each
#   N=200000 bench/attach.sh   # smaller
#   INPUT=/tmp/x bench/attach.sh  # generate into /tmp/x once and reuse it
#   FUNNEL_BIN=/path/to/funnel bench/attach.sh  # another binary
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
T=${CARGO_TARGET_DIR:-target}
if [ -n "${FUNNEL_BIN:-}" ]; then BIN=$FUNNEL_BIN; BUILD=$(basename "$BIN"); elif [ -x "$T/release/funnel" ]; then BIN="$T/release/funnel"; BUILD=release; else
  cargo build --locked -q; BIN="$T/debug/funnel"; BUILD=debug; fi
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
IN=${INPUT:-$D}
mkdir -p "$IN"
[ -s "$IN/spans.jsonl" ] && [ -s "$IN/logs.jsonl" ] || python3 - "$IN" "$N" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
t0 = 1714568520 * 10**9          # 13:02:00Z, the seed's baseline start
span = 75 * 60 * 10**9 // n      # spread over the export range
svcs = ["live-api", "gift-api", "chat-api", "user-api", "billing-worker"]
with open(f"{d}/logs.jsonl", "w") as f:
    for i in range(n):
        s = svcs[i % 5]
        ts = t0 + i * span
        sec, ns = divmod(ts, 10**9)
        import time
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{ns:09d}Z"
        lvl = "error" if i % 97 == 0 else "info"
        line = (f"upstream redis timeout after {i % 50} ms key=user:{i}" if lvl == "error"
                else f"GET /api/v1/items/{i % 1000} 200 {i % 40} ms")
        f.write(json.dumps({"labels": {"app": s, "pod": f"{s}-5f7c9-{i % 3}", "level": lvl},
                            "line": line, "timestamp": stamp}) + "\n")
def attr(k, v): return {"key": k, "value": {"stringValue": v}}
with open(f"{d}/spans.jsonl", "w") as f:
    per_line = 1000
    for b in range(0, n, per_line):
        by_svc = {}
        for i in range(b, min(n, b + per_line)):
            t, k = divmod(i, 4)       # traces of 4 spans: server, client → server, db client
            start = t0 + t * 4 * span
            tid = f"{t:032x}"
            s0, s1 = svcs[t % 5], svcs[(t + 1) % 5]
            spec = [(s0, None, 2, 0, 40, []),
                    (s0, 0, 3, 5, 30, []),
                    (s1, 1, 2, 7, 25, []),
                    (s1, 2, 3, 10, 12, [attr("db.system", "redis"), attr("server.address", "live-cache")])][k]
            svc, parent, kind, off, dur, attrs = spec
            sp = {"traceId": tid, "spanId": f"{i:016x}", "name": "op", "kind": kind,
                  "startTimeUnixNano": str(start + off * 10**6),
                  "endTimeUnixNano": str(start + (off + dur) * 10**6),
                  "attributes": attrs, "status": {}}
            if parent is not None:
                sp["parentSpanId"] = f"{t * 4 + parent:016x}"
            by_svc.setdefault(svc, []).append(sp)
        rs = [{"resource": {"attributes": [attr("service.name", s)]},
               "scopeSpans": [{"scope": {"name": "bench"}, "spans": sp}]} for s, sp in by_svc.items()]
        f.write(json.dumps({"resourceSpans": rs}) + "\n")
PY
cp -r data/incidents/live-rt-jitter "$D/archive"
rm -rf "$D/archive/logs"
for what in logs traces; do
  file=$([ $what = logs ] && echo logs.jsonl || echo spans.jsonl)
  size=$(du -m "$IN/$file" | cut -f1)
  start=$(date +%s.%N)
  FUNNEL_TIMINGS=1 RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1 /usr/bin/time -v "$BIN" attach $what "$D/archive" "$IN/$file" 2> "$D/time.txt" >/dev/null || { cat "$D/time.txt"; exit 1; }
  end=$(date +%s.%N)
  rss=$(awk -F': ' '/Maximum resident/ {print int($2/1024)}' "$D/time.txt")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$D/time.txt")
  awk -v n="$N" -v s="$start" -v e="$end" -v w="$what" -v r="$rss" -v b="$BUILD" -v m="$size" -v c="$cpu" \
    'BEGIN { printf "attach %s (%s build): %d %s from %d MB in %.1f s = %.0f/s (%.1f CPU s = %.0f/CPU s), peak RSS %d MB\n", w, b, n, (w=="logs"?"lines":"spans"), m, e-s, n/(e-s), c, n/c, r }'
  grep '^timings' "$D/time.txt" || true
done
echo "load: $(uptime | sed 's/.*load average/load average/')"

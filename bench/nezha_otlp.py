#!/usr/bin/env python3
"""Converts one Nezha day's span CSVs (trace/*.csv: TraceID, SpanID, ParentID, PodName,
OperationName, StartTimeUnixNano, EndTimeUnixNano, Duration) to OTLP JSON, the OpenTelemetry
collector file exporter's shape (one ExportTraceServiceRequest per line: resourceSpans /
scopeSpans / spans, hex ids, int64 times as decimal strings in ns), one file per fault of the
day's fault list holding the spans that start inside that fault's incident (the hour of
baseline before it to its end, as `funnel import nezha` cuts it: inject_time - 61 min to
inject_time + 4 min). Files are named like the importer's incidents
(`<day>-<NN>-<kind>.otlp.jsonl`).

The CSVs do not record span kinds or peer attributes, so the converter states only what the
rows show, the way the Java agent that recorded them reports it: a span whose parent is
"root" or in another pod is the callee's SERVER span; "HTTP GET/POST/..." spans are CLIENT
spans; SQL statements are CLIENT spans without peer attributes (the CSVs do not name the
database); everything else is INTERNAL. Each resource carries `service.name` (the pod name
minus its last two `-` segments, as the importer names services) and `k8s.pod.name`.

Usage: nezha_otlp.py <day-folder> <out-dir>
  (<day-folder> holds trace/ and <day>-fault_list.json)
"""
import csv, json, os, sys
from datetime import datetime, timezone

SERVER, CLIENT, INTERNAL = 2, 3, 1
SQL = ("SELECT", "INSERT", "UPDATE", "DELETE")
MIN_NS = 60 * 10**9


def service_of_pod(pod):
    parts = pod.split("-")
    return "-".join(parts[:-2]) if len(parts) > 2 else pod


def faults(day):
    name = os.path.basename(os.path.normpath(day))
    hours = json.load(open(os.path.join(day, f"{name}-fault_list.json")))
    out = []
    for hour in hours.values():
        for f in hour:
            t = datetime.strptime(f["inject_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
            out.append((int(t.timestamp()) * 10**9, f.get("inject_type", "unknown")))
    out.sort(key=lambda f: f[0])  # the importer's order (stable for equal times)
    return name, out


def read_spans(day):
    rows = []
    tdir = os.path.join(day, "trace")
    for fn in sorted(os.listdir(tdir)):
        if not fn.endswith(".csv"):
            continue
        with open(os.path.join(tdir, fn), newline="") as f:
            rows.extend(csv.DictReader(f))
    pod_of = {(r["TraceID"], r["SpanID"]): r["PodName"] for r in rows}
    spans = []
    for r in rows:
        parent = r["ParentID"]
        ppod = pod_of.get((r["TraceID"], parent))
        op = r["OperationName"]
        if parent == "root" or (ppod is not None and ppod != r["PodName"]):
            kind = SERVER
        elif op.startswith("HTTP ") or op.upper().startswith(SQL):
            kind = CLIENT
        else:
            kind = INTERNAL
        s = {"traceId": r["TraceID"].lower(), "spanId": r["SpanID"].lower(), "name": op,
             "kind": kind, "startTimeUnixNano": r["StartTimeUnixNano"],
             "endTimeUnixNano": r["EndTimeUnixNano"], "attributes": [], "status": {}}
        if parent != "root":
            s["parentSpanId"] = parent.lower()
        spans.append((int(r["StartTimeUnixNano"]), r["PodName"], s))
    spans.sort(key=lambda x: x[0])
    return spans


def attr(k, v):
    return {"key": k, "value": {"stringValue": v}}


def write(path, spans, per_line=500):
    with open(path, "w") as f:
        for i in range(0, len(spans), per_line):
            by_pod = {}
            for _, pod, s in spans[i:i + per_line]:
                by_pod.setdefault(pod, []).append(s)
            rs = [{"resource": {"attributes": [attr("service.name", service_of_pod(p)),
                                               attr("k8s.pod.name", p)]},
                   "scopeSpans": [{"scope": {"name": "nezha-csv"}, "spans": sp}]}
                  for p, sp in by_pod.items()]
            f.write(json.dumps({"resourceSpans": rs}) + "\n")


def main():
    day, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    name, fs = faults(day)
    spans = read_spans(day)
    starts = [s[0] for s in spans]
    import bisect
    for i, (at, kind) in enumerate(fs):
        lo, hi = at - 61 * MIN_NS, at + 4 * MIN_NS
        sel = spans[bisect.bisect_left(starts, lo):bisect.bisect_left(starts, hi)]
        write(os.path.join(out, f"{name}-{i:02}-{kind.replace('_', '-')}.otlp.jsonl"), sel)
        print(f"{name}-{i:02}: {len(sel)} spans", file=sys.stderr)


if __name__ == "__main__":
    main()

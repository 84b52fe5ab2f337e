//! `nezha`: one Nezha day folder (`metric/` plus optional `log/` and `trace/`, and
//! `<day>-fault_list.json`) → one incident per injected fault, alerting on the front service,
//! labelled with the injected pod's service (the pod name minus its last two `-` segments).
//!
//! Windows: the incident runs from 1 min before `inject_time` to 4 min after it (faults last
//! ~3 min; metrics are sampled ~1/min). The baseline is the hour before the incident: ten
//! samples per series are too few for a robust spread, and faults are injected every 6–9
//! minutes, so the metric rows inside any other fault's window (1 min before to 5 min after
//! its `inject_time`) are left out of it; only the schedule's times are used, never its labels.
//! Log lines and trace-derived series of the baseline hour are kept whole: the day's log files only cover the minutes
//! and span files only cover the minutes around each fault, so other faults' windows are the
//! only record of what the services normally log and how fast their calls are (a template
//! already seen there is not new; a median over several other faults is the normal latency).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::nezha_read::{self, FRONT};
use super::{Incident, check_windows, spec};
use crate::error::Error;
use crate::model::{ArchiveData, Instant, LogRow, MetricRow, Windows, service_of_pod};

use crate::model::MINUTE_MS as MIN;

/// One injected fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// `inject_time`, epoch ms (UTC).
    pub at: i64,
    /// The injected pod.
    pub pod: String,
    /// `network_delay`, `exception`, `return`, `cpu_contention`, ...
    pub kind: String,
}

fn fault_file(day: &Path) -> Result<PathBuf, Error> {
    let name = day.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let exact = day.join(format!("{name}-fault_list.json"));
    if exact.is_file() {
        return Ok(exact);
    }
    super::files_ending(day, "fault_list.json")?
        .into_iter()
        .next()
        .ok_or_else(|| Error::input(day, "no <day>-fault_list.json here"))
}

/// Reads the fault list (`{hour: [{inject_time, inject_pod, inject_type}]}`), sorted by time.
///
/// # Errors
/// Not JSON, or an entry without a parsable `inject_time` or an `inject_pod`.
pub fn faults(path: &Path) -> Result<Vec<Fault>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::input(path, format!("not JSON ({e})")))?;
    let hours = json
        .as_object()
        .ok_or_else(|| Error::input(path, "expected an object of hours, each a list of faults"))?;
    let mut out = Vec::new();
    for (hour, list) in hours {
        for (i, f) in list.as_array().into_iter().flatten().enumerate() {
            let field = |k: &str| f.get(k).and_then(serde_json::Value::as_str);
            let bad = |k: &str| {
                super::column_error(
                    path,
                    k,
                    &format!("hour {hour}, fault {i}: missing or malformed"),
                )
            };
            let at = field("inject_time")
                .and_then(Instant::parse)
                .ok_or_else(|| bad("inject_time"))?
                .0;
            let pod = field("inject_pod")
                .ok_or_else(|| bad("inject_pod"))?
                .to_string();
            out.push(Fault {
                at,
                pod,
                kind: field("inject_type").unwrap_or("unknown").to_string(),
            });
        }
    }
    out.sort_by_key(|f| f.at);
    Ok(out)
}

/// The windows of fault `i` (see the module doc).
#[must_use]
pub fn windows(faults: &[Fault], i: usize) -> Windows {
    let t = faults[i].at;
    let (start, end) = (t - MIN, t + 4 * MIN);
    Windows {
        baseline_start: start - BASELINE,
        baseline_end: start,
        start,
        end,
        fired_at: t,
    }
}

/// How far back the baseline reaches.
const BASELINE: i64 = 60 * MIN;

/// Whether a metric sample at `ts` lies in another fault's window (1 min before to 5 min after
/// its injection), so it cannot describe normal behaviour.
fn in_other_fault(faults: &[Fault], i: usize, ts: i64) -> bool {
    faults
        .iter()
        .enumerate()
        .any(|(j, f)| j != i && ts >= f.at - MIN && ts < f.at + 5 * MIN)
}

/// One day folder read once: every fault's incident is cut from it on demand
/// ([`Day::build`]), so a day's incidents need not all be in memory at once.
#[derive(Debug)]
pub struct Day {
    path: PathBuf,
    name: String,
    faults: Vec<Fault>,
    wins: Vec<Windows>,
    metrics: Vec<MetricRow>,
    traced: Vec<MetricRow>,
    logs: Vec<LogRow>,
    deps: BTreeMap<String, Vec<String>>,
    /// Where the alert goes: the front service, or the entry of the call graph.
    entry: String,
}

/// The service the alert goes on, as users see it: the front service when the day has its
/// metrics; else the entry of the call graph, the service with metrics that no other service
/// calls and that reaches the most services; else the service with the most samples. Never
/// chosen from the fault list, which would point the alert at the answer.
fn entry_service(metrics: &[MetricRow], deps: &BTreeMap<String, Vec<String>>) -> String {
    let mut samples: BTreeMap<&str, usize> = BTreeMap::new();
    for r in metrics {
        *samples.entry(r.entity.as_str()).or_default() += 1;
    }
    if samples.contains_key(FRONT) {
        return FRONT.to_string();
    }
    let called: std::collections::BTreeSet<&str> =
        deps.values().flatten().map(String::as_str).collect();
    let reach = |from: &str| {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![from];
        while let Some(e) = todo.pop() {
            for d in deps.get(e).into_iter().flatten() {
                if seen.insert(d.as_str()) {
                    todo.push(d);
                }
            }
        }
        seen.len()
    };
    let roots = samples
        .keys()
        .filter(|e| !called.contains(*e) && deps.contains_key(**e));
    let by_reach = roots
        .map(|e| (reach(e), *e))
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)));
    let by_samples = || {
        samples
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
    };
    by_reach
        .map(|(_, e)| e)
        .or_else(|| by_samples().map(|(e, _)| *e))
        .unwrap_or(FRONT)
        .to_string()
}

/// Reads one day folder: its fault list, metrics, traces and logs.
///
/// # Errors
/// A missing `metric/` folder or fault list, or a malformed CSV, named by file and column.
pub fn read(day: &Path) -> Result<Day, Error> {
    let metric_dir = day.join("metric");
    if !metric_dir.is_dir() {
        return Err(Error::input(
            day,
            "not a Nezha day folder (expected metric/, plus optional log/ and trace/: extract logs.tar.zst and traces.tar.zst into it first)",
        ));
    }
    let faults = faults(&fault_file(day)?)?;
    let mut metrics = nezha_read::pod_metrics(&metric_dir)?;
    metrics.extend(nezha_read::front_metrics(&metric_dir)?);
    let (edges, traced) = nezha_read::traces(day)?;
    let graph = nezha_read::call_graph(day, edges)?;
    let deps: BTreeMap<String, Vec<String>> = graph
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect();
    let wins: Vec<Windows> = (0..faults.len()).map(|i| windows(&faults, i)).collect();
    let mut logs = nezha_read::logs(
        day,
        &wins
            .iter()
            .map(|w| (w.baseline_start, w.end))
            .collect::<Vec<_>>(),
    )?;
    crate::logs::label::label(&mut logs);
    let entry = entry_service(&metrics, &deps);
    let name = day
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("day")
        .to_string();
    Ok(Day {
        path: day.to_path_buf(),
        name,
        faults,
        wins,
        metrics,
        traced,
        logs,
        deps,
        entry,
    })
}

impl Day {
    /// Number of faults, hence of incidents.
    #[must_use]
    pub fn len(&self) -> usize {
        self.faults.len()
    }

    /// True when the fault list is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// The incident of fault `i` (in fault-list order).
    ///
    /// # Errors
    /// The fault's windows are invalid.
    pub fn build(&self, i: usize) -> Result<Incident, Error> {
        let (f, w) = (&self.faults[i], &self.wins[i]);
        let faults = &self.faults;
        let inside = |ts: i64| ts >= w.baseline_start && ts < w.end;
        let clean = |ts: i64| inside(ts) && (ts >= w.start || !in_other_fault(faults, i, ts));
        let day_name = &self.name;
        let name = format!("{day_name}-{i:02}-{}", f.kind.replace('_', "-"));
        let alert = (self.entry.as_str(), "latency_p99_ms");
        let s = spec(
            &name,
            format!(
                "Nezha {day_name} fault {i}: {} injected into {}",
                f.kind, f.pod
            ),
            format!(
                "Imported from {}; incident window 1 min before to 4 min after inject_time",
                self.path.display()
            ),
            (alert.0, alert.1, w.fired_at),
            *w,
            &self.deps,
            Some(service_of_pod(&f.pod)),
        );
        check_windows(&s, &self.path)?;
        let data = ArchiveData {
            spec: s,
            metrics: self
                .metrics
                .iter()
                .filter(|r| clean(r.ts_ms))
                .chain(self.traced.iter().filter(|r| inside(r.ts_ms)))
                .cloned()
                .collect(),
            logs: self
                .logs
                .iter()
                .filter(|r| inside(r.ts_ms))
                .cloned()
                .collect(),
            events: Vec::new(),
        };
        Ok(Incident { name, data })
    }
}

/// Imports every fault of one day folder. `funnel import` builds and writes them one at a
/// time instead ([`read`], [`super::build_and_write`]).
///
/// # Errors
/// A missing `metric/` folder or fault list, or a malformed CSV, named by file and column.
pub fn import(day: &Path) -> Result<Vec<Incident>, Error> {
    let d = read(day)?;
    (0..d.len()).map(|i| d.build(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = "ts-auth-service-7f8d7d756d-k7b9j";

    fn day(dir: &Path) -> PathBuf {
        let d = dir.join("2023-01-29");
        std::fs::create_dir_all(d.join("metric")).unwrap();
        std::fs::create_dir_all(d.join("trace")).unwrap();
        std::fs::create_dir_all(d.join("log")).unwrap();
        let mut m = String::from(
            "Time,TimeStamp,PodName,CpuUsage(m),PodServerLatencyP99(s),NodeCpuUsageRate(%)\n",
        );
        let mut fr = String::from("Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP99(s)\n");
        for i in 0..30 {
            m.push_str(&format!(
                "2023-01-29 08:{i:02}:09.1 +0000 UTC m=+0.1,1,{POD},{},0.01,3\n",
                if i >= 20 { 500 } else { 10 }
            ));
            fr.push_str(&format!(
                "2023-01-29 08:{i:02}:09.0 +0000 UTC m=+0.1,1,Frontend,100,0.5\n"
            ));
        }
        std::fs::write(d.join(format!("metric/{POD}_metric.csv")), m).unwrap();
        std::fs::write(d.join("metric/front_service.csv"), fr).unwrap();
        std::fs::write(
            d.join("trace/08_20_trace.csv"),
            format!(
                "TraceID,SpanID,ParentID,PodName\nt,a,root,ts-gateway-service-1-x\nt,b,a,{POD}\n"
            ),
        )
        .unwrap();
        let ns = 1_674_982_000_000_000_000i64; // 2023-01-29 08:46:40
        let inside = 1_674_980_460_000_000_000i64; // 2023-01-29 08:21:00
        std::fs::write(d.join("log/08_20_log.csv"), format!("Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log\nx,{ns},n,{POD},c,t,s,\"{{\"\"log\"\":\"\"08:20:00 ERROR boom\\n\"\"}}\"\nx,{inside},n,{POD},c,t,s,\"{{\"\"log\"\":\"\"08:21:00 ERROR boom 42\\n\"\"}}\"\n")).unwrap();
        std::fs::write(d.join("2023-01-29-fault_list.json"), format!(r#"{{"08":[{{"inject_time":"2023-01-29 08:20:30","inject_timestamp":"0","inject_pod":"{POD}","inject_type":"cpu_contention"}}]}}"#)).unwrap();
        d
    }

    #[test]
    fn one_incident_per_fault_with_graph_and_logs() {
        let dir = tempfile::tempdir().unwrap();
        let d = day(dir.path());
        let incs = import(&d).unwrap();
        assert_eq!(incs.len(), 1);
        let a = &incs[0].data;
        assert_eq!(incs[0].name, "2023-01-29-00-cpu-contention");
        assert_eq!(a.spec.alert.entity, FRONT);
        assert_eq!(
            a.spec.expected.as_ref().map(|e| e.culprit.as_str()),
            Some("ts-auth-service")
        );
        assert_eq!(
            a.spec
                .entity("ts-gateway-service")
                .map(|e| e.depends_on.clone()),
            Some(vec!["ts-auth-service".to_string()])
        );
        assert!(a.metrics.iter().all(|r| !r.metric.starts_with("Node")));
        assert!(
            a.metrics
                .iter()
                .any(|r| r.metric == "cpu_cores" && r.pod.as_deref() == Some(POD))
        );
        let w = a.spec.windows().unwrap();
        assert_eq!(w.end - w.start, 5 * MIN);
        // One line lies outside every window; the other is kept, with its template.
        assert_eq!(a.logs.len(), 1);
        assert_eq!(a.logs[0].message, "08:21:00 ERROR boom 42");
        assert_eq!(a.logs[0].level.as_deref(), Some("error"));
        let t = a.logs[0].template.as_deref().unwrap_or_default();
        assert!(t.contains("ERROR boom") && t.contains("<*>"), "{t}");
    }

    #[test]
    fn without_front_metrics_the_alert_goes_on_the_graph_entry() {
        let row = |e: &str| MetricRow::new(0, e, "latency_p99_ms", 1.0);
        let deps: BTreeMap<String, Vec<String>> = [
            ("gateway", vec!["auth", "order"]),
            ("order", vec!["db"]),
            ("cron", vec!["db"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
        let metrics: Vec<MetricRow> = ["auth", "order", "gateway", "cron", "db", "db"]
            .into_iter()
            .map(row)
            .collect();
        assert_eq!(entry_service(&metrics, &deps), "gateway");
        assert_eq!(entry_service(&metrics, &BTreeMap::new()), "db");
        let mut with_front = metrics.clone();
        with_front.push(row(FRONT));
        assert_eq!(entry_service(&with_front, &deps), FRONT);
    }

    #[test]
    fn baseline_skips_other_faults() {
        let f = |m: i64| Fault {
            at: m * MIN,
            pod: POD.into(),
            kind: "return".into(),
        };
        let fs = vec![f(100), f(108), f(130)];
        assert_eq!(windows(&fs, 2).baseline_start, 69 * MIN);
        assert_eq!(windows(&fs, 2).baseline_end, 129 * MIN);
        assert!(in_other_fault(&fs, 2, 104 * MIN) && in_other_fault(&fs, 2, 112 * MIN));
        assert!(
            !in_other_fault(&fs, 2, 114 * MIN) && !in_other_fault(&fs, 2, 131 * MIN),
            "its own window is not another fault's"
        );
        assert!(!in_other_fault(&fs, 0, 101 * MIN));
    }

    #[test]
    fn malformed_sources_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let d = day(dir.path());
        assert!(
            import(dir.path())
                .unwrap_err()
                .to_string()
                .contains("metric/")
        );
        std::fs::write(
            d.join("2023-01-29-fault_list.json"),
            r#"{"08":[{"inject_time":"soon","inject_pod":"p"}]}"#,
        )
        .unwrap();
        let e = import(&d).unwrap_err().to_string();
        assert!(
            e.contains("fault_list.json") && e.contains("inject_time"),
            "{e}"
        );
        std::fs::write(
            d.join(format!("metric/{POD}_metric.csv")),
            "Time,PodName\nnot a time,p\n",
        )
        .unwrap();
        std::fs::write(d.join("2023-01-29-fault_list.json"), r#"{}"#).unwrap();
        let e = import(&d).unwrap_err().to_string();
        assert!(e.contains("_metric.csv") && e.contains("`Time`"), "{e}");
    }
}

//! `funnel export prometheus` against real servers: simulated incidents rendered as the raw
//! metrics of a kube-prometheus + Istio cluster, loaded into Prometheus (promtool backfill)
//! and VictoriaMetrics (`/api/v1/import`), exported back and analysed.

use super::export_servers::{Server, have, prometheus, stored_samples, victoria, victoria_with};
use super::*;
use funnel::model::ArchiveData;
use funnel::sim::openmetrics;

#[path = "../fuzz-seeds/request.rs"]
mod fuzz_seed;
use fuzz_seed::{FIRED_AT as SEED_FIRED, seed_export};

fn verdict(archive: &Path, out: &Path) -> serde_json::Value {
    run_ok(&[
        "analyze",
        archive.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    serde_json::from_str(&read(&out.join("verdict.json"))).unwrap()
}

fn export(server: &Server, alert: &str, fired: &str, out: &Path) -> Output {
    funnel()
        .args([
            "export",
            "prometheus",
            "--url",
            &server.url(),
            "--alert",
            alert,
        ])
        .args(["--fired-at", fired, "--out"])
        .arg(out)
        .output()
        .expect("run funnel export")
}

fn export_ok(server: &Server, alert: &str, fired: &str, out: &Path) {
    let o = export(server, alert, fired, out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn eliminated(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v["hypotheses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["status"] == "eliminated")
        .map(|h| h["kind"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k.dedup();
    k
}

fn loaded(server: &Server, series: &[openmetrics::RawSeries]) {
    assert_eq!(
        stored_samples(server.port, series),
        openmetrics::sample_count(series) as u64,
        "the server holds a different number of samples than were loaded"
    );
}

fn seed_data() -> ArchiveData {
    funnel::sim::simulate("live-rt-jitter", 1).unwrap()
}

fn check_seed_round_trip(server: &Server, dir: &Path) {
    let out = dir.join("exported");
    export_ok(server, "live-api/latency_p99_ms", SEED_FIRED, &out);
    let direct = verdict(Path::new(seed()), &dir.join("direct"));
    let back = verdict(&out, &dir.join("back"));
    for key in ["root_cause", "trigger"] {
        for f in ["kind", "culprit"] {
            assert_eq!(back[key][f], direct[key][f], "{key}.{f}: {}", back[key]);
        }
    }
    assert_eq!(back["root_cause"]["kind"], "sidecar");
    assert_eq!(eliminated(&back), eliminated(&direct));
    let toml = read(&out.join("incident.toml"));
    assert!(
        toml.contains("kube-prometheus") && toml.contains(&server.url()),
        "{toml}"
    );
}

#[test]
fn seed_incident_round_trips_through_prometheus() {
    if !have("prometheus") || !have("promtool") {
        return;
    }
    let dir = tmp();
    let series = openmetrics::series(&seed_data());
    let server = prometheus(dir.path(), &series);
    loaded(&server, &series);
    check_seed_round_trip(&server, dir.path());
}

#[test]
fn seed_incident_round_trips_through_victoria_metrics() {
    if !have("victoria-metrics") {
        return;
    }
    let dir = tmp();
    let series = openmetrics::series(&seed_data());
    let server = victoria(dir.path(), &series);
    loaded(&server, &series);
    check_seed_round_trip(&server, dir.path());
}

/// A server that refuses the export's requests for their size (here VictoriaMetrics allowing
/// 60 points per series, where the seed's window holds ~420) is asked for less at a time. The
/// archive holds the same rows as from an unlimited server (values agree to the last bits:
/// the server sums pods in another order per request) and gives the same verdict.
#[test]
fn a_server_size_limit_splits_the_requests_and_changes_nothing() {
    if !have("victoria-metrics") {
        return;
    }
    let dir = tmp();
    let series = openmetrics::series(&seed_data());
    let limited = victoria_with(
        &dir.path().join("limited"),
        &series,
        &["-search.maxPointsPerTimeseries=60"],
    );
    let (split, whole) = (dir.path().join("split"), dir.path().join("whole"));
    let alert = "live-api/latency_p99_ms";
    export_ok(&limited, alert, SEED_FIRED, &split);
    drop(limited);
    let open = victoria(&dir.path().join("open"), &series);
    export_ok(&open, alert, SEED_FIRED, &whole);
    let rows = |a: &Path| funnel::archive::load(a).unwrap().metrics.rows;
    assert_eq!(rows(&split), rows(&whole));
    let (a, b) = (
        verdict(&split, &dir.path().join("a")),
        verdict(&whole, &dir.path().join("b")),
    );
    for key in ["root_cause", "trigger"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert_eq!(eliminated(&a), eliminated(&b));
}

/// The seed with one live-api pod ended at 13:30 and a firing `ALERTS` series in three
/// episodes (13:50–13:53, 14:00–14:04, 14:10–14:12), gaps longer than 5 minutes.
fn history() -> (Vec<openmetrics::RawSeries>, String, i64) {
    let mut data = seed_data();
    let cut = funnel::model::Instant::parse("2024-05-01T13:30:00Z")
        .unwrap()
        .0;
    let pod = data
        .metrics
        .iter()
        .filter(|r| r.entity == "live-api")
        .find_map(|r| r.pod.clone())
        .unwrap();
    data.metrics
        .retain(|r| r.pod.as_deref() != Some(pod.as_str()) || r.ts_ms < cut);
    let mut series = openmetrics::series(&data);
    let at = |hm: &str| {
        funnel::model::Instant::parse(&format!("2024-05-01T{hm}:00Z"))
            .unwrap()
            .0
    };
    let mut points = Vec::new();
    for (a, b) in [("13:50", "13:53"), ("14:00", "14:04"), ("14:10", "14:12")] {
        points.extend((at(a)..=at(b)).step_by(15_000).map(|t| (t, 1.0)));
    }
    let labels = [
        ("alertname", "IstioHighRequestLatency"),
        ("alertstate", "firing"),
        ("severity", "critical"),
        ("destination_workload", "live-api"),
    ];
    series.push(openmetrics::RawSeries {
        name: "ALERTS".into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        points,
    });
    (series, pod, cut)
}

fn max_ts_of_pod(archive: &Path, pod: &str) -> Option<i64> {
    use polars::prelude::*;
    let mut best = None;
    for f in std::fs::read_dir(archive.join("metrics")).unwrap() {
        let df = ParquetReader::new(std::fs::File::open(f.unwrap().path()).unwrap())
            .finish()
            .unwrap();
        let Ok(pods) = df.column("pod") else { continue };
        let ts = df.column("ts").unwrap().cast(&DataType::Int64).unwrap();
        let ts = ts.i64().unwrap();
        for (p, t) in pods.str().unwrap().iter().zip(ts.iter()) {
            if p == Some(pod) {
                best = best.max(t);
            }
        }
    }
    best
}

#[test]
fn incidents_one_archive_per_episode_resumable_and_clear_failures() {
    if !have("prometheus") || !have("promtool") {
        return;
    }
    let dir = tmp();
    let (series, pod, cut) = history();
    let server = prometheus(dir.path(), &series);
    loaded(&server, &series);
    let corpus = dir.path().join("corpus");
    let run = || {
        funnel()
            .args(["export", "prometheus", "--url", &server.url()])
            .args([
                "--incidents",
                r#"ALERTS{alertstate="firing",severity="critical"}"#,
            ])
            .args([
                "--from",
                "2024-05-01T13:00:00Z",
                "--to",
                "2024-05-01T14:30:00Z",
                "--out",
            ])
            .arg(&corpus)
            .output()
            .unwrap()
    };
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "IstioHighRequestLatency-live-api-20240501T135000Z",
            "IstioHighRequestLatency-live-api-20240501T140000Z",
            "IstioHighRequestLatency-live-api-20240501T141000Z",
        ]
    );
    let toml = read(&corpus.join(&names[1]).join("incident.toml"));
    assert!(toml.contains("fired_at = 2024-05-01T14:00:00Z"), "{toml}");
    assert!(toml.contains("metric = \"latency_p99_ms\""), "{toml}");
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("0 written, 3 already complete"), "{err}");

    // The ended pod: its last sample was before `cut`; nothing is invented after it.
    let last = max_ts_of_pod(&corpus.join(&names[1]), &pod).expect("the pod before it ended");
    assert!(
        last < cut + 15_000,
        "samples of {pod} after it ended: {last}"
    );

    // An alert series with no data: exit 2, the alert and the query named, nothing written.
    let out = dir.path().join("none");
    let o = export(&server, "nosuch-api/latency_p99_ms", SEED_FIRED, &out);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nosuch-api/latency_p99_ms") && err.contains("histogram_quantile"),
        "{err}"
    );
    assert!(!out.exists());
    no_partial(dir.path());

    // A query the server rejects: its error, the query and the URL in the message.
    let profile = dir.path().join("broken.toml");
    let text = funnel::export::profile::KUBE_PROMETHEUS.replacen(
        "sum by (destination_workload) (@rate(",
        "sum by (destination_workload (@rate(",
        1,
    );
    std::fs::write(&profile, text).unwrap();
    let o = funnel()
        .args(["export", "prometheus", "--url", &server.url(), "--profile"])
        .arg(&profile)
        .args([
            "--alert",
            "live-api/latency_p99_ms",
            "--fired-at",
            SEED_FIRED,
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad_data")
            && err.contains(&server.url())
            && err.contains("sum by (destination_workload ((rate("),
        "{err}"
    );
    assert!(!out.exists());
    no_partial(dir.path());
}

/// `funnel export prometheus` of the seed's alert from a server on loopback `port` into `out`.
fn export_seed_alert(port: u16, out: &Path) -> Command {
    let mut c = funnel();
    c.args(["export", "prometheus", "--url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args([
            "--alert",
            "live-api/latency_p99_ms",
            "--fired-at",
            SEED_FIRED,
        ])
        .arg("--out")
        .arg(out);
    c
}

fn no_partial(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            !n.contains("partial") && !n.contains("funnel-tmp"),
            "a partial archive was left: {n}"
        );
    }
}

#[test]
fn server_down_is_a_clear_error_naming_url_and_query() {
    let dir = tmp();
    let port = super::export_servers::free_port();
    let out = dir.path().join("a");
    let o = export_seed_alert(port, &out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("query `"),
        "{err}"
    );
    assert!(err.contains("cannot reach"), "{err}");
    assert!(!out.exists());
    no_partial(dir.path());
}

#[test]
fn authentication_failure_never_echoes_the_credentials() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A stand-in for an authenticating proxy: every request gets 401.
    std::thread::spawn(move || {
        for s in listener.incoming().flatten().take(20) {
            let mut s = s;
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let body = r#"{"status":"error","errorType":"unauthorized","error":"bad token"}"#;
            let _ = write!(
                s,
                "HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = tmp();
    let out = dir.path().join("a");
    let o = export_seed_alert(port, &out)
        .env("FUNNEL_PROM_BEARER_TOKEN", "sekrit-token-123")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("authentication failed") && err.contains("401"),
        "{err}"
    );
    assert!(!err.contains("sekrit-token-123"), "{err}");
    assert!(!out.exists());
}

/// The recorded answers must still be the ones the export asks for: when the profile's queries
/// change, a stale recording would leave the fuzzer replaying empty answers to every new query.
#[test]
fn the_fuzzers_recorded_answers_answer_every_query_of_the_export() {
    use funnel::export::{client, export_alert};
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-seeds/export");
    let mut files: Vec<_> = std::fs::read_dir(&seeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let answers: Vec<client::Answer> = files
        .iter()
        .map(|f| client::Answer::decode(&std::fs::read(f).unwrap()).unwrap())
        .collect();
    let (src, req) =
        seed_export(client::Client::replay("http://recorded.invalid", answers)).unwrap();
    let dir = tmp();
    export_alert(&src, &req, &dir.path().join("out")).unwrap();
    let stats = &src.client.stats;
    assert!(stats.requests.load(std::sync::atomic::Ordering::Relaxed) > 10);
    assert_eq!(
        stats.unanswered.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "tests/fuzz-seeds/export is stale: record it again (see record_export_answers_for_the_fuzzer)"
    );
}

/// The fuzzer's export seeds: a real Prometheus' answers to the export of the seed incident
/// (step 60 s, 30 minutes of baseline, to keep the files small), one file per answer in
/// tests/fuzz-seeds/export. examples/fuzz replays them, mutated, with the same request. Run by
/// hand when the profile's queries change:
/// `cargo test --test cli record_export_answers -- --ignored`.
#[test]
#[ignore = "rewrites tests/fuzz-seeds/export"]
fn record_export_answers_for_the_fuzzer() {
    use funnel::export::{client::Client, export_alert};
    if !have("prometheus") || !have("promtool") {
        return;
    }
    let dir = tmp();
    let server = prometheus(dir.path(), &openmetrics::series(&seed_data()));
    let mut client = Client::new(&server.url(), &[]).unwrap();
    let log = client.record();
    let (src, req) = seed_export(client).unwrap();
    export_alert(&src, &req, &dir.path().join("out")).unwrap();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-seeds/export");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let mut answers = log.lock().unwrap().clone();
    answers.sort_by(|a, b| (&a.path, &a.query).cmp(&(&b.path, &b.query)));
    answers.dedup_by(|a, b| (&a.path, &a.query) == (&b.path, &b.query));
    for (i, a) in answers.iter().enumerate() {
        std::fs::write(out.join(format!("{i:03}.answer")), a.encode()).unwrap();
    }
}

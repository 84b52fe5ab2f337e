//! `funnel export prometheus` against real servers: simulated incidents rendered as the raw
//! metrics of a kube-prometheus + Istio cluster, loaded into Prometheus (promtool backfill)
//! and VictoriaMetrics (`/api/v1/import`), exported back and analysed.

use super::export_servers::{Server, have, prometheus, stored_samples, victoria};
use super::*;
use funnel::model::ArchiveData;
use funnel::sim::openmetrics;

const SEED_FIRED: &str = "2024-05-01T14:02:00Z";

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

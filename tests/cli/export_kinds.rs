//! Export accuracy (issue 18): every scenario kind × seeds, rendered as the raw
//! metrics of a kube-prometheus + Istio cluster, backfilled into a real Prometheus (one server
//! per incident: scenarios reuse names and times), exported back with the built-in profile,
//! and analysed. Prints, per incident, the direct archive's verdict against the exported one,
//! and how many keep kind and culprit. Needs `prometheus` and `promtool`.
//!
//! Ignored by default (about 20 s per incident in a debug build, one server each):
//! cargo test --test cli export_kinds -- --ignored --nocapture     # seeds 1..2 (26 incidents)
//! FUNNEL_SEEDS=3..4 cargo test --test cli export_kinds -- --ignored --nocapture

use super::export_servers as servers;

use std::path::Path;
use std::time::Instant;

use funnel::export::{self, AlertRequest, Source, client::Client, profile::Profile};
use funnel::model::Kind;
use funnel::sim::openmetrics;

fn case(kind: Kind, seed: u64, root: &Path) -> (String, String, String, String) {
    let name = format!("{kind}-{seed}");
    let data = funnel::sim::simulate(kind.as_str(), seed).expect("simulate");
    let exp = data.spec.expected.clone().expect("[expected]");
    let expected = format!("{} {}", exp.kind, exp.culprit);
    let dir = root.join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    funnel::archive::write(&data, &dir.join("direct")).expect("write");
    let direct = super::root_cause_of(&dir.join("direct"));
    let series = openmetrics::series(&data);
    let server = servers::prometheus(&dir, &series);
    let stored = servers::stored_samples(server.port, &series);
    assert_eq!(
        stored,
        openmetrics::sample_count(&series) as u64,
        "{name}: samples lost"
    );
    let src = Source {
        client: Client::new(&server.url(), &[]).unwrap(),
        profile: Profile::load("kube-prometheus").unwrap(),
        profile_name: "kube-prometheus".into(),
        namespace: None,
        step_ms: None,
        concurrency: 4,
    };
    let alert = AlertRequest {
        entity: data.spec.alert.entity.clone(),
        metric: data.spec.alert.metric.clone(),
        fired_at: data.spec.alert.fired_at,
        window: data.spec.window.clone().unwrap_or_default(),
        id: Some(name.clone()),
    };
    let back = match export::export_alert(&src, &alert, &dir.join("exported")) {
        Ok(_) => super::root_cause_of(&dir.join("exported")),
        Err(e) => format!("export error: {e}"),
    };
    (name, expected, direct, back)
}

#[test]
#[ignore = "slow: one Prometheus per incident; run with --ignored"]
fn export_kinds_keep_kind_and_culprit() {
    if !servers::have("prometheus") || !servers::have("promtool") {
        return;
    }
    let (a, b) = super::seed_range();
    let root = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    let mut rows = Vec::new();
    for (kind, seed) in super::kinds_and_seeds() {
        let r = case(kind, seed, root.path());
        println!(
            "{:<22} expected {:<34} direct {:<34} exported {}",
            r.0, r.1, r.2, r.3
        );
        rows.push(r);
    }
    let n = rows.len();
    let kept = rows.iter().filter(|r| r.2 == r.3).count();
    let right_direct = rows.iter().filter(|r| r.1 == r.2).count();
    let right_back = rows.iter().filter(|r| r.1 == r.3).count();
    println!(
        "\nexport round trip, seeds {a}..{b}: {kept}/{n} keep the direct archive's kind and culprit; \
         right vs [expected]: direct {right_direct}/{n}, exported {right_back}/{n} ({:.0} s)",
        t.elapsed().as_secs_f64()
    );
    for r in rows.iter().filter(|r| r.2 != r.3) {
        println!("moved: {}: {} → {}", r.0, r.2, r.3);
    }
    assert!(kept * 26 >= n * 24, "only {kept}/{n} kept kind and culprit");
}

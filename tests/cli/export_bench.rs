//! Export speed (issue 18): a cluster of FUNNEL_BENCH_SERVICES services (default 300) ×
//! FUNNEL_BENCH_PODS pods (default 10) in a real Prometheus, exported with the built-in profile.
//! The cluster is the bundled incident's raw series, its services copied (`live-api-0`,
//! `live-api-1`, …, each with its own pods and dependencies; storage, vendors and the gateway
//! shared) and their pods multiplied, streamed to OpenMetrics and backfilled with promtool.
//! Prints wall time, peak RSS, queries, series, samples and where the time goes.
//!
//! With FUNNEL_BENCH_DATA=DIR the backfilled blocks are kept in DIR and reused by the next run
//! (the cluster's size is then the one DIR was made with).
//!
//! Ignored by default (minutes of backfill); run through `bench/export.sh`.

use super::export_servers as servers;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use funnel::model::EntityKind;
use funnel::sim::openmetrics::{self, RawSeries};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The label whose value names a pod.
const POD_LABELS: [&str; 3] = ["pod", "pod_name", "k8s_pod_name"];

/// `value` with a service's name (whole, or as a `svc-` prefix) given copy `k`'s suffix.
fn renamed(value: &str, services: &BTreeSet<String>, k: usize) -> String {
    for s in services {
        if value == s {
            return format!("{s}-{k}");
        }
        if let Some(rest) = value
            .strip_prefix(s.as_str())
            .filter(|r| r.starts_with('-'))
        {
            return format!("{s}-{k}{rest}");
        }
    }
    value.to_string()
}

fn write_series(
    w: &mut dyn Write,
    s: &RawSeries,
    labels: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    let text: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let head = format!("{}{{{}}}", s.name, text.join(","));
    for &(t, v) in &s.points {
        writeln!(
            w,
            "{head} {v} {}.{:03}",
            t.div_euclid(1000),
            t.rem_euclid(1000)
        )?;
    }
    Ok(())
}

/// Streams the scaled cluster to `om`; (series, samples, services, pods).
fn write_cluster(om: &Path, want_services: usize, pods: usize) -> (u64, u64, usize, usize) {
    let data = funnel::sim::simulate("live-rt-jitter", 1).unwrap();
    let services: BTreeSet<String> = data
        .spec
        .entities
        .iter()
        .map(|e| e.id.clone())
        .filter(|e| EntityKind::of(e) == EntityKind::Service)
        .collect();
    let copies = want_services.div_ceil(services.len());
    let seed_pods: BTreeMap<&str, BTreeSet<&str>> = data
        .metrics
        .iter()
        .filter_map(|r| Some((r.entity.as_str(), r.pod.as_deref()?)))
        .fold(BTreeMap::new(), |mut m, (e, p)| {
            m.entry(e).or_default().insert(p);
            m
        });
    let series = openmetrics::series(&data);
    let mut w = BufWriter::new(std::fs::File::create(om).unwrap());
    let (mut n_series, mut n_samples) = (0u64, 0u64);
    for s in &series {
        let svc_specific = s.labels.values().any(|v| renamed(v, &services, 0) != *v);
        let pod = POD_LABELS.iter().find_map(|l| s.labels.get(*l));
        // The pod's index i among its service's m seed pods: it stands for pods i, i+m, i+2m, …
        let (i, m) = pod
            .and_then(|p| seed_pods.values().find(|ps| ps.contains(p.as_str())))
            .map_or((0, 1), |ps| {
                (
                    ps.iter()
                        .position(|p| Some(*p) == pod.map(String::as_str))
                        .unwrap(),
                    ps.len(),
                )
            });
        let pod_copies: Vec<usize> = if svc_specific && pod.is_some() {
            (i..pods.max(m)).step_by(m).collect()
        } else {
            vec![i]
        };
        for k in 0..if svc_specific { copies } else { 1 } {
            for &j in &pod_copies {
                let labels: BTreeMap<String, String> = s
                    .labels
                    .iter()
                    .map(|(l, v)| {
                        let mut v = renamed(v, &services, k);
                        if j >= m && POD_LABELS.contains(&l.as_str()) {
                            v = format!("{v}-x{j}");
                        }
                        (l.clone(), v)
                    })
                    .collect();
                write_series(&mut w, s, &labels).unwrap();
                n_series += 1;
                n_samples += s.points.len() as u64;
            }
        }
    }
    writeln!(w, "# EOF").unwrap();
    w.flush().unwrap();
    (n_series, n_samples, copies * services.len(), pods)
}

/// Peak RSS in MB from `/usr/bin/time -v` output.
fn peak_rss_mb(stderr: &str) -> Option<f64> {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

#[test]
#[ignore = "benchmark: minutes of backfill; run bench/export.sh"]
fn export_speed() {
    if !servers::have("prometheus") || !servers::have("promtool") {
        return;
    }
    let services = env_usize("FUNNEL_BENCH_SERVICES", 300);
    let pods = env_usize("FUNNEL_BENCH_PODS", 10);
    let tmp = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("FUNNEL_BENCH_DATA").map(std::path::PathBuf::from);
    let dir = keep.as_deref().unwrap_or(tmp.path());
    let server = if dir.join("data").is_dir() {
        println!("cluster: reused from {}", dir.display());
        servers::prometheus_on(dir)
    } else {
        std::fs::create_dir_all(dir).unwrap();
        let om = dir.join("cluster.om");
        let t = Instant::now();
        let (n_series, n_samples, services, pods) = write_cluster(&om, services, pods);
        let gen_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let server = servers::prometheus_from_file(dir, &om);
        let load_s = t.elapsed().as_secs_f64();
        println!(
            "cluster: {services} services × {pods} pods: {n_series} raw series, {n_samples} \
             samples (written in {gen_s:.0} s, backfilled and served in {load_s:.0} s)"
        );
        server
    };
    let bin = if Path::new("/usr/bin/time").exists() {
        vec!["/usr/bin/time", "-v", env!("CARGO_BIN_EXE_funnel")]
    } else {
        vec![env!("CARGO_BIN_EXE_funnel")]
    };
    let conc = env_usize("FUNNEL_BENCH_CONCURRENCY", 4).to_string();
    let out = tmp.path().join("archive");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let t = Instant::now();
    let o = std::process::Command::new(bin[0])
        .args(&bin[1..])
        .args(["export", "prometheus", "--url", &server.url()])
        .args(["--alert", "live-api-0/latency_p99_ms"])
        .args(["--fired-at", "2024-05-01T14:02:00Z", "--concurrency", &conc])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let line = |p: &str| err.lines().find(|l| l.starts_with(p)).unwrap_or("");
    let summary = format!("{}\n{}", line("exported"), line("slowest"));
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let rss = peak_rss_mb(&err).map_or("?".into(), |m| format!("{m:.0} MB"));
    println!(
        "export ({build} build, --concurrency {conc}): wall {wall:.1} s, peak RSS {rss}; \
         load average before it: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("{summary}");
}

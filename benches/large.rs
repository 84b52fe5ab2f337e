//! Speed and memory benchmark (issue 2): a large archive (≥ 200 services, ≥ 20 million metric
//! rows; 270 services × 42 series × 1,800 samples by default) analysed end to end, against the floor: polars alone scanning the same files and
//! computing a mean per series. Prints wall times, their ratio, and peak RSS.
//!
//! cargo bench --bench large
//! FUNNEL_BENCH_SERVICES=300 FUNNEL_BENCH_STEP_S=5 cargo bench --bench large
//!
//! The archive is generated once under target/bench-large/ and reused.

use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;

const BASE_TS: i64 = 1_714_567_500_000; // 2024-05-01T12:45:00Z, the baseline start
const FIRED_MS: i64 = 1_714_575_600_000; // 2024-05-01T15:00:00Z
const FIRED: &str = "2024-05-01T15:00:00Z";

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Deterministic noise in [-1, 1).
fn noise(i: u64) -> f64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

struct Gen {
    ts: Vec<i64>,
    entity: Vec<String>,
    metric: Vec<&'static str>,
    value: Vec<f64>,
    pod: Vec<Option<String>>,
    node: Vec<Option<String>>,
    container: Vec<Option<&'static str>>,
    target: Vec<Option<String>>,
}

impl Gen {
    fn new() -> Gen {
        Gen {
            ts: vec![],
            entity: vec![],
            metric: vec![],
            value: vec![],
            pod: vec![],
            node: vec![],
            container: vec![],
            target: vec![],
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn series(
        &mut self,
        n: usize,
        step_ms: i64,
        entity: &str,
        metric: &'static str,
        pod: Option<&str>,
        node: Option<&str>,
        container: Option<&'static str>,
        target: Option<&str>,
        level: f64,
        fault: Option<(usize, f64)>,
        salt: u64,
    ) {
        for i in 0..n {
            let mut v = level * (1.0 + 0.05 * noise(salt * 1_000_003 + i as u64));
            if let Some((from, mult)) = fault {
                if i >= from {
                    v *= mult;
                }
            }
            self.ts.push(BASE_TS + i as i64 * step_ms);
            self.entity.push(entity.to_string());
            self.metric.push(metric);
            self.value.push(v);
            self.pod.push(pod.map(str::to_string));
            self.node.push(node.map(str::to_string));
            self.container.push(container);
            self.target.push(target.map(str::to_string));
        }
    }

    fn write(self, path: &Path) {
        let h = self.ts.len();
        let ts = Int64Chunked::from_vec("ts".into(), self.ts)
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_series()
            .into_column();
        let mut df = DataFrame::new(
            h,
            vec![
                ts,
                Column::new("entity".into(), self.entity),
                Column::new("metric".into(), self.metric),
                Column::new("value".into(), self.value),
                Column::new("pod".into(), self.pod),
                Column::new("node".into(), self.node),
                Column::new("container".into(), self.container),
                Column::new("target".into(), self.target),
            ],
        )
        .expect("frame");
        let f = std::fs::File::create(path).expect("create");
        ParquetWriter::new(f)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .expect("write");
    }
}

fn generate(dir: &Path, services: usize, step_s: i64) -> usize {
    let step_ms = step_s * 1000;
    let n = usize::try_from(150 * 60_000 / step_ms).unwrap_or(0); // baseline + window: 2.5 h
    let fault_at = usize::try_from((FIRED_MS - 8 * 60_000 - BASE_TS) / step_ms).unwrap_or(0); // 8 min before the alert
    std::fs::create_dir_all(dir.join("metrics")).expect("mkdir");
    let mut rows = 0;
    let per_file = 10;
    let mut toml = format!(
        "id = \"large\"\ntitle = \"Benchmark: {services} services\"\n\n[alert]\nentity = \"svc-000\"\nmetric = \"latency_p99_ms\"\nfired_at = {FIRED}\n"
    );
    for chunk in 0..services.div_ceil(per_file) {
        let mut g = Gen::new();
        for s in chunk * per_file..((chunk + 1) * per_file).min(services) {
            let svc = format!("svc-{s:03}");
            let deps = [
                format!("mysql:db-{:02}", s % 20),
                format!("redis:cache-{:02}", (s * 7) % 20),
            ];
            toml.push_str(&format!(
                "\n[[entity]]\nid = \"{svc}\"\ndepends_on = [\"{}\", \"{}\"]\nsidecar = true\n",
                deps[0], deps[1]
            ));
            let salt = s as u64 * 101;
            let f = (s == 0).then_some((fault_at, 4.0));
            for (m, lvl) in [
                ("latency_p99_ms", 120.0),
                ("latency_avg_ms", 40.0),
                ("requests_per_s", 300.0),
                ("errors_per_s", 0.5),
            ] {
                g.series(
                    n,
                    step_ms,
                    &svc,
                    m,
                    None,
                    None,
                    None,
                    None,
                    lvl,
                    if m.starts_with("latency") { f } else { None },
                    salt + m.len() as u64,
                );
            }
            for p in 0..4 {
                let pod = format!("{svc}-7f9c-{p}");
                let node = format!("node-{}", (s + p) % 40);
                for (c, cpu) in [("app", 1.2), ("sidecar", 0.6)] {
                    let sf = (s == 0 && c == "sidecar").then_some((fault_at, 3.3));
                    g.series(
                        n,
                        step_ms,
                        &svc,
                        "cpu_cores",
                        Some(&pod),
                        Some(&node),
                        Some(c),
                        None,
                        cpu,
                        sf,
                        salt + 11 + p as u64,
                    );
                    g.series(
                        n,
                        step_ms,
                        &svc,
                        "cpu_limit_cores",
                        Some(&pod),
                        Some(&node),
                        Some(c),
                        None,
                        if c == "app" { 4.0 } else { 2.0 },
                        None,
                        salt + 13,
                    );
                    g.series(
                        n,
                        step_ms,
                        &svc,
                        "mem_rss_bytes",
                        Some(&pod),
                        Some(&node),
                        Some(c),
                        None,
                        5e8,
                        None,
                        salt + 17 + p as u64,
                    );
                }
                g.series(
                    n,
                    step_ms,
                    &svc,
                    "latency_p99_ms",
                    Some(&pod),
                    Some(&node),
                    None,
                    None,
                    120.0,
                    f,
                    salt + 19 + p as u64,
                );
                for d in &deps {
                    g.series(
                        n,
                        step_ms,
                        &svc,
                        "dep_latency_ms",
                        Some(&pod),
                        Some(&node),
                        None,
                        Some(d),
                        3.0,
                        f,
                        salt + 23 + p as u64,
                    );
                }
            }
            for d in &deps {
                g.series(
                    n,
                    step_ms,
                    &svc,
                    "dep_latency_ms",
                    None,
                    None,
                    None,
                    Some(d),
                    3.0,
                    f,
                    salt + 29,
                );
            }
        }
        rows += g.ts.len();
        g.write(&dir.join("metrics").join(format!("part-{chunk:03}.parquet")));
    }
    std::fs::write(dir.join("incident.toml"), toml).expect("toml");
    rows
}

/// The floor: polars alone scans every file and computes a mean per series.
fn floor(dir: &Path) -> (f64, usize) {
    let t = Instant::now();
    let pattern = dir.join("metrics").join("*.parquet");
    let lf = LazyFrame::scan_parquet(
        PlRefPath::new(pattern.to_str().expect("utf-8 path")),
        ScanArgsParquet::default(),
    )
    .expect("scan");
    let out = lf
        .group_by([
            col("entity"),
            col("metric"),
            col("pod"),
            col("container"),
            col("target"),
        ])
        .agg([col("value").mean()])
        .collect()
        .expect("collect");
    (t.elapsed().as_secs_f64(), out.height())
}

fn main() {
    if std::env::var("FUNNEL_BENCH_CHILD").as_deref() == Ok("analyze") {
        let dir = PathBuf::from(std::env::args().nth(1).expect("dir"));
        let t = Instant::now();
        let an = funnel::pipeline::analyze(&dir, &funnel::pipeline::Options::default())
            .expect("analyze");
        let out = tempfile::tempdir().expect("tmp");
        funnel::report::write(&an, out.path()).expect("report");
        println!(
            "{:.3} {:.0} {}",
            t.elapsed().as_secs_f64(),
            peak_rss_mb(),
            an.verdict
                .root_cause
                .map_or_else(|| "null".into(), |r| format!("{} {}", r.kind, r.culprit))
        );
        return;
    }
    if std::env::var("FUNNEL_BENCH_CHILD").as_deref() == Ok("floor") {
        let dir = PathBuf::from(std::env::args().nth(1).expect("dir"));
        let (secs, groups) = floor(&dir);
        println!("{secs:.3} {:.0} {groups}", peak_rss_mb());
        return;
    }
    let services = usize::try_from(env_num("FUNNEL_BENCH_SERVICES", 270)).unwrap_or(270);
    let step_s = i64::try_from(env_num("FUNNEL_BENCH_STEP_S", 5)).unwrap_or(5);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-large/s{services}-step{step_s}"));
    if !dir.join("incident.toml").exists() {
        let t = Instant::now();
        let rows = generate(&dir, services, step_s);
        eprintln!(
            "generated {rows} metric rows for {services} services in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let child = |phase: &str| -> Vec<String> {
        let o = std::process::Command::new(std::env::current_exe().expect("exe"))
            .arg(&dir)
            .env("FUNNEL_BENCH_CHILD", phase)
            .output()
            .expect("child");
        assert!(
            o.status.success(),
            "{phase}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let mut floors = Vec::new();
    let mut runs = Vec::new();
    for _ in 0..3 {
        floors.push(child("floor"));
        runs.push(child("analyze"));
    }
    let best = |v: &[Vec<String>]| {
        v.iter()
            .map(|r| r[0].parse::<f64>().unwrap_or(f64::NAN))
            .fold(f64::INFINITY, f64::min)
    };
    let (f, a) = (best(&floors), best(&runs));
    let files = std::fs::read_dir(dir.join("metrics"))
        .map(|d| d.count())
        .unwrap_or(0);
    println!(
        "large archive: {services} services, {files} files, {} series ({})",
        floors[0][2],
        dir.display()
    );
    println!(
        "floor (polars scan + mean per series): {f:.2} s, peak RSS {} MB",
        floors[0][1]
    );
    println!(
        "funnel analyze + report:               {a:.2} s, peak RSS {} MB, verdict {}",
        runs[0][1],
        runs[0][2..].join(" ")
    );
    println!(
        "ratio analyze / floor: {:.2}x (target <= 3x); best of 3 runs each",
        a / f
    );
}

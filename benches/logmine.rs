//! In-process template-mining throughput on Loghub-2k, the stage drain3's `add_log_message`
//! covers: masking, clustering and labelling of `<Content>` strings already in memory (no
//! file reading, header parsing or CSV writing; `bench/loghub.py` times the whole `funnel logs`
//! process separately). `bench/loghub.py` runs this and puts the figures beside drain3's.
//!
//! cargo bench --bench logmine                  (dataset at ../shared/data/loghub-2k)
//! FUNNEL_DATA=DIR REPEAT=50 RUNS=5 SYSTEMS=Mac,Linux cargo bench --bench logmine
//!
//! Each system's log is repeated REPEAT times with every digit shifted by the copy's number
//! (copies are not byte-identical, templates are unchanged), its contents isolated with the
//! system's header format, then mined RUNS times with the built-in defaults. Prints one
//! `RESULT <system> <lines> <best seconds> <median seconds>` line per system and a total.
//!
//! LABELS_DIR=DIR GRID='2,0.5,4,4,3;3,0.4,4,0,0' cargo bench --bench logmine
//! instead mines each system's 2k log once per configuration (depth, similarity, slot_values,
//! enum_values, enum_lines) exactly as `funnel logs` does, writing `DIR/<k>/<system>.csv` for
//! the k-th configuration: `bench/loghub.py` scores them for its leave-one-system-out table.
//! Accuracy does not depend on the profile, so a debug build (`cargo build --bench logmine`)
//! serves.

use funnel::logs::file::mine_file_to_csv;
use funnel::logs::format::LogFormat;
use funnel::logs::miner::{MinerConfig, mine};
use std::path::PathBuf;
use std::time::Instant;

const SYSTEMS: [&str; 8] = [
    "HDFS",
    "Hadoop",
    "Spark",
    "Zookeeper",
    "OpenStack",
    "Linux",
    "Mac",
    "Apache",
];

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The log file and header format of `system` in log_formats.json.
fn log_format(formats: &serde_json::Value, system: &str) -> Option<(String, String)> {
    let spec = formats.get(system)?;
    Some((
        spec.get("log_file")?.as_str()?.to_string(),
        spec.get("log_format")?.as_str()?.to_string(),
    ))
}

fn shifted(raw: &[u8], k: u8) -> Vec<u8> {
    raw.iter()
        .map(|&b| {
            if b.is_ascii_digit() {
                b'0' + (b - b'0' + k) % 10
            } else {
                b
            }
        })
        .collect()
}

/// `depth,similarity,slot_values,enum_values,enum_lines`.
fn parse_config(spec: &str) -> MinerConfig {
    let f: Vec<&str> = spec.split(',').map(str::trim).collect();
    let num = |i: usize| -> f64 {
        f.get(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("GRID entry {spec:?}: field {i} is not a number"))
    };
    MinerConfig {
        depth: num(0) as usize,
        similarity: num(1),
        slot_values: num(2) as usize,
        enum_values: num(3) as usize,
        enum_lines: num(4) as usize,
    }
}

/// Mines every system's 2k log with every configuration of `grid` into `dir/<k>/<system>.csv`.
fn write_labels(data: &std::path::Path, formats: &serde_json::Value, dir: &str, grid: &str) {
    for (k, spec) in grid.split(';').filter(|s| !s.trim().is_empty()).enumerate() {
        let cfg = parse_config(spec);
        let out = PathBuf::from(dir).join(k.to_string());
        std::fs::create_dir_all(&out).expect("LABELS_DIR is writable");
        for system in SYSTEMS {
            let Some((file, format)) = log_format(formats, system) else {
                continue;
            };
            let csv = out.join(format!("{system}.csv"));
            if let Err(e) = mine_file_to_csv(&data.join(&file), Some(&format), &csv, &cfg) {
                println!("{system}: {e}");
            }
        }
    }
}

fn main() {
    let data = std::env::var_os("FUNNEL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/loghub-2k"));
    let Ok(formats) = std::fs::read_to_string(data.join("log_formats.json")) else {
        println!(
            "loghub-2k not found at {} (set FUNNEL_DATA); skipping",
            data.display()
        );
        return;
    };
    let formats: serde_json::Value =
        serde_json::from_str(&formats).expect("log_formats.json is JSON");
    if let Ok(dir) = std::env::var("LABELS_DIR") {
        let grid = std::env::var("GRID").unwrap_or_default();
        return write_labels(&data, &formats, &dir, &grid);
    }
    let repeat = env_num("REPEAT", 50).max(1);
    let runs = env_num("RUNS", 5).max(1);
    let cfg = MinerConfig::default();
    let (mut total_lines, mut total_best, mut total_median) = (0usize, 0.0f64, 0.0f64);
    let only: Option<Vec<String>> = std::env::var("SYSTEMS")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    for system in SYSTEMS {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|x| x == system))
        {
            continue;
        }
        let Some((file, format)) = log_format(&formats, system) else {
            println!("{system}: not in log_formats.json; skipped");
            continue;
        };
        let Ok(raw) = std::fs::read(data.join(&file)) else {
            println!("{system}: {file} unreadable; skipped");
            continue;
        };
        let mut text = Vec::with_capacity(raw.len() * repeat);
        for k in 0..repeat {
            text.extend_from_slice(&shifted(&raw, (k % 10) as u8));
            if !raw.ends_with(b"\n") {
                text.push(b'\n');
            }
        }
        let text = String::from_utf8_lossy(&text);
        let fmt = LogFormat::parse(&format).expect("Loghub formats parse");
        let mut locs = fmt.locations();
        let contents: Vec<&str> = text
            .lines()
            .map(|l| fmt.content_with(&mut locs, l).unwrap_or(l))
            .collect();
        let mut secs: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let mined = mine(&contents, &cfg);
                std::hint::black_box(&mined);
                t.elapsed().as_secs_f64()
            })
            .collect();
        secs.sort_by(f64::total_cmp);
        let (best, median) = (secs[0], secs[secs.len() / 2]);
        println!(
            "RESULT {system} {} {best:.6} {median:.6}   ({:.0} lines/s best)",
            contents.len(),
            contents.len() as f64 / best
        );
        total_lines += contents.len();
        total_best += best;
        total_median += median;
    }
    if total_lines > 0 {
        println!(
            "RESULT total {total_lines} {total_best:.6} {total_median:.6}   ({:.0} lines/s best, {:.0} median)",
            total_lines as f64 / total_best,
            total_lines as f64 / total_median
        );
    }
}

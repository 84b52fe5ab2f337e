//! What is fuzzed: seed inputs per target, and running a case through the CLI's code path.

use std::path::{Path, PathBuf};

use crate::mutate::{Rng, mutate};

/// A code path of the CLI.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// `funnel analyze`: incident.toml and the Parquet files, read and analysed.
    Archive,
    /// `funnel logs`: a log file and a --format.
    Logs,
    /// `funnel import wide-csv`.
    WideCsv,
    /// `funnel import petshop`.
    PetShop,
    /// `funnel import nezha`: a day folder's fault list and metric CSVs.
    Nezha,
}

/// One input: files relative to the case folder, and the --format for `logs`.
#[derive(Debug, Clone)]
pub struct Case {
    pub kind: Target,
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub format: Option<String>,
    /// Archive: analyse it whole when it loads (one case in 16: the rest of the analysis costs
    /// ~100× the read, and the bytes only reach it through the read).
    pub deep: bool,
}

/// A seed input and the file the mutations aim at.
pub struct Seed {
    pub kind: Target,
    /// The full bundled archive: real, but ~50× dearer to read than the small one, so picked
    /// one time in ten it comes up.
    heavy: bool,
    files: Vec<(PathBuf, Vec<u8>)>,
    focus: usize,
    format: Option<String>,
}

pub struct Seeds(Vec<Seed>);

impl Seeds {
    pub fn pick(&self, rng: &mut Rng) -> &Seed {
        loop {
            let s = &self.0[rng.below(self.0.len())];
            if !s.heavy || rng.chance(10) {
                return s;
            }
        }
    }
}

impl Seed {
    pub fn mutate(&self, rng: &mut Rng) -> Case {
        let mut files = self.files.clone();
        let parquet = files[self.focus]
            .0
            .extension()
            .is_some_and(|x| x == "parquet");
        mutate(rng, &mut files[self.focus].1, parquet);
        // Now and then a second file too: two things wrong at once.
        if files.len() > 1 && rng.chance(8) {
            let j = rng.below(files.len());
            let tail = files[j].0.extension().is_some_and(|x| x == "parquet");
            mutate(rng, &mut files[j].1, tail);
        }
        let mut format = self.format.clone();
        if let Some(f) = format.as_mut().filter(|_| rng.chance(4)) {
            let mut b = f.clone().into_bytes();
            mutate(rng, &mut b, false);
            *f = String::from_utf8_lossy(&b).into_owned();
        }
        Case {
            kind: self.kind,
            files,
            format,
            deep: rng.chance(16),
        }
    }
}

/// The shared datasets, when present.
fn data() -> Option<PathBuf> {
    let d = std::env::var_os("FUNNEL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    d.is_dir().then_some(d)
}

/// The first `n` lines of a file.
fn head(p: &Path, n: usize) -> Option<Vec<u8>> {
    let b = std::fs::read(p).ok()?;
    let end = b
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == b'\n')
        .nth(n.saturating_sub(1))
        .map_or(b.len(), |(i, _)| i + 1);
    Some(b[..end].to_vec())
}

fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let (Ok(rel), Ok(b)) = (p.strip_prefix(dir), std::fs::read(&p)) {
                out.push((rel.to_path_buf(), b));
            }
        }
    }
    out.sort();
    out
}

const LOG_FORMAT: &str = "<Date> <Time> <Pid> <Level> <Component>: <Content>";
const BUILTIN_LOG: &[u8] = b"081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating\n081109 203807 222 INFO dfs.DataNode$PacketResponder: Received block blk_-6952295868487656571 of size 67108864 from /10.251.42.84\n081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864\n";
const BUILTIN_CSV: &[u8] = b"time,cart_lat_90,cart_cpu,front-end_lat_90,front-end_cpu\n100,1,0.1,5,0.2\n101,1,0.1,5,0.2\n102,1,0.1,5,0.2\n103,9,0.9,30,0.2\n104,9,0.9,31,0.2\n105,9,0.9,29,0.2\n";

/// A small archive of the same shape as the bundled one: the simulated incident cut to the
/// alerting entity and two others, so a case reads in milliseconds.
fn small_archive(work: &Path) -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let mut d = funnel::sim::simulate("live-rt-jitter", 1).ok()?;
    let mut keep = std::collections::BTreeSet::new();
    keep.insert(d.spec.alert.entity.clone());
    for r in &d.metrics {
        if keep.len() >= 3 {
            break;
        }
        keep.insert(r.entity.clone());
    }
    d.metrics.retain(|r| keep.contains(&r.entity));
    d.logs.retain(|r| keep.contains(&r.entity));
    d.logs.truncate(400);
    d.events.retain(|r| keep.contains(&r.entity));
    let dir = work.join("seed-small");
    funnel::archive::write(&d, &dir).ok()?;
    Some(files_under(&dir))
}

fn archive_seeds(s: &mut Vec<Seed>, files: Vec<(PathBuf, Vec<u8>)>, heavy: bool) {
    for focus in 0..files.len() {
        s.push(Seed {
            kind: Target::Archive,
            heavy,
            files: files.clone(),
            focus,
            format: None,
        });
    }
}

/// The seeds; `work` holds the generated small archive.
pub fn seeds(work: &Path) -> Seeds {
    let mut s = Vec::new();
    let bundled =
        files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents/live-rt-jitter"));
    archive_seeds(&mut s, bundled, true);
    if let Some(small) = small_archive(work) {
        archive_seeds(&mut s, small, false);
    }
    let d = data();
    let log = d
        .as_ref()
        .and_then(|d| head(&d.join("loghub-2k/HDFS/HDFS_2k.log"), 300))
        .unwrap_or_else(|| BUILTIN_LOG.to_vec());
    s.push(Seed {
        kind: Target::Logs,
        heavy: false,
        files: vec![("in.log".into(), log)],
        focus: 0,
        format: Some(LOG_FORMAT.into()),
    });
    let csv = d
        .as_ref()
        .and_then(|d| head(&d.join("sockshop-rcd/carts-cpu/1/anomalous.csv"), 60))
        .unwrap_or_else(|| BUILTIN_CSV.to_vec());
    s.push(Seed {
        kind: Target::WideCsv,
        heavy: false,
        files: vec![("run.csv".into(), csv)],
        focus: 0,
        format: None,
    });
    if let Some(ps) = d
        .as_ref()
        .map(|d| d.join("petshop/dataset/low_traffic"))
        .filter(|p| p.is_dir())
    {
        let issue = ps.join("test/issue_1");
        let files: Vec<(PathBuf, Vec<u8>)> = [
            ("ps/graph.csv", std::fs::read(ps.join("graph.csv")).ok()),
            (
                "ps/noissue/metrics.csv",
                head(&ps.join("noissue/metrics.csv"), 40),
            ),
            (
                "ps/test/issue_1/metrics.csv",
                std::fs::read(issue.join("metrics.csv")).ok(),
            ),
            (
                "ps/test/issue_1/target.json",
                std::fs::read(issue.join("target.json")).ok(),
            ),
        ]
        .into_iter()
        .filter_map(|(p, b)| Some((PathBuf::from(p), b?)))
        .collect();
        if files.len() == 4 {
            for focus in 0..4 {
                s.push(Seed {
                    kind: Target::PetShop,
                    heavy: false,
                    files: files.clone(),
                    focus,
                    format: None,
                });
            }
        }
    }
    if let Some(day) = d
        .map(|d| d.join("nezha-tt/2023-01-29"))
        .filter(|p| p.is_dir())
    {
        nezha_seeds(&mut s, &day);
    }
    Seeds(s)
}

/// The first faults of a Nezha day and the first hours of three of its metric files.
fn nezha_seeds(s: &mut Vec<Seed>, day: &Path) {
    let m = day.join("metric");
    let files: Vec<(PathBuf, Vec<u8>)> = [
        (
            "nz/nz-fault_list.json",
            std::fs::read(day.join("2023-01-29-fault_list.json")).ok(),
        ),
        (
            "nz/metric/front_service.csv",
            head(&m.join("front_service.csv"), 80),
        ),
        (
            "nz/metric/ts-admin-basic-info-service-5f55b6cf68-77cfw_metric.csv",
            head(
                &m.join("ts-admin-basic-info-service-5f55b6cf68-77cfw_metric.csv"),
                80,
            ),
        ),
        (
            "nz/metric/ts-admin-order-service-84cbf6c798-7njv6_metric.csv",
            head(
                &m.join("ts-admin-order-service-84cbf6c798-7njv6_metric.csv"),
                80,
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(p, b)| Some((PathBuf::from(p), b?)))
    .collect();
    if files.len() < 4 {
        return;
    }
    for focus in 0..files.len() {
        s.push(Seed {
            kind: Target::Nezha,
            heavy: false,
            files: files.clone(),
            focus,
            format: None,
        });
    }
}

/// Writes the case under `dir` and runs it; the error message on failure.
pub fn run(kind: Target, case: &Case, dir: &Path) -> Result<(), String> {
    for (rel, bytes) in &case.files {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("fuzz setup: {e}"))?;
        }
        std::fs::write(&p, bytes).map_err(|e| format!("fuzz setup: {e}"))?;
    }
    let text = |e: &dyn std::fmt::Display| e.to_string();
    match kind {
        Target::Archive => {
            funnel::archive::load(dir).map_err(|e| text(&e))?;
            if case.deep {
                funnel::pipeline::analyze(dir, &funnel::pipeline::Options::default())
                    .map_err(|e| text(&e))?;
            }
            Ok(())
        }
        Target::Logs => funnel::logs::file::mine_file_to_csv(
            &dir.join("in.log"),
            case.format.as_deref(),
            &dir.join("out.csv"),
            &funnel::logs::miner::MinerConfig::default(),
        )
        .map(drop)
        .map_err(|e| text(&e)),
        Target::WideCsv => {
            use funnel::import::wide_csv::{FaultAt, WideCsvOptions, import};
            let opts = WideCsvOptions {
                fault: FaultAt::Row(40),
                alert: None,
                root_cause: None,
                id: None,
            };
            import(&dir.join("run.csv"), &opts)
                .map(drop)
                .map_err(|e| text(&e))
        }
        Target::PetShop => {
            let (issues, _) =
                funnel::import::petshop::plan(&dir.join("ps")).map_err(|e| text(&e))?;
            for i in &issues {
                i.build().map_err(|e| text(&e))?;
            }
            Ok(())
        }
        Target::Nezha => {
            let day = funnel::import::nezha::read(&dir.join("nz")).map_err(|e| text(&e))?;
            if !day.is_empty() {
                day.build(0).map_err(|e| text(&e))?;
            }
            Ok(())
        }
    }
}

/// Whether an error message names the input (the case folder or a file inside it).
pub fn names_a_file(msg: &str, dir: &Path) -> bool {
    msg.contains(&*dir.to_string_lossy())
}

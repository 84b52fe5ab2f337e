//! What is fuzzed: seed inputs per target, and running a case through the CLI's code path.

use std::path::{Path, PathBuf};

use funnel::attach::Part;

use crate::mutate::{Rng, mutate};

/// A code path of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// `funnel export prometheus`: a real Prometheus' recorded answers, replayed.
    Export,
    /// `funnel attach`: a Loki, logcli, kubectl, event-exporter, OTLP, Jaeger, Tempo or
    /// kubectl-objects file attached to a small archive.
    Attach(Part),
}

impl Target {
    /// Cases drawn for this target against one for each other: the archive reader is what
    /// every command runs.
    fn shares(self) -> usize {
        if self == Target::Archive { 3 } else { 1 }
    }
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
    focus: Focus,
    format: Option<String>,
}

/// The file a case mutates.
#[derive(Clone, Copy)]
enum Focus {
    /// This one.
    One(usize),
    /// Any from this index on, drawn per case.
    From(usize),
}

/// The seeds grouped by command, each command listed once per share.
pub struct Seeds {
    by_command: Vec<Vec<Seed>>,
    draws: Vec<usize>,
}

impl Seeds {
    fn new(seeds: Vec<Seed>) -> Seeds {
        let command = |t: Target| std::mem::discriminant(&t);
        let mut by_command: Vec<Vec<Seed>> = Vec::new();
        for s in seeds {
            match by_command
                .iter_mut()
                .find(|g| command(g[0].kind) == command(s.kind))
            {
                Some(g) => g.push(s),
                None => by_command.push(vec![s]),
            }
        }
        let draws = (0..by_command.len())
            .flat_map(|i| std::iter::repeat_n(i, by_command[i][0].kind.shares()))
            .collect();
        Seeds { by_command, draws }
    }

    /// A command drawn by its shares, then one of its seeds: a command with many seed files
    /// does not crowd out the others.
    pub fn pick(&self, rng: &mut Rng) -> &Seed {
        let of_kind = &self.by_command[self.draws[rng.below(self.draws.len())]];
        loop {
            let s = &of_kind[rng.below(of_kind.len())];
            if !s.heavy || rng.chance(10) {
                return s;
            }
        }
    }
}

impl Seed {
    pub fn mutate(&self, rng: &mut Rng) -> Case {
        let mut files = self.files.clone();
        let focus = match self.focus {
            Focus::One(i) => i,
            Focus::From(i) => i + rng.below(files.len() - i),
        };
        let parquet = files[focus].0.extension().is_some_and(|x| x == "parquet");
        mutate(rng, &mut files[focus].1, parquet);
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
            focus: Focus::One(focus),
            format: None,
        });
    }
}

/// The seeds; `work` holds the generated small archive.
pub fn seeds(work: &Path) -> Seeds {
    let mut s = Vec::new();
    let bundled = files_under(&repo("data/incidents/live-rt-jitter"));
    archive_seeds(&mut s, bundled, true);
    if let Some(small) = small_archive(work) {
        attach_seeds(&mut s, &small);
        archive_seeds(&mut s, small, false);
    }
    export_seeds(&mut s);
    let d = data();
    let log = d
        .as_ref()
        .and_then(|d| head(&d.join("loghub-2k/HDFS/HDFS_2k.log"), 300))
        .unwrap_or_else(|| BUILTIN_LOG.to_vec());
    s.push(Seed {
        kind: Target::Logs,
        heavy: false,
        files: vec![("in.log".into(), log)],
        focus: Focus::One(0),
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
        focus: Focus::One(0),
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
                    focus: Focus::One(focus),
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
    Seeds::new(s)
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// One seed per fixture of tests/fixtures/attach, attached to the small archive (`a/`). The
/// plain-text fixture is left out: it needs a --format and an entity of its own.
fn attach_seeds(s: &mut Vec<Seed>, archive: &[(PathBuf, Vec<u8>)]) {
    let prefixed = || {
        archive
            .iter()
            .map(|(p, b)| (Path::new("a").join(p), b.clone()))
    };
    for (name, bytes) in files_under(&repo("tests/fixtures/attach")) {
        let part = match name.to_string_lossy() {
            n if n.starts_with("events") => Part::Events,
            n if ["otlp", "jaeger", "tempo"].iter().any(|p| n.starts_with(p)) => Part::Traces,
            n if n.starts_with("k8s") => Part::K8s,
            n if n.ends_with(".log") => continue,
            _ => Part::Logs,
        };
        let mut files: Vec<(PathBuf, Vec<u8>)> = prefixed().collect();
        files.push((Path::new("in").join(name), bytes));
        s.push(Seed {
            kind: Target::Attach(part),
            heavy: false,
            focus: Focus::One(files.len() - 1),
            files,
            format: None,
        });
    }
}

/// A real Prometheus' answers to an export of the seed incident (see the test that records
/// them, `record_export_answers_for_the_fuzzer`); each case mutates one.
fn export_seeds(s: &mut Vec<Seed>) {
    let files: Vec<(PathBuf, Vec<u8>)> = files_under(&repo("tests/fuzz-seeds/export"))
        .into_iter()
        .map(|(p, b)| (Path::new("answers").join(p), b))
        .collect();
    if !files.is_empty() {
        s.push(Seed {
            kind: Target::Export,
            heavy: false,
            files,
            focus: Focus::From(0),
            format: None,
        });
    }
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
            focus: Focus::One(focus),
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
        Target::Export => export(case, dir),
        Target::Attach(part) => {
            let inputs: Vec<PathBuf> = case
                .files
                .iter()
                .filter(|(p, _)| p.starts_with("in"))
                .map(|(p, _)| dir.join(p))
                .collect();
            let opts = funnel::attach::Options::default();
            funnel::attach::attach(&dir.join("a"), part, &inputs, &opts)
                .map(drop)
                .map_err(|e| text(&e))
        }
    }
}

/// The export the seed answers were recorded for, replayed from the case's answers; the
/// "server" URL holds the case folder so that its messages name the input. Deep cases analyse
/// the exported archive.
fn export(case: &Case, dir: &Path) -> Result<(), String> {
    use funnel::export::client;
    let answers = case
        .files
        .iter()
        .filter_map(|(_, b)| client::Answer::decode(b))
        .collect();
    let url = format!("http://fuzz.invalid{}", dir.display());
    let (src, req) = crate::seed_request::seed_export(client::Client::replay(&url, answers))?;
    let out = dir.join("out");
    funnel::export::export_alert(&src, &req, &out).map_err(|e| e.to_string())?;
    if case.deep {
        funnel::pipeline::analyze(&out, &funnel::pipeline::Options::default())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Whether an error message names the input (the case folder or a file inside it).
pub fn names_a_file(msg: &str, dir: &Path) -> bool {
    msg.contains(&*dir.to_string_lossy())
}

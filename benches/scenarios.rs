//! Scenario accuracy benchmark (issue 3): simulates SEEDS × 13 root-cause kinds, analyses every
//! incident, and prints the confusion matrix (kind, and kind+culprit), accuracy, and the
//! calibration of confidence.
//!
//! cargo bench --bench scenarios                    # 10 seeds (default)
//! FUNNEL_SEEDS=1..3 cargo bench --bench scenarios

use std::collections::BTreeMap;
use std::time::Instant;

use funnel::model::Kind;
use funnel::pipeline::{Options, analyze};

struct Case {
    name: String,
    expected: (String, String),
    got: Option<(String, String, f64)>,
    error: Option<String>,
}

impl Case {
    /// The verdict named the expected kind.
    fn kind_right(&self) -> bool {
        self.got.as_ref().is_some_and(|g| g.0 == self.expected.0)
    }

    /// The verdict named the expected kind and culprit.
    fn right(&self) -> bool {
        self.got
            .as_ref()
            .is_some_and(|g| g.0 == self.expected.0 && g.1 == self.expected.1)
    }
}

fn seeds() -> (u64, u64) {
    let s = std::env::var("FUNNEL_SEEDS").unwrap_or_else(|_| "1..10".into());
    let (a, b) = s.split_once("..").expect("FUNNEL_SEEDS like 1..10");
    (a.parse().expect("seed"), b.parse().expect("seed"))
}

fn run_case(kind: Kind, seed: u64, root: &std::path::Path) -> Case {
    let name = format!("{kind}-{seed}");
    let data = funnel::sim::simulate(kind.as_str(), seed).expect("simulate");
    let exp = data
        .spec
        .expected
        .clone()
        .expect("simulated incidents carry [expected]");
    let dir = root.join(&name);
    funnel::archive::write(&data, &dir).expect("write archive");
    match analyze(&dir, &Options::default()) {
        Ok(an) => Case {
            name,
            expected: (exp.kind, exp.culprit),
            got: an
                .verdict
                .root_cause
                .map(|r| (r.kind.as_str().to_string(), r.culprit, r.confidence)),
            error: None,
        },
        Err(e) => Case {
            name,
            expected: (exp.kind, exp.culprit),
            got: None,
            error: Some(e.to_string()),
        },
    }
}

fn main() {
    let (a, b) = seeds();
    let root = tempfile::tempdir().expect("tempdir");
    let jobs: Vec<(Kind, u64)> = (a..=b)
        .flat_map(|s| Kind::ALL.into_iter().map(move |k| (k, s)))
        .collect();
    let t = Instant::now();
    // A bounded number of incidents in flight: with rayon at the top level, a thread waiting
    // inside one analysis steals whole new incidents and memory grows with the corpus.
    let cases: Vec<Case> = funnel::mine::run::bounded(
        &jobs,
        funnel::mine::run::default_workers(),
        |(k, s)| run_case(*k, *s, root.path()),
        || {},
    );
    let secs = t.elapsed().as_secs_f64();

    let n = cases.len();
    let kind_ok = cases.iter().filter(|c| c.kind_right()).count();
    let full_ok = cases.iter().filter(|c| c.right()).count();
    let undecided = cases
        .iter()
        .filter(|c| c.got.is_none() && c.error.is_none())
        .count();
    println!(
        "scenario benchmark: seeds {a}..{b}, {n} incidents in {secs:.1} s ({:.2} s per incident incl. simulation)",
        secs / n as f64
    );
    println!(
        "kind accuracy          {:.3} ({kind_ok}/{n})",
        kind_ok as f64 / n as f64
    );
    println!(
        "kind+culprit accuracy  {:.3} ({full_ok}/{n})",
        full_ok as f64 / n as f64
    );
    println!("root cause null        {undecided}");

    // Confusion matrix: expected kind (rows) × verdict kind (columns, `-` = null).
    let mut cols: Vec<String> = Kind::ALL.iter().map(|k| k.as_str().to_string()).collect();
    cols.push("-".into());
    let mut m: BTreeMap<(String, String), usize> = BTreeMap::new();
    for c in &cases {
        let got = c.got.as_ref().map_or("-".to_string(), |g| g.0.clone());
        *m.entry((c.expected.0.clone(), got)).or_default() += 1;
    }
    let short = |s: &str| s.chars().take(5).collect::<String>();
    print!("\n{:<17}", "expected \\ got");
    for c in &cols {
        print!("{:>6}", short(c));
    }
    println!("  culprit ok");
    for k in Kind::ALL {
        print!("{:<17}", k.as_str());
        for c in &cols {
            let v = m
                .get(&(k.as_str().to_string(), c.clone()))
                .copied()
                .unwrap_or(0);
            print!(
                "{:>6}",
                if v == 0 {
                    ".".to_string()
                } else {
                    v.to_string()
                }
            );
        }
        let rows: Vec<&Case> = cases
            .iter()
            .filter(|c| c.expected.0 == k.as_str())
            .collect();
        let ok = rows.iter().filter(|c| c.right()).count();
        println!("  {ok}/{}", rows.len());
    }

    println!("\ncalibration (decided verdicts by confidence):");
    for (lo, hi) in [
        (0.0, 0.5),
        (0.5, 0.65),
        (0.65, 0.8),
        (0.8, 0.9),
        (0.9, 1.01),
    ] {
        let bin: Vec<&Case> = cases
            .iter()
            .filter(|c| c.got.as_ref().is_some_and(|g| g.2 >= lo && g.2 < hi))
            .collect();
        let right = bin.iter().filter(|c| c.right()).count();
        if !bin.is_empty() {
            println!(
                "  [{lo:.2}, {hi:.2})  {:>4} verdicts, {:.3} right",
                bin.len(),
                right as f64 / bin.len() as f64
            );
        }
    }
    println!("\nmisses:");
    for c in cases.iter().filter(|c| !c.right()) {
        let got = c.got.as_ref().map_or_else(
            || c.error.clone().unwrap_or_else(|| "null".into()),
            |g| format!("{} {} ({:.2})", g.0, g.1, g.2),
        );
        println!(
            "  {:<22} expected {} {:<28} got {got}",
            c.name, c.expected.0, c.expected.1
        );
    }
}

//! A byte-mutation fuzzer on the stable toolchain: mutates real inputs and runs them through
//! the code paths the CLI runs, in-process, each case bounded in time.
//!
//! Targets: the archive reader (`analyze`'s read: Parquet bytes, footers above all, of the
//! metrics, logs and events files, and incident.toml), `funnel logs` (log text and --format),
//! the importers (wide CSV, PetShop, Nezha), `funnel export prometheus` (a real Prometheus'
//! recorded JSON answers, replayed) and `funnel attach` (Loki, logcli, kubectl events,
//! event-exporter, OTLP, Jaeger, Tempo and kubectl-objects files). Seeds: the bundled archive,
//! a small one cut from the same simulated incident, tests/fuzz-seeds, tests/fixtures/attach,
//! and the shared datasets (`../shared/data`, or `FUNNEL_DATA`) when present, small built-in
//! ones otherwise.
//!
//! Usage: `cargo run --example fuzz -- [--cases N] [--seed S] [--jobs J] [--timeout-ms T]
//! [--crashes DIR]`
//! (bench/fuzz.sh). Prints cases/s, outcomes, distinct errors, errors that name no file,
//! crashes (panics) and hangs; each crash or hang input is saved under DIR. Exit 1 when any.
//!
//! The time bound is on the CPU time of the case's thread (read from /proc on Linux), with a
//! wall-clock cap of ten times the bound for a case that blocks without computing: on a machine
//! shared with builds, a low-priority fuzzer waits for the CPU far longer than its cases run,
//! and a wall-clock bound alone called those waits hangs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod mutate;
#[path = "../../tests/fuzz-seeds/request.rs"]
mod seed_request;
mod targets;

use mutate::Rng;
use targets::{Case, Target};

struct Opts {
    cases: u64,
    seed: u64,
    /// Cases run at once, each worker on its own seed.
    jobs: u64,
    timeout: Duration,
    crashes: PathBuf,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        cases: 10_000,
        seed: 1,
        jobs: 1,
        timeout: Duration::from_millis(10_000),
        crashes: PathBuf::from("target/fuzz-crashes"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or_else(|| format!("{a} needs a value"))?;
        let num = || {
            v.parse::<u64>()
                .map_err(|_| format!("{a}: `{v}` is not a number"))
        };
        match a.as_str() {
            "--cases" => o.cases = num()?,
            "--seed" => o.seed = num()?,
            "--jobs" => o.jobs = num()?.max(1),
            "--timeout-ms" => o.timeout = Duration::from_millis(num()?),
            "--crashes" => o.crashes = PathBuf::from(&v),
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok(o)
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    distinct: BTreeSet<String>,
    unnamed: BTreeSet<String>,
    crashes: u64,
    hangs: u64,
    /// Per target: cases and seconds spent, to see where the time goes.
    per_target: std::collections::BTreeMap<String, (u64, f64)>,
}

impl Tally {
    fn record(&mut self, outcome: Outcome, i: u64, case: &Case, dir: &Path, crashes: &Path) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Err(m) => {
                self.errors += 1;
                let s = shape(&m, dir);
                if !targets::names_a_file(&m, dir) {
                    self.unnamed.insert(s.clone());
                }
                self.distinct.insert(s);
            }
            Outcome::Panic(m) => {
                self.crashes += 1;
                save(crashes, "crash", i, case, &m);
            }
            Outcome::Hang => {
                self.hangs += 1;
                save(crashes, "hang", i, case, "exceeded the time bound");
            }
        }
    }
}

/// An error message with its numbers and temp paths blanked, so "row 12" and "row 13" count
/// as one kind of error.
fn shape(msg: &str, work: &Path) -> String {
    let msg = msg.replace(&*work.to_string_lossy(), "<dir>");
    let mut out = String::with_capacity(msg.len());
    let mut last_digit = false;
    for c in msg.chars().take(160) {
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('#');
            }
            last_digit = true;
        } else {
            out.push(c);
            last_digit = false;
        }
    }
    out
}

fn main() -> std::process::ExitCode {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Panics are counted, not printed one by one.
    std::panic::set_hook(Box::new(|_| {}));
    let work = match tempfile::tempdir() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("fuzz: temp dir: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let seeds = targets::seeds(work.path());
    let tally = std::sync::Mutex::new(Tally::default());
    let start = Instant::now();
    let last_report = std::sync::Mutex::new(Instant::now());
    std::thread::scope(|sc| {
        for w in 0..o.jobs {
            let (o, seeds, tally, work) = (&o, &seeds, &tally, work.path());
            let last_report = &last_report;
            sc.spawn(move || {
                // Worker w runs cases w, w + jobs, ...: its own seed, its own folders.
                let mut rng = Rng::new(o.seed.wrapping_add(w));
                for i in (w..o.cases).step_by(o.jobs as usize) {
                    let target = seeds.pick(&mut rng);
                    let case = target.mutate(&mut rng);
                    let dir = work.join(format!("w{w}-c{}", i % 2));
                    let _ = std::fs::remove_dir_all(&dir);
                    let t0 = Instant::now();
                    let outcome = run_bounded(target.kind, &case, &dir, o.timeout);
                    let Ok(mut t) = tally.lock() else { return };
                    let e = t
                        .per_target
                        .entry(format!("{:?}", target.kind))
                        .or_default();
                    e.0 += 1;
                    e.1 += t0.elapsed().as_secs_f64();
                    t.record(outcome, i, &case, &dir, &o.crashes);
                    if let Ok(mut last) = last_report.lock() {
                        if last.elapsed() > Duration::from_secs(30) {
                            let n = t.ok + t.errors + t.crashes + t.hangs;
                            report(&t, n, start.elapsed(), false);
                            *last = Instant::now();
                        }
                    }
                }
            });
        }
    });
    let t = match tally.into_inner() {
        Ok(t) => t,
        Err(_) => {
            eprintln!("fuzz: a worker died");
            return std::process::ExitCode::from(2);
        }
    };
    report(&t, o.cases, start.elapsed(), true);
    if t.crashes + t.hangs > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

enum Outcome {
    Ok,
    Err(String),
    Panic(String),
    Hang,
}

/// Runs one case on its own thread until it ends, spends `timeout` of CPU time, or blocks for
/// ten times that on the wall clock; a hung thread is left behind (it cannot be killed
/// in-process) and reported.
fn run_bounded(kind: Target, case: &Case, dir: &Path, timeout: Duration) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let (stat_tx, stat_rx) = mpsc::channel();
    let (case, dir) = (case.clone(), dir.to_path_buf());
    std::thread::spawn(move || {
        let _ = stat_tx.send(thread_stat());
        let r = std::panic::catch_unwind(|| targets::run(kind, &case, &dir));
        let _ = tx.send(r);
    });
    let stat = stat_rx.recv().ok().flatten();
    let start = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(Ok(()))) => return Outcome::Ok,
            Ok(Ok(Err(m))) => return Outcome::Err(m),
            Ok(Err(p)) => {
                return Outcome::Panic(
                    p.downcast_ref::<&str>()
                        .map(|s| (*s).to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic".into()),
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Outcome::Panic("the case's thread ended without a result".into());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let wall = start.elapsed();
                let cpu = stat.as_deref().and_then(cpu_time).unwrap_or(wall);
                if cpu > timeout || wall > timeout * 10 {
                    return Outcome::Hang;
                }
            }
        }
    }
}

/// The calling thread's /proc stat file, where the kernel counts its CPU time (Linux only).
fn thread_stat() -> Option<PathBuf> {
    let task = std::fs::read_link("/proc/thread-self").ok()?;
    Some(Path::new("/proc").join(task).join("stat"))
}

/// User plus system time from a /proc stat file: fields 14 and 15, counted after the command
/// name's closing parenthesis (the name may hold spaces), in clock ticks of 10 ms.
fn cpu_time(stat: &Path) -> Option<Duration> {
    let text = std::fs::read_to_string(stat).ok()?;
    let mut fields = text
        .get(text.rfind(')')? + 1..)?
        .split_whitespace()
        .skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn save(root: &Path, what: &str, i: u64, case: &Case, msg: &str) {
    let dir = root.join(format!("{what}-{i}"));
    let _ = std::fs::create_dir_all(&dir);
    for (rel, bytes) in &case.files {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(p, bytes);
    }
    let _ = std::fs::write(
        dir.join("FUZZ-NOTE.txt"),
        format!("{:?}\n{msg}\n", case.kind),
    );
    eprintln!(
        "{what} at case {i} ({:?}): {msg} (saved {})",
        case.kind,
        dir.display()
    );
}

fn report(t: &Tally, n: u64, took: Duration, last: bool) {
    let rate = n as f64 / took.as_secs_f64().max(1e-9);
    println!(
        "{}{n} cases in {:.1} s: {rate:.0} cases/s; {} ok, {} errors ({} distinct, {} naming no file), {} crashes, {} hangs",
        if last { "fuzz: " } else { "… " },
        took.as_secs_f64(),
        t.ok,
        t.errors,
        t.distinct.len(),
        t.unnamed.len(),
        t.crashes,
        t.hangs
    );
    if last {
        for (k, (n, secs)) in &t.per_target {
            println!(
                "  {k}: {n} cases, {:.1} ms/case",
                secs * 1000.0 / (*n).max(1) as f64
            );
        }
        for u in &t.unnamed {
            println!("  error naming no file: {u}");
        }
    }
}

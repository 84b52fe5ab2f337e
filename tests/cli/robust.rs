//! Nothing lost, nothing half-written: closed pipes, panics, kills and interrupts, run against
//! the real binary.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// A corpus of `n` copies of the seed archive (cheap to make, unlike simulated ones) plus one
/// archive whose metrics are not Parquet.
fn corpus(root: &Path, n: usize) {
    let seed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(seed());
    let files = tree(&seed_dir);
    for i in 0..n {
        for (rel, bytes) in &files {
            let p = root.join(format!("copy-{i}")).join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            let bytes = if rel.ends_with("incident.toml") {
                // Distinct ids, as distinct incidents would have.
                String::from_utf8_lossy(bytes)
                    .replacen("id = \"", &format!("id = \"c{i}-"), 1)
                    .into_bytes()
            } else {
                bytes.clone()
            };
            std::fs::write(p, bytes).expect("write");
        }
    }
    let bad = root.join("broken");
    std::fs::create_dir_all(bad.join("metrics")).expect("mkdir");
    std::fs::copy(seed_dir.join("incident.toml"), bad.join("incident.toml")).expect("copy");
    std::fs::write(bad.join("metrics/m.parquet"), b"PAR1 not really").expect("write");
}

/// Finished parts in the journal of an output folder `out`.
fn parts(out: &Path) -> usize {
    let name = out.file_name().expect("name").to_string_lossy().to_string();
    let dir = out
        .with_file_name(format!(".{name}.funnel-journal"))
        .join("parts");
    std::fs::read_dir(dir).map_or(0, |r| {
        r.flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count()
    })
}

fn spawn_mine(root: &Path, out: &Path) -> Child {
    funnel()
        .args(["mine", "--jobs", "1", "--reports"])
        .arg(root)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn funnel mine")
}

/// Waits until the journal holds at least `n` parts; false when the child ended first.
fn wait_for_parts(child: &mut Child, out: &Path, n: usize) -> bool {
    let start = Instant::now();
    while parts(out) < n {
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "mine stalled");
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[test]
fn a_killed_mine_resumes_to_the_same_bytes() {
    let t = tmp();
    let root = t.path().join("corpus");
    corpus(&root, 5);
    let whole = t.path().join("whole");
    let o = funnel()
        .args(["mine", "--jobs", "1", "--reports"])
        .arg(&root)
        .arg("--out")
        .arg(&whole)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "one archive is broken");

    let out = t.path().join("resumed");
    // Killed after 1 and 3 finished incidents (SIGKILL: no chance to clean up), then resumed.
    for at in [1, 3] {
        let mut child = spawn_mine(&root, &out);
        let reached = wait_for_parts(&mut child, &out, at);
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert!(reached, "mine ended before {at} incidents were recorded");
        assert!(!out.exists(), "no output before the run is complete");
    }
    let seen = parts(&out);
    let o = spawn_mine(&root, &out).wait_with_output().expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let resumed: usize = err
        .split("resuming: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume message: {err}"));
    assert!(resumed >= seen, "{resumed} < {seen}: {err}");
    assert_eq!(tree(&whole), tree(&out), "resumed output differs");
    assert_eq!(parts(&out), 0, "the journal is removed once published");
    let left: Vec<_> = std::fs::read_dir(t.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 3, "only corpus, whole and resumed: {left:?}");
}

#[test]
fn sigint_stops_mine_after_the_incidents_in_flight() {
    let t = tmp();
    let root = t.path().join("corpus");
    corpus(&root, 4);
    let out = t.path().join("mined");
    let mut child = spawn_mine(&root, &out);
    assert!(wait_for_parts(&mut child, &out, 1), "mine ended too soon");
    // By pid, through the system's kill(1): the test does not link libc.
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let o = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&o.stderr);
    if o.status.code() == Some(130) {
        assert!(err.contains("interrupted: ") && err.contains("run the same command again"));
        assert!(!out.exists(), "no partial output");
        assert!(parts(&out) >= 1);
    } else {
        // The signal came as the last incident finished: the run is complete.
        assert_eq!(o.status.code(), Some(1), "{err}");
    }
    let o = spawn_mine(&root, &out).wait_with_output().expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(out.join("incidents.parquet").is_file());
}

#[test]
fn closed_stdout_ends_quietly() {
    for args in [
        &["rules"][..],
        &["rules", "--markdown"],
        &["rules", "peer-sharing-storage-healthy"],
    ] {
        let mut c = funnel();
        c.args(args);
        let o = with_closed_stdout(c);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn closed_stdout_of_check_still_writes_junit() {
    let t = tmp();
    let root = t.path().join("corpus");
    corpus(&root, 1);
    std::fs::remove_dir_all(root.join("broken")).expect("rm");
    let junit = t.path().join("ci/junit.xml");
    let mut c = funnel();
    c.arg("check").arg(&root).arg("--junit").arg(&junit);
    let o = with_closed_stdout(c);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(read(&junit).contains("<testsuite"));
}

#[test]
fn a_panic_is_exit_101_with_a_bug_report_request() {
    let t = tmp();
    let out = t.path().join("report");
    let o = funnel()
        .env("FUNNEL_INJECT_PANIC", "live-rt-jitter")
        .args(["analyze", seed(), "--out"])
        .arg(&out)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(101), "{err}");
    assert!(
        err.contains("Please report it") && err.contains(seed()),
        "{err}"
    );
    assert!(!out.exists(), "no report from a crashed analysis");
}

#[test]
fn a_panic_in_mine_is_an_error_row_then_exit_101() {
    let t = tmp();
    let root = t.path().join("corpus");
    corpus(&root, 2);
    let out = t.path().join("mined");
    let o = funnel()
        .env("FUNNEL_INJECT_PANIC", "copy-1")
        .args(["mine", "--jobs", "1"])
        .arg(&root)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(101), "{err}");
    assert!(err.contains("analyzer panicked"), "{err}");
    assert!(err.contains("mined 3 incidents, 2 failed"), "{err}");
}

#[test]
fn a_failed_analyze_keeps_the_previous_report() {
    let t = tmp();
    let out = t.path().join("report");
    run_ok(&[
        "analyze",
        seed(),
        "--out",
        out.to_str().expect("utf-8 temp path"),
    ]);
    let before = tree(&out);
    let root = t.path().join("corpus");
    corpus(&root, 0);
    let o = funnel()
        .arg("analyze")
        .arg(root.join("broken"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(tree(&out), before, "the previous report is intact");
    // A folder holding other files is never replaced.
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let o = funnel()
        .args(["analyze", seed(), "--out"])
        .arg(&out)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("notes.txt"), "{err}");
    assert_eq!(read(&out.join("notes.txt")), "mine");
}

#[test]
fn a_failed_logs_run_leaves_no_csv() {
    let t = tmp();
    let csv = t.path().join("t.csv");
    let o = funnel()
        .args(["logs", "no/such.log", "--out"])
        .arg(&csv)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(!csv.exists());
    let names: Vec<_> = std::fs::read_dir(t.path()).expect("ls").flatten().collect();
    assert!(names.is_empty(), "no temporary left");
}

/// Runs `c` with its stdout closed before the child writes: its first write meets EPIPE.
fn with_closed_stdout(mut c: std::process::Command) -> std::process::Output {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait")
}

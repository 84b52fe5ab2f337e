//! `funnel analyze --history MINED`: "Seen before" lists earlier incidents of a mined history
//! with the same root cause or configuration finding, linked to their reports.

use super::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A mined history holding the seed as if it had happened a month earlier under another id.
fn history(t: &Path) -> PathBuf {
    let root = t.join("corpus");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(seed()),
        &root.join("live-rt-jitter"),
    );
    let mined = t.join("mined");
    let (r, m) = (root.to_str().unwrap(), mined.to_str().unwrap());
    run_ok(&["mine", r, "--out", m, "--reports", "--jobs", "1"]);
    let mut rows = funnel::mine::table::read(&mined).unwrap();
    let row = &mut rows.incidents[0];
    row.id = "live-rt-jitter-april".into();
    row.fired_at = row.fired_at.map(|t| t - 30 * 86_400_000);
    funnel::mine::table::write(&rows, &mined).unwrap();
    std::fs::rename(
        mined.join("reports/live-rt-jitter"),
        mined.join("reports/live-rt-jitter-april"),
    )
    .unwrap();
    mined
}

#[test]
fn seen_before_links_the_earlier_incident() {
    let t = tmp();
    let mined = history(t.path());
    let out = t.path().join("out");
    let (o, m) = (out.to_str().unwrap(), mined.to_str().unwrap());
    run_ok(&["analyze", seed(), "--out", o, "--history", m]);
    let md = read(&out.join("postmortem.md"));
    let seen = md
        .split("## Seen before")
        .nth(1)
        .expect("a Seen before section");
    let seen = seen.split("\n## ").next().unwrap();
    assert!(
        seen.contains("| 2024-04-01 14:02 | [`live-rt-jitter-april`](../mined/reports/live-rt-jitter-april/postmortem.md) | sidecar `live-api` |"),
        "{seen}"
    );
    assert!(
        seen.contains("same root cause: sidecar `live-api`"),
        "{seen}"
    );
    assert!(
        seen.contains("same configuration finding on `live-api`"),
        "{seen}"
    );
    // Without --history the report has no such section.
    let plain = t.path().join("plain");
    run_ok(&["analyze", seed(), "--out", plain.to_str().unwrap()]);
    assert!(!read(&plain.join("postmortem.md")).contains("## Seen before"));
}

#[test]
fn a_history_that_is_not_a_mined_output_is_a_clear_error() {
    let t = tmp();
    let out = t.path().join("out");
    let o = funnel()
        .args([
            "analyze",
            seed(),
            "--out",
            out.to_str().unwrap(),
            "--history",
        ])
        .arg(t.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--history") && err.contains("incidents.parquet"),
        "{err}"
    );
    assert!(
        !out.join("postmortem.md").exists(),
        "no half-written report"
    );
}

//! `--max-memory`: an archive estimated to need more is refused before it is read, naming its
//! size, the limit and the flag; in `mine` it is an error row.

use super::*;

#[test]
fn analyze_refuses_an_archive_over_the_limit_and_writes_nothing() {
    let t = tmp();
    let out = t.path().join("out");
    let o = funnel()
        .args(["analyze", seed(), "--max-memory", "1M", "--out"])
        .arg(&out)
        .output()
        .expect("run funnel");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for part in [
        "live-rt-jitter",
        "too large",
        "1.0 MiB limit",
        "--max-memory",
    ] {
        assert!(err.contains(part), "`{part}` missing: {err}");
    }
    assert!(!out.exists());
    run_ok(&[
        "analyze",
        seed(),
        "--max-memory",
        "1G",
        "--out",
        &out.to_string_lossy(),
    ]);
}

#[test]
fn mine_makes_an_oversized_archive_an_error_row() {
    let t = tmp();
    let o = funnel()
        .args(["mine", "data/incidents", "--max-memory", "1M", "--out"])
        .arg(t.path().join("mined"))
        .output()
        .expect("run funnel");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("too large"), "{err}");
    assert!(t.path().join("mined/incidents.parquet").is_file());
}

#[test]
fn a_limit_that_is_not_a_size_is_a_usage_error() {
    let o = funnel()
        .args(["analyze", seed(), "--max-memory", "lots", "--out", "x"])
        .output()
        .expect("run funnel");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("512M"));
}

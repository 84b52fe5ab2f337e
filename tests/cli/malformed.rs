//! Bad input never panics and never yields a silently wrong report: a clear message naming the
//! file, the column and what was expected, and exit code 2.

use polars::prelude::*;

use super::*;

/// A copy of the seed archive to break.
fn copy_seed() -> tempfile::TempDir {
    let dir = tmp();
    for (rel, bytes) in tree(Path::new(env!("CARGO_MANIFEST_DIR")).join(seed()).as_path()) {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    dir
}

fn write_parquet(path: &Path, mut df: DataFrame) {
    let f = std::fs::File::create(path).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
}

/// Runs analyze and returns stderr, asserting exit code 2 and no panic.
fn fails(archive: &Path) -> String {
    let out = tmp();
    let o = funnel()
        .args(["analyze"])
        .arg(archive)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit 2, got {:?}: {err}",
        o.status.code()
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !out.path().join("postmortem.md").exists(),
        "no report from bad input"
    );
    err
}

fn small(cols: Vec<Column>) -> DataFrame {
    DataFrame::new(2, cols).unwrap()
}

#[test]
fn corrupt_parquet_names_the_file() {
    let a = copy_seed();
    std::fs::write(
        a.path().join("metrics/services.parquet"),
        b"this is not parquet",
    )
    .unwrap();
    let err = fails(a.path());
    assert!(
        err.contains("metrics/services.parquet") && err.contains("not a readable Parquet file"),
        "{err}"
    );
}

#[test]
fn truncated_parquet_names_the_file() {
    let a = copy_seed();
    let p = a.path().join("metrics/infrastructure.parquet");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let err = fails(a.path());
    assert!(err.contains("infrastructure.parquet"), "{err}");
}

#[test]
fn missing_column_names_file_and_column() {
    let a = copy_seed();
    let ts = Column::new("ts".into(), [1_714_572_000_000_i64, 1_714_572_015_000]);
    write_parquet(
        &a.path().join("metrics/extra.parquet"),
        small(vec![
            ts,
            Column::new("entity".into(), ["x", "x"]),
            Column::new("metric".into(), ["cpu_cores", "cpu_cores"]),
        ]),
    );
    let err = fails(a.path());
    assert!(
        err.contains("extra.parquet")
            && err.contains("column `value`")
            && err.contains("missing required column"),
        "{err}"
    );
}

#[test]
fn wrong_type_names_the_expected_type() {
    let a = copy_seed();
    let ts = Column::new("ts".into(), [1_714_572_000_000_i64, 1_714_572_015_000]);
    let cols = vec![
        ts,
        Column::new("entity".into(), ["x", "x"]),
        Column::new("metric".into(), ["cpu_cores", "cpu_cores"]),
        Column::new("value".into(), ["high", "low"]),
    ];
    write_parquet(&a.path().join("metrics/extra.parquet"), small(cols));
    let err = fails(a.path());
    assert!(
        err.contains("column `value`") && err.contains("expected a float or integer"),
        "{err}"
    );
}

#[test]
fn string_timestamps_are_rejected() {
    let a = copy_seed();
    let cols = vec![
        Column::new("ts".into(), ["2024-05-01", "2024-05-01"]),
        Column::new("entity".into(), ["x", "x"]),
        Column::new("metric".into(), ["m", "m"]),
        Column::new("value".into(), [1.0, 2.0]),
    ];
    write_parquet(&a.path().join("metrics/extra.parquet"), small(cols));
    let err = fails(a.path());
    assert!(
        err.contains("column `ts`") && err.contains("expected a Timestamp or Int64"),
        "{err}"
    );
}

#[test]
fn unknown_units_are_rejected() {
    let a = copy_seed();
    let ts = Column::new("ts".into(), [1_714_572_000_000_i64, 1_714_572_015_000]);
    let cols = vec![
        ts,
        Column::new("entity".into(), ["x", "x"]),
        Column::new("metric".into(), ["latency_p99_ms", "latency_p99_ms"]),
        Column::new("value".into(), [1.0, 2.0]),
        Column::new("unit".into(), ["fortnights", "fortnights"]),
    ];
    write_parquet(&a.path().join("metrics/extra.parquet"), small(cols));
    let err = fails(a.path());
    assert!(
        err.contains("column `unit`")
            && err.contains("fortnights")
            && err.contains("expected one of"),
        "{err}"
    );
}

#[test]
fn empty_window_is_an_error_not_an_empty_report() {
    let a = copy_seed();
    let p = a.path().join("incident.toml");
    std::fs::write(
        &p,
        read(&p).replace("2024-05-01T14:02:00Z", "2020-01-01T00:00:00Z"),
    )
    .unwrap();
    let err = fails(a.path());
    assert!(
        err.contains("no metric sample inside the incident window"),
        "{err}"
    );
}

#[test]
fn broken_incident_toml_names_the_file_and_key() {
    let a = copy_seed();
    let p = a.path().join("incident.toml");
    std::fs::write(&p, read(&p).replace("[alert]", "[alert")).unwrap();
    let err = fails(a.path());
    assert!(
        err.contains("incident.toml") && err.contains("line"),
        "{err}"
    );
    std::fs::write(&p, "[alert]\nentity = \"a\"\nmetric = \"latency_p99_ms\"\n").unwrap();
    let err = fails(a.path());
    assert!(err.contains("fired_at"), "{err}");
}

#[test]
fn missing_archive_folder() {
    let err = fails(Path::new("no/such/archive"));
    assert!(err.contains("no/such/archive"), "{err}");
}

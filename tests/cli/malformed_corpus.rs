//! A corpus of malformed archives, generated here from the seed archive: each must end in exit
//! code 2 naming the file (and the column, where one is at fault), never a panic; mined
//! together, each must become an error row while a good archive beside them is analysed.

use polars::prelude::*;

use super::*;

type Break = fn(&Path);

/// (name, how to break a copy of the seed archive, what the message must contain).
const CASES: &[(&str, Break, &[&str])] = &[
    (
        "garbage-parquet",
        |a| put(a, M_SVC, b"not parquet at all"),
        &[M_SVC, "not a readable Parquet file"],
    ),
    ("zero-byte-parquet", |a| put(a, M_SVC, b""), &[M_SVC]),
    (
        "truncated-parquet",
        |a| cut(a, M_INFRA, |n| n / 2),
        &[M_INFRA],
    ),
    ("truncated-footer", |a| cut(a, M_SVC, |n| n - 3), &[M_SVC]),
    ("magic-only", |a| put(a, M_SVC, b"PAR1PAR1"), &[M_SVC]),
    (
        "bad-trailing-magic",
        |a| patch_end(a, M_SVC, 0, b"XXXX"),
        &[M_SVC],
    ),
    (
        "billion-row-footer-claim",
        |a| patch_end(a, M_SVC, 4, &u32::MAX.to_le_bytes()),
        &[M_SVC],
    ),
    (
        "footer-length-zero",
        |a| patch_end(a, M_SVC, 4, &0u32.to_le_bytes()),
        &[M_SVC],
    ),
    ("corrupt-middle", |a| smash_middle(a, M_SVC), &[M_SVC]),
    (
        "missing-value",
        |a| extra(a, vec![ts2(), ent2(), met2()]),
        &[M_EXTRA, "column `value`"],
    ),
    (
        "missing-ts",
        |a| extra(a, vec![ent2(), met2(), val2()]),
        &[M_EXTRA, "column `ts`"],
    ),
    (
        "missing-entity",
        |a| extra(a, vec![ts2(), met2(), val2()]),
        &[M_EXTRA, "column `entity`"],
    ),
    (
        "missing-metric",
        |a| extra(a, vec![ts2(), ent2(), val2()]),
        &[M_EXTRA, "column `metric`"],
    ),
    (
        "string-values",
        |a| {
            extra(
                a,
                vec![ts2(), ent2(), met2(), col("value", ["high", "low"])],
            )
        },
        &[M_EXTRA, "column `value`"],
    ),
    (
        "bool-values",
        |a| extra(a, vec![ts2(), ent2(), met2(), col("value", [true, false])]),
        &[M_EXTRA, "column `value`"],
    ),
    (
        "string-timestamps",
        |a| {
            extra(
                a,
                vec![col("ts", ["2024-05-01", "x"]), ent2(), met2(), val2()],
            )
        },
        &[M_EXTRA, "column `ts`"],
    ),
    (
        "float-timestamps",
        |a| extra(a, vec![col("ts", [1.7e12, 1.7e12]), ent2(), met2(), val2()]),
        &[M_EXTRA, "column `ts`"],
    ),
    (
        "integer-entities",
        |a| extra(a, vec![ts2(), col("entity", [1i64, 2]), met2(), val2()]),
        &[M_EXTRA, "column `entity`"],
    ),
    (
        "unknown-unit",
        |a| {
            extra(
                a,
                vec![
                    ts2(),
                    ent2(),
                    met2(),
                    val2(),
                    col("unit", ["fortnights", "fortnights"]),
                ],
            )
        },
        &[M_EXTRA, "column `unit`"],
    ),
    (
        "numeric-pod",
        |a| {
            extra(
                a,
                vec![ts2(), ent2(), met2(), val2(), col("pod", [1i64, 2])],
            )
        },
        &[M_EXTRA, "column `pod`"],
    ),
    (
        "timestamps-in-seconds",
        |a| rewrite_ts(a, |t| t / 1000),
        &["metrics", "no metric sample inside the incident window"],
    ),
    (
        "timestamps-in-nanoseconds",
        |a| rewrite_ts(a, |t| t.saturating_mul(1_000_000)),
        &["metrics", "no metric sample inside the incident window"],
    ),
    (
        "empty-window",
        |a| edit_toml(a, "2024-05-01T14:02:00Z", "2020-01-01T00:00:00Z"),
        &["no metric sample inside the incident window"],
    ),
    (
        "broken-toml",
        |a| edit_toml(a, "[alert]", "[alert"),
        &[TOML, "line"],
    ),
    (
        "missing-fired-at",
        |a| edit_toml(a, "fired_at = 2024-05-01T14:02:00Z", ""),
        &[TOML, "fired_at"],
    ),
    (
        "fired-at-as-text",
        |a| edit_toml(a, "fired_at = 2024-05-01T14:02:00Z", "fired_at = \"soon\""),
        &[TOML, "fired_at"],
    ),
    (
        "missing-alert",
        |a| edit_toml(a, "[alert]", "[alarm]"),
        &[TOML, "alert"],
    ),
    (
        "duplicate-key",
        |a| edit_toml(a, "[alert]\n", "[alert]\nentity = \"x\"\n"),
        &[TOML, "entity"],
    ),
    ("zero-byte-toml", |a| put(a, TOML, b""), &[TOML]),
    (
        "non-utf8-toml",
        |a| put(a, TOML, b"id = \"\xff\xfe\"\n"),
        &[TOML],
    ),
    (
        "nan-window",
        |a| edit_toml(a, "[alert]\n", "[window]\nbaseline = \"nan\"\n\n[alert]\n"),
        &[TOML, "window"],
    ),
    (
        "metrics-is-a-file",
        |a| replace_with_file(a, "metrics"),
        &["metrics"],
    ),
    ("no-metrics-folder", |a| remove(a, "metrics"), &["metrics"]),
    (
        "empty-metrics-folder",
        |a| empty_dir(a, "metrics"),
        &["metrics"],
    ),
    ("parquet-is-a-folder", |a| mkdir(a, M_EXTRA), &[M_EXTRA]),
    ("symlink-loop", |a| symlink_loop(a, M_EXTRA), &[M_EXTRA]),
    ("dangling-symlink", |a| dangling(a, M_EXTRA), &[M_EXTRA]),
    (
        "corrupt-logs",
        |a| put(a, "logs/logs.parquet", b"garbage"),
        &["logs/logs.parquet"],
    ),
    (
        "truncated-logs",
        |a| cut(a, "logs/logs.parquet", |n| n / 3),
        &["logs/logs.parquet"],
    ),
    (
        "logs-without-message",
        |a| logs_missing(a, "message"),
        &["logs/extra.parquet", "column `message`"],
    ),
    (
        "logs-without-ts",
        |a| logs_missing(a, "ts"),
        &["logs/extra.parquet", "column `ts`"],
    ),
    (
        "corrupt-events",
        |a| put(a, "events/events.parquet", b"garbage"),
        &["events/events.parquet"],
    ),
    (
        "truncated-events",
        |a| cut(a, "events/events.parquet", |n| n - 10),
        &["events/events.parquet"],
    ),
    (
        "events-without-kind",
        |a| events_missing(a, "kind"),
        &["events/extra.parquet", "column `kind`"],
    ),
    ("non-utf8-file-name", |a| non_utf8_name(a), &["metrics"]),
];

const TOML: &str = "incident.toml";
const M_SVC: &str = "metrics/services.parquet";
const M_INFRA: &str = "metrics/infrastructure.parquet";
const M_EXTRA: &str = "metrics/extra.parquet";
const T0: i64 = 1_714_572_000_000;

fn col<T, V>(name: &str, v: V) -> Column
where
    Series: NamedFrom<V, T>,
    T: ?Sized,
{
    Column::new(name.into(), v)
}
fn ts2() -> Column {
    col("ts", [T0, T0 + 15_000])
}
fn ent2() -> Column {
    col("entity", ["x", "x"])
}
fn met2() -> Column {
    col("metric", ["cpu_cores", "cpu_cores"])
}
fn val2() -> Column {
    col("value", [1.0, 2.0])
}

fn put(a: &Path, rel: &str, bytes: &[u8]) {
    std::fs::write(a.join(rel), bytes).expect("write");
}
fn cut(a: &Path, rel: &str, keep: fn(usize) -> usize) {
    let b = std::fs::read(a.join(rel)).expect("read");
    put(a, rel, &b[..keep(b.len())]);
}
/// Overwrites bytes `at..at+new.len()` counted from the end (a Parquet file ends with the
/// footer length, 4 bytes, then the magic `PAR1`).
fn patch_end(a: &Path, rel: &str, from_end: usize, new: &[u8]) {
    let mut b = std::fs::read(a.join(rel)).expect("read");
    let at = b.len() - from_end - new.len();
    b[at..at + new.len()].copy_from_slice(new);
    put(a, rel, &b);
}
fn smash_middle(a: &Path, rel: &str) {
    let mut b = std::fs::read(a.join(rel)).expect("read");
    let n = b.len();
    for x in &mut b[n / 4..n * 3 / 4] {
        *x = 0xA5;
    }
    put(a, rel, &b);
}
fn write_df(path: &Path, cols: Vec<Column>) {
    let h = cols.first().map_or(0, Column::len);
    let mut df = DataFrame::new(h, cols).expect("frame");
    let f = std::fs::File::create(path).expect("create");
    ParquetWriter::new(f).finish(&mut df).expect("parquet");
}
fn extra(a: &Path, cols: Vec<Column>) {
    write_df(&a.join(M_EXTRA), cols);
}
fn rewrite_ts(a: &Path, f: fn(i64) -> i64) {
    for rel in [M_SVC, M_INFRA] {
        let p = a.join(rel);
        let mut df = ParquetReader::new(std::fs::File::open(&p).expect("open"))
            .finish()
            .expect("read");
        let ts = df
            .column("ts")
            .expect("ts")
            .cast(&DataType::Int64)
            .expect("cast");
        let ms: Vec<Option<i64>> = ts.i64().expect("i64").iter().map(|t| t.map(f)).collect();
        df.with_column(Column::new("ts".into(), ms))
            .expect("replace ts");
        write_df(&p, df.columns().to_vec());
    }
}
fn edit_toml(a: &Path, from: &str, to: &str) {
    let p = a.join(TOML);
    let s = read(&p);
    assert!(s.contains(from), "{from}");
    std::fs::write(p, s.replacen(from, to, 1)).expect("write");
}
fn remove(a: &Path, rel: &str) {
    std::fs::remove_dir_all(a.join(rel)).expect("rm");
}
fn replace_with_file(a: &Path, rel: &str) {
    remove(a, rel);
    put(a, rel, b"a file where a folder belongs");
}
fn empty_dir(a: &Path, rel: &str) {
    remove(a, rel);
    mkdir(a, rel);
}
fn mkdir(a: &Path, rel: &str) {
    std::fs::create_dir_all(a.join(rel)).expect("mkdir");
}
fn symlink_loop(a: &Path, rel: &str) {
    std::os::unix::fs::symlink(a.join(rel), a.join(rel)).expect("symlink");
}
fn dangling(a: &Path, rel: &str) {
    std::os::unix::fs::symlink(a.join("nowhere"), a.join(rel)).expect("symlink");
}
fn logs_missing(a: &Path, without: &str) {
    let cols = vec![
        ts2(),
        col("entity", ["live-api", "live-api"]),
        col("message", ["a", "b"]),
    ];
    let cols = cols.into_iter().filter(|c| c.name() != without).collect();
    write_df(&a.join("logs/extra.parquet"), cols);
}
fn events_missing(a: &Path, without: &str) {
    let cols = vec![
        ts2(),
        col("entity", ["live-api", "live-api"]),
        col("kind", ["deploy", "deploy"]),
    ];
    let cols = cols.into_iter().filter(|c| c.name() != without).collect();
    write_df(&a.join("events/extra.parquet"), cols);
}
fn non_utf8_name(a: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff.parquet");
    std::fs::write(a.join("metrics").join(name), b"garbage").expect("write");
}

/// The corpus: one broken copy of the seed per case, plus the seed itself, under `root`.
fn build(root: &Path) {
    let seed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(seed());
    let files = tree(&seed_dir);
    for (name, f, _) in
        CASES
            .iter()
            .map(|c| (c.0, c.1, ()))
            .chain([("good", (|_| {}) as Break, ())])
    {
        let a = root.join(name);
        for (rel, bytes) in &files {
            let p = a.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, bytes).expect("write");
        }
        // Distinct ids, so mine rows name the case.
        edit_toml(&a, "id = \"live-rt-jitter\"", &format!("id = \"{name}\""));
        f(&a);
    }
}

#[test]
fn every_malformed_archive_is_exit_2_naming_the_file() {
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    let t = tmp();
    build(t.path());
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = CASES
            .chunks(CASES.len().div_ceil(4))
            .map(|chunk| {
                let root = t.path();
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|(name, _, expect)| check_one(root, name, expect))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("join"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// None when the case behaves; else what went wrong.
fn check_one(root: &Path, name: &str, expect: &[&str]) -> Option<String> {
    let out = root.join(format!("{name}.report"));
    let o = funnel()
        .arg("analyze")
        .arg(root.join(name))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    let named = err.contains(name);
    let missing: Vec<&&str> = expect.iter().filter(|e| !err.contains(**e)).collect();
    if o.status.code() == Some(2)
        && named
        && missing.is_empty()
        && !err.contains("panicked")
        && !out.exists()
    {
        return None;
    }
    Some(format!(
        "{name}: exit {:?}, missing {missing:?}: {err}",
        o.status.code()
    ))
}

#[test]
fn mining_the_corpus_gives_error_rows_and_analyses_the_good_archive() {
    let t = tmp();
    let root = t.path().join("corpus");
    build(&root);
    let out = t.path().join("mined");
    let o = funnel()
        .arg("mine")
        .arg(&root)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let df = ParquetReader::new(std::fs::File::open(out.join("incidents.parquet")).expect("open"))
        .finish()
        .expect("read");
    let ids = df.column("path").expect("path").str().expect("str").clone();
    let status = df
        .column("status")
        .expect("status")
        .str()
        .expect("str")
        .clone();
    let mut ok = Vec::new();
    for (id, st) in ids.iter().zip(status.iter()) {
        if st == Some("ok") {
            ok.push(id.unwrap_or_default().to_string());
        }
    }
    assert_eq!(ok, ["good"], "only the good archive is analysed: {err}");
    // Cases without a readable incident.toml file may not be found as archives at all; every
    // other one is an error row.
    assert!(
        df.height() >= CASES.len() - 3,
        "{} rows: {err}",
        df.height()
    );
}

/// Malformed importer inputs: (name, format, source file contents or None for an empty
/// folder, extra args, what the message must contain).
type ImportCase = (
    &'static str,
    &'static str,
    Option<&'static [u8]>,
    &'static [&'static str],
    &'static [&'static str],
);

const IMPORTS: &[ImportCase] = &[
    (
        "empty.csv",
        "wide-csv",
        Some(b""),
        &["--fault-row", "2"],
        &["empty.csv"],
    ),
    (
        "header-only.csv",
        "wide-csv",
        Some(b"time,a_cpu\n"),
        &["--fault-row", "2"],
        &["header-only.csv", "no data rows"],
    ),
    (
        "no-time.csv",
        "wide-csv",
        Some(b"when,a_cpu\n1,2\n2,3\n"),
        &["--fault-row", "1"],
        &["no-time.csv", "column `time`"],
    ),
    (
        "text-metric.csv",
        "wide-csv",
        Some(b"time,a_cpu\n1,x\n2,y\n3,z\n"),
        &["--fault-row", "1"],
        &["text-metric.csv", "a_cpu"],
    ),
    (
        "empty-time.csv",
        "wide-csv",
        Some(b"time,a_cpu\n1,2\n,3\n3,4\n"),
        &["--fault-row", "1"],
        &["empty-time.csv", "column `time`"],
    ),
    (
        "fault-outside.csv",
        "wide-csv",
        Some(b"time,a_cpu\n1,2\n2,3\n3,4\n"),
        &["--fault-time", "99"],
        &["fault-outside.csv", "fault time"],
    ),
    (
        "fault-row-past.csv",
        "wide-csv",
        Some(b"time,a_cpu\n1,2\n2,3\n"),
        &["--fault-row", "9"],
        &["fault-row-past.csv", "--fault-row"],
    ),
    (
        "only-time.csv",
        "wide-csv",
        Some(b"time\n1\n2\n3\n"),
        &["--fault-row", "1"],
        &["only-time.csv", "no metric columns"],
    ),
    (
        "non-utf8.csv",
        "wide-csv",
        Some(b"time,a\xff_cpu\n1,2\n2,\xfe\n3,4\n"),
        &["--fault-row", "1"],
        &["non-utf8.csv"],
    ),
    ("nezha-empty", "nezha", None, &[], &["nezha-empty"]),
    ("petshop-empty", "petshop", None, &[], &["petshop-empty"]),
];

#[test]
fn every_malformed_importer_input_is_exit_2_naming_the_source() {
    let t = tmp();
    let mut bad = Vec::new();
    for (name, format, contents, args, expect) in IMPORTS {
        let src = t.path().join(name);
        match contents {
            Some(b) => std::fs::write(&src, b).expect("write"),
            None => std::fs::create_dir_all(&src).expect("mkdir"),
        }
        let out = t.path().join(format!("{name}.out"));
        let o = funnel()
            .args(["import", format])
            .arg(&src)
            .args(*args)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&o.stderr);
        let missing: Vec<&&str> = expect.iter().filter(|e| !err.contains(**e)).collect();
        let half = std::fs::read_dir(&out).map_or(0, Iterator::count);
        if o.status.code() != Some(2) || !missing.is_empty() || err.contains("panicked") || half > 0
        {
            bad.push(format!(
                "{name}: exit {:?}, missing {missing:?}, {half} archives: {err}",
                o.status.code()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

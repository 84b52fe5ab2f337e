//! Tests of mining as a whole on in-memory rows: the Parquet round trip, and sharded + merged
//! outputs byte-identical to a single run's.

use super::rows::{ERROR, OK};
use super::*;

fn row(id: &str, day: i64, kind: Option<&str>) -> IncidentRow {
    let mut r = IncidentRow::failure(id, &format!("corpus/{id}"), None, String::new());
    (r.status, r.error) = (OK.into(), None);
    r.fired_at = Some(1_700_000_000_000 + day * 86_400_000);
    r.alert_entity = Some("api".into());
    r.root_cause_kind = kind.map(str::to_string);
    r.root_cause_culprit = kind.map(|k| format!("{k}:x"));
    r.confidence = kind.map(|_| 0.5 + 0.01 * f64::from(u8::try_from(day).unwrap_or(0)));
    r.findings = Some(day);
    r.rules_fired = "peer-sharing-storage-healthy,storage-server-metrics".into();
    (r.affected_entities, r.affected_pods, r.total_pods) = (Some(1), Some(2), Some(3));
    r.expected_kind = Some("redis".into());
    r.expected_culprit = Some("redis:x".into());
    r
}

fn corpus() -> Rows {
    let mut rows = Rows::default();
    for i in 0..12_i64 {
        let id = format!("inc-{i:02}");
        let kind = ["redis", "mysql", "pod"][usize::try_from(i % 3).unwrap_or(0)];
        rows.incidents
            .push(row(&id, i, (i % 4 != 0).then_some(kind)));
        for (k, st) in [
            ("mysql", "eliminated"),
            ("redis", "supported"),
            ("pod", "inconclusive"),
        ] {
            rows.hypotheses.push(HypothesisRow {
                incident: id.clone(),
                kind: k.into(),
                culprit: format!("{k}:x"),
                status: st.into(),
                rule: "peer-sharing-storage-healthy".into(),
                score: 0.25,
            });
        }
    }
    let mut broken = IncidentRow::failure(
        "zz-broken",
        "corpus/zz",
        None,
        "incident.toml: unknown field `alret` <&>".into(),
    );
    broken.status = ERROR.into();
    rows.incidents.push(broken);
    rows.canonicalize();
    rows
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for name in [table::INCIDENTS, table::HYPOTHESES, "trends.md"] {
        out.insert(name.to_string(), fs::read(dir.join(name)).unwrap());
    }
    for e in fs::read_dir(dir.join("charts")).unwrap() {
        let e = e.unwrap();
        out.insert(
            format!("charts/{}", e.file_name().to_string_lossy()),
            fs::read(e.path()).unwrap(),
        );
    }
    out
}

#[test]
fn parquet_round_trips_every_column() {
    let t = tempfile::tempdir().unwrap();
    let rows = corpus();
    table::write(&rows, t.path()).unwrap();
    assert_eq!(table::read(t.path()).unwrap(), rows);
}

#[test]
fn sharded_and_merged_rows_equal_a_single_run() {
    let t = tempfile::tempdir().unwrap();
    let rows = corpus();
    write(&rows, &t.path().join("single")).unwrap();
    let mut shard_dirs = Vec::new();
    for k in 1..=3 {
        let s = Shard { index: k, count: 3 };
        let mut part = Rows {
            incidents: rows
                .incidents
                .iter()
                .filter(|r| s.owns(&r.id))
                .cloned()
                .collect(),
            hypotheses: rows
                .hypotheses
                .iter()
                .filter(|h| s.owns(&h.incident))
                .cloned()
                .collect(),
        };
        part.canonicalize();
        let dir = t.path().join(format!("shard-{k}"));
        write(&part, &dir).unwrap();
        shard_dirs.push(dir);
    }
    // Order of the shard arguments must not matter.
    shard_dirs.reverse();
    let merged = merge(&shard_dirs).unwrap();
    assert_eq!(merged, rows);
    write(&merged, &t.path().join("merged")).unwrap();
    let (a, b) = (
        files(&t.path().join("single")),
        files(&t.path().join("merged")),
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between the single run and the merge"
        );
    }
}

#[test]
fn merging_a_shard_twice_is_refused() {
    let t = tempfile::tempdir().unwrap();
    write(&corpus(), t.path()).unwrap();
    let e = merge(&[t.path().to_path_buf(), t.path().to_path_buf()]).unwrap_err();
    assert!(e.to_string().contains("the same shard twice"), "{e}");
}

#[test]
fn merge_names_a_missing_column() {
    let t = tempfile::tempdir().unwrap();
    let e = merge(&[t.path().to_path_buf()]).unwrap_err();
    assert!(e.to_string().contains("incidents.parquet"), "{e}");
}

#[test]
fn report_dir_names_cannot_escape() {
    assert_eq!(report_dir_name("redis-1"), "redis-1");
    assert_eq!(report_dir_name("../etc/passwd"), ".._etc_passwd");
    assert_eq!(report_dir_name(".."), "_..");
    assert_eq!(report_dir_name(""), "_");
}

//! `funnel import`: tiny synthetic sources of each format → archives that `analyze` and
//! `check` accept; malformed sources fail with exit code 2 and a message naming the file.

use std::path::Path;

fn funnel() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_funnel"))
}

fn run(args: &[&str]) -> std::process::Output {
    funnel().args(args).output().expect("run funnel")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// 60 one-minute rows; `cart` slows down and burns CPU from row 40, `front` calls it and
/// slows down with it.
fn wide_csv(dir: &Path) -> std::path::PathBuf {
    let mut s = String::from("time,front_lat_90,front_cpu,cart_lat_90,cart_cpu,cart_disk\n");
    for i in 0..60u32 {
        let w = 1.0 + 0.02 * f64::from(i % 5);
        let (fl, cl, cc) = if i >= 40 {
            (400.0, 350.0, 3.0)
        } else {
            (100.0, 50.0, 0.5)
        };
        s.push_str(&format!(
            "{},{},{},{},{},{}\n",
            1_700_000_000 + 60 * i,
            fl * w,
            0.4 * w,
            cl * w,
            cc * w,
            7.0 * w
        ));
    }
    let p = dir.join("run.csv");
    std::fs::write(&p, s).expect("write csv");
    p
}

#[test]
fn wide_csv_imports_analyses_and_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = wide_csv(dir.path());
    let out = dir.path().join("archives");
    let o = run(&[
        "import",
        "wide-csv",
        path(&src),
        "--fault-row",
        "40",
        "--alert",
        "front",
        "--root-cause",
        "cart",
        "--out",
        path(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let toml = std::fs::read_to_string(out.join("run/incident.toml")).expect("incident.toml");
    assert!(
        toml.contains("kind = \"any\"") && toml.contains("culprit = \"cart\""),
        "{toml}"
    );
    let rep = dir.path().join("report");
    let o = run(&["analyze", path(&out.join("run")), "--out", path(&rep)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rep.join("verdict.json")).expect("verdict"))
            .expect("json");
    let ranked: Vec<&str> = v["ranking"]
        .as_array()
        .expect("ranking")
        .iter()
        .filter_map(|r| r["culprit"].as_str())
        .collect();
    assert!(ranked.contains(&"cart"), "{ranked:?}");
    let o = run(&["check", path(&out)]);
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 1),
        "check ran: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn petshop_layout_imports_one_incident_per_issue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sc = dir.path().join("dataset/low_traffic");
    std::fs::create_dir_all(sc.join("noissue")).expect("mkdir");
    std::fs::create_dir_all(sc.join("train/issue_0")).expect("mkdir");
    std::fs::write(sc.join("graph.csv"), ",PetSite,db\nPetSite,0,1\ndb,0,0\n").expect("graph");
    let table = |ts: &[u64], site: f64, db: f64| {
        let mut s = String::from(
            "microservice,PetSite,db\nmetric,latency,latency\nstatistic,Average,Average\nunix_timestamp,,\n",
        );
        for (i, t) in ts.iter().enumerate() {
            let w = 1.0 + 0.02 * (i % 5) as f64;
            s.push_str(&format!("{t}.0,{},{}\n", site * w, db * w));
        }
        s
    };
    std::fs::write(
        sc.join("noissue/metrics.csv"),
        table(
            &(0..30).map(|i| 5_000 + 300 * i).collect::<Vec<_>>(),
            0.1,
            0.01,
        ),
    )
    .expect("noissue");
    std::fs::write(
        sc.join("train/issue_0/metrics.csv"),
        table(&[900_000, 900_300, 900_600, 900_900, 901_200], 0.5, 0.4),
    )
    .expect("issue");
    std::fs::write(sc.join("train/issue_0/target.json"), r#"{"target":{"node":"PetSite","metric":"latency","agg":"Average","timestamp":900100},"root_cause":{"node":"db","metric":null}}"#).expect("target");
    let out = dir.path().join("out");
    let o = run(&[
        "import",
        "petshop",
        path(&dir.path().join("dataset")),
        "--out",
        path(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&[
        "analyze",
        path(&out.join("low_traffic-train-issue_0")),
        "--out",
        path(&dir.path().join("rep")),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn nezha_day_without_metric_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run(&[
        "import",
        "nezha",
        path(dir.path()),
        "--out",
        path(&dir.path().join("out")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("metric/") && err.contains(path(dir.path())),
        "{err}"
    );
}

#[test]
fn malformed_wide_csv_names_file_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("bad.csv");
    std::fs::write(&p, "time,a_cpu\n1,0.5\n2,lots\n3,0.5\n").expect("write");
    let o = run(&[
        "import",
        "wide-csv",
        path(&p),
        "--fault-row",
        "1",
        "--out",
        path(&dir.path().join("out")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.csv") && err.contains("a_cpu") && err.contains("lots"),
        "{err}"
    );
    let o = run(&[
        "import",
        "wide-csv",
        path(&p),
        "--out",
        path(&dir.path().join("out")),
    ]);
    assert_eq!(o.status.code(), Some(2), "no fault time given");
}

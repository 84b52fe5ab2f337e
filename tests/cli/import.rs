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

/// A Nezha day: two services over 08:00–08:29, a fault on auth at 08:20:30 after which auth
/// slows down and logs refused connections; every pod logs a request line each minute.
fn nezha_day(dir: &Path) -> std::path::PathBuf {
    let d = dir.join("2023-01-29");
    for sub in ["metric", "trace", "log"] {
        std::fs::create_dir_all(d.join(sub)).expect("mkdir");
    }
    let pods = [
        "ts-auth-service-7f8d7d756d-k7b9j",
        "ts-gateway-service-5c9d8-x2x2x",
    ];
    let mut front = String::from("Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP99(s)\n");
    let mut log =
        String::from("Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log\n");
    let t0 = 1_674_979_200i64; // 2023-01-29 08:00:00 UTC
    for (p, pod) in pods.iter().enumerate() {
        let mut m = String::from("Time,TimeStamp,PodName,CpuUsage(m),PodServerLatencyP99(s)\n");
        for i in 0..30i64 {
            let slow = p == 0 && i >= 21;
            m.push_str(&format!(
                "2023-01-29 08:{i:02}:09.1 +0000 UTC m=+0.1,1,{pod},{},{}\n",
                if slow { 900 } else { 100 + i % 3 },
                if slow { 2.0 } else { 0.05 }
            ));
            if p == 0 {
                front.push_str(&format!(
                    "2023-01-29 08:{i:02}:09.0 +0000 UTC m=+0.1,1,Frontend,100,{}\n",
                    if i >= 21 { 2.5 } else { 0.5 }
                ));
            }
            for k in 0..3i64 {
                let ns = (t0 + 60 * i + 10 * k) * 1_000_000_000;
                let msg = if slow {
                    format!(
                        "08:{i:02}:1{k} ERROR c.a.AuthServiceImpl#88 connect to http://ts-auth-mysql:3306/auth refused after {k}{i} ms"
                    )
                } else {
                    format!(
                        "08:{i:02}:1{k} INFO c.a.Controller#12 GET /api/v1/users/{i}{k} took {k}{i} ms"
                    )
                };
                log.push_str(&format!(
                    "x,{ns},n,{pod},c,t,s,\"{{\"\"log\"\":\"\"{msg}\\n\"\"}}\"\n"
                ));
            }
        }
        std::fs::write(d.join(format!("metric/{pod}_metric.csv")), m).expect("write metric");
    }
    std::fs::write(d.join("metric/front_service.csv"), front).expect("write front");
    std::fs::write(
        d.join("trace/08_20_trace.csv"),
        format!(
            "TraceID,SpanID,ParentID,PodName\nt,a,root,{}\nt,b,a,{}\n",
            pods[1], pods[0]
        ),
    )
    .expect("write trace");
    std::fs::write(d.join("log/08_00_log.csv"), log).expect("write log");
    std::fs::write(
        d.join("2023-01-29-fault_list.json"),
        format!(
            r#"{{"08":[{{"inject_time":"2023-01-29 08:20:30","inject_timestamp":"0","inject_pod":"{}","inject_type":"exception"}}]}}"#,
            pods[0]
        ),
    )
    .expect("write faults");
    d
}

#[test]
fn nezha_logs_carry_templates_and_the_analysis_reads_them() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().expect("tempdir");
    let day = nezha_day(dir.path());
    let out = dir.path().join("archives");
    let o = run(&["import", "nezha", path(&day), "--out", path(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let archive = out.join("2023-01-29-00-exception");
    let file = std::fs::File::open(archive.join("logs/logs.parquet")).expect("logs file");
    let logs = ParquetReader::new(file).finish().expect("read logs");
    let templates = logs.column("template").expect("a template column");
    assert_eq!(templates.null_count(), 0);
    let distinct = templates.n_unique().expect("n_unique");
    assert!((2..=3).contains(&distinct), "{distinct} templates");

    let rep = dir.path().join("rep");
    let o = run(&["analyze", path(&archive), "--out", path(&rep)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(rep.join("postmortem.md")).expect("postmortem");
    assert!(
        md.contains("refused"),
        "the error template is reported:\n{md}"
    );
    let verdict = std::fs::read_to_string(rep.join("verdict.json")).expect("verdict");
    let v: serde_json::Value = serde_json::from_str(&verdict).expect("json");
    assert_eq!(v["ranking"][0]["culprit"], "ts-auth-service", "{verdict}");
}

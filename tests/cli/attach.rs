//! `funnel attach`: each format's fixture (tests/fixtures/attach/, written from the formats'
//! documentation and checked by hand) into a copy of the seed archive; detection, dedup,
//! atomicity and bad input.

use std::path::{Path, PathBuf};

use super::{funnel, seed, tmp, tree};

fn fixture(name: &str) -> String {
    format!("tests/fixtures/attach/{name}")
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

/// A copy of the seed archive.
fn archive(dir: &Path) -> PathBuf {
    let a = dir.join("incident");
    copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(seed()).as_path(),
        &a,
    );
    a
}

/// Runs `funnel attach ARGS...`; returns (exit code, stderr).
fn attach(args: &[&str]) -> (i32, String) {
    let out = funnel()
        .arg("attach")
        .args(args)
        .output()
        .expect("run funnel");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

fn rows(p: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    ParquetReader::new(std::fs::File::open(p).expect("open"))
        .finish()
        .expect("parquet")
}

#[test]
fn logs_are_detected_added_once_and_mined() {
    let dir = tmp();
    let a = archive(dir.path());
    let before = rows(&a.join("logs/logs.parquet")).height();
    let (code, err) = attach(&[
        "logs",
        s(&a),
        &fixture("loki.json"),
        &fixture("logcli.jsonl"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("loki.json: loki (detected)"), "{err}");
    assert!(err.contains("logcli.jsonl: logcli (detected)"), "{err}");
    assert!(
        err.contains("skipped 1 log lines without any entity label"),
        "{err}"
    );
    assert!(err.contains("5 added, 0 already"), "{err}");
    let df = rows(&a.join("logs/logs.parquet"));
    assert_eq!(df.height(), before + 5);
    assert!(
        df.column("template").is_ok(),
        "templates mined at attach time"
    );
    let (code, err) = attach(&["logs", s(&a), &fixture("loki.json")]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 added, 3 already"), "{err}");
    assert_eq!(rows(&a.join("logs/logs.parquet")).height(), before + 5);
    // Loki 3's categorised labels give the level; logcli's offset is converted to UTC.
    let level = df.column("level").unwrap().str().unwrap().clone();
    let msg = df.column("message").unwrap().str().unwrap().clone();
    let ts = df
        .column("ts")
        .unwrap()
        .cast(&polars::prelude::DataType::Int64)
        .unwrap();
    let ts = ts.i64().unwrap();
    let find = |m: &str| (0..df.height()).find(|&i| msg.get(i) == Some(m)).expect(m);
    assert_eq!(
        level.get(find("{\"msg\":\"slow vendor call\",\"took_ms\":812}")),
        Some("warn")
    );
    assert_eq!(
        ts.get(find("GET /users/42 200 12ms")),
        Some(1_714_572_003_500)
    );
    assert_eq!(
        level.get(find("ERROR mysql: connection refused")),
        Some("error")
    );
}

#[test]
fn plain_text_logs_need_a_header_and_an_entity() {
    let dir = tmp();
    let a = archive(dir.path());
    let header = "<Date> <Time> <Level> <Content>";
    let (code, err) = attach(&["logs", s(&a), &fixture("plain.log"), "--format", header]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--entity"), "{err}");
    let (code, err) = attach(&[
        "logs",
        s(&a),
        &fixture("plain.log"),
        "--format",
        header,
        "--entity",
        "gift-api",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 added"), "{err}");
    let (code, err) = attach(&["logs", s(&a), &fixture("plain.log")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("plain.log") && err.contains("not recognised"),
        "{err}"
    );
}

#[test]
fn bad_log_input_names_file_and_line_and_leaves_the_archive_alone() {
    let dir = tmp();
    let a = archive(dir.path());
    let before = tree(&a);
    for (file, words) in [
        (
            "loki-error.json",
            &["loki-error.json", "Loki answered with an error", "bad_data"][..],
        ),
        (
            "loki-ms.json",
            &["loki-ms.json", "milliseconds", "nanoseconds are expected"][..],
        ),
        (
            "truncated.jsonl",
            &["truncated.jsonl", "line 2", "truncated JSON"][..],
        ),
    ] {
        // A good file first: nothing of it may land when the second one fails.
        let (code, err) = attach(&["logs", s(&a), &fixture("loki.json"), &fixture(file)]);
        assert_eq!(code, 2, "{file}: {err}");
        for w in words {
            assert!(err.contains(w), "{file}: `{w}` not in {err}");
        }
        assert_eq!(tree(&a), before, "{file} changed the archive");
    }
}

#[test]
fn events_of_both_apis_and_the_exporter_map_to_archive_kinds() {
    let dir = tmp();
    let a = archive(dir.path());
    let before = rows(&a.join("events/events.parquet")).height();
    let files = [
        "events-core.json",
        "events-k8sio.json",
        "events-exporter.jsonl",
    ]
    .map(fixture);
    let mut args = vec!["events", s(&a)];
    args.extend(files.iter().map(String::as_str));
    let (code, err) = attach(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("events-exporter.jsonl: event-exporter (detected)"),
        "{err}"
    );
    assert!(
        err.contains("skipped 1 events without any timestamp"),
        "{err}"
    );
    assert!(err.contains("9 added"), "{err}");
    let df = rows(&a.join("events/events.parquet"));
    assert_eq!(df.height(), before + 9);
    let col = |n: &str| df.column(n).unwrap().str().unwrap().clone();
    let (entity, kind) = (col("entity"), col("kind"));
    let got: std::collections::BTreeSet<(String, String)> = (0..df.height())
        .map(|i| {
            (
                entity.get(i).unwrap().to_string(),
                kind.get(i).unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("live-api", "deploy"),
        ("live-api", "scale"),
        ("gift-api", "restart"),
        ("user-api", "scheduled"),
        ("user-api", "scale"),
        ("redis:live-cache", "failover"),
        ("live-api", "unhealthy"),
        ("live-api", "restart"),
        ("live-api", "config"),
    ] {
        assert!(
            got.contains(&(want.0.into(), want.1.into())),
            "{want:?} missing"
        );
    }
    let (code, err) = attach(&["events", s(&a), &fixture("events-core.json")]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 added, 5 already"), "{err}");
}

#[test]
fn traces_of_every_format_give_edges_series_and_spans() {
    let dir = tmp();
    let a = archive(dir.path());
    let (code, err) = attach(&["traces", s(&a), &fixture("otlp.jsonl")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1 spans whose parent is missing were kept as roots"),
        "{err}"
    );
    let toml = std::fs::read_to_string(a.join("incident.toml")).unwrap();
    assert!(
        toml.contains(
            r#"depends_on = ["mysql:live-db", "redis:live-cache", "http:gift-vendor", "gift-api"]"#
        ),
        "{toml}"
    );
    // The same spans under the older key add nothing.
    let (code, err) = attach(&["traces", s(&a), &fixture("otlp-old.json")]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 added, 3 already"), "{err}");
    for f in ["jaeger.json", "tempo.json"] {
        let (code, err) = attach(&["traces", s(&a), &fixture(f)]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("2 added"), "{f}: {err}");
    }
    let spans = rows(&a.join("traces/spans.parquet"));
    assert_eq!(spans.height(), 10);
    let ids = spans.column("span_id").unwrap().str().unwrap().clone();
    assert!(
        ids.iter().any(|i| i == Some("0102030405060708")),
        "Tempo ids decoded"
    );
    let m = rows(&a.join("metrics/traces.parquet"));
    let col = |n: &str| m.column(n).unwrap().str().unwrap().clone();
    let (entity, metric, target) = (col("entity"), col("metric"), col("target"));
    let value = m.column("value").unwrap().f64().unwrap().clone();
    let get = |e: &str, me: &str, t: &str| {
        (0..m.height())
            .find(|&i| {
                entity.get(i) == Some(e) && metric.get(i) == Some(me) && target.get(i) == Some(t)
            })
            .and_then(|i| value.get(i))
    };
    assert_eq!(get("live-api", "dep_hop_ms", "gift-api"), Some(20.0));
    assert_eq!(
        get("live-api", "dep_latency_ms", "mysql:live-db"),
        Some(25.0)
    );
    assert_eq!(
        get("gift-api", "dep_latency_ms", "http:gift-vendor"),
        Some(13.0)
    );
    assert!(get("gift-api", "dep_errors_per_s", "redis:live-cache").is_some_and(|v| v > 0.0));
    let out = dir.path().join("report");
    let (code, err) = {
        let o = funnel()
            .args(["analyze", s(&a), "--out", s(&out)])
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(code, 0, "the archive still analyses: {err}");
}

#[test]
fn spans_in_the_wrong_unit_are_refused() {
    let dir = tmp();
    let a = archive(dir.path());
    let (code, err) = attach(&["traces", s(&a), &fixture("otlp-ms.jsonl")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("otlp-ms.jsonl: line 1") && err.contains("milliseconds"),
        "{err}"
    );
    assert!(!a.join("traces").exists());
}

#[test]
fn k8s_objects_set_resources_and_sidecars() {
    let dir = tmp();
    let a = archive(dir.path());
    let (code, err) = attach(&["k8s", s(&a), &fixture("k8s.json")]);
    assert_eq!(code, 0, "{err}");
    let toml = std::fs::read_to_string(a.join("incident.toml")).unwrap();
    let search = toml.split("id = \"search-api\"").nth(1).expect(&toml);
    assert!(
        search.contains("sidecar = true") && search.contains("sidecar_cpu = 0.5"),
        "{search}"
    );
    assert!(search.contains("app_mem_bytes = 536870912.0"), "{search}");
    let user = toml.split("id = \"user-api\"").nth(1).unwrap();
    assert!(user.contains("app_cpu = 1.5"), "{user}");
}

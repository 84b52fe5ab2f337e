//! `funnel analyze` on the bundled seed incident: the verdict in full, the postmortem as a
//! snapshot, well-formed charts, determinism across thread counts.

use super::*;

fn analyze_seed(out: &Path, threads: &str) -> serde_json::Value {
    let o = funnel()
        .args(["analyze", seed(), "--out"])
        .arg(out)
        .env("RAYON_NUM_THREADS", threads)
        .env("POLARS_MAX_THREADS", threads)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&read(&out.join("verdict.json"))).expect("verdict.json is JSON")
}

fn hyp<'a>(v: &'a serde_json::Value, kind: &str, culprit: &str) -> &'a serde_json::Value {
    v["hypotheses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == kind && h["culprit"] == culprit)
        .unwrap_or_else(|| panic!("no hypothesis {kind} {culprit}"))
}

#[test]
fn seed_verdict_in_full() {
    let dir = tmp();
    let v = analyze_seed(dir.path(), "2");
    assert_eq!(v["format"], 3);
    // Format 3: every input the analysis reads is in the seed, so nothing cost anything.
    assert_eq!(v["coverage"], serde_json::json!([]));
    // Format 2: the outage record, and a ranking of survivors only, each with its status.
    assert_eq!(v["onset"], "2024-05-01T13:57:00Z");
    assert_eq!(v["detected_after_s"], 300);
    assert_eq!(v["impact"]["ongoing"], true);
    assert!(v["impact"]["recovered_at"].is_null());
    assert!(v["impact"]["failed_requests"].as_u64().unwrap() > 40_000);
    assert!(v["impact"]["error_ratio_peak"].as_f64().unwrap() > 0.02);
    assert_eq!(v["duration_s"], 1200);
    for r in v["ranking"].as_array().unwrap() {
        assert_ne!(r["status"], "eliminated", "{r}");
        assert!(r["status"].is_string(), "{r}");
    }
    assert_eq!(v["incident"], "live-rt-jitter");
    assert_eq!(v["root_cause"]["kind"], "sidecar");
    assert_eq!(v["root_cause"]["culprit"], "live-api");
    assert!(
        v["root_cause"]["confidence"].as_f64().unwrap() >= 0.8,
        "{}",
        v["root_cause"]
    );
    assert_eq!(v["trigger"]["kind"], "traffic-spike");
    assert_eq!(v["trigger"]["culprit"], "live-api");
    assert_eq!(v["ranking"][0]["kind"], "sidecar");

    for (kind, culprit, rule) in [
        ("mysql", "mysql:live-db", "peer-sharing-storage-healthy"),
        ("redis", "redis:live-cache", "peer-sharing-storage-healthy"),
        ("network", "cluster", "healthy-services-elsewhere"),
        ("cpu-saturation", "live-api", "app-cpu-below-limit"),
        ("memory-pressure", "live-api", "app-memory-below-limit"),
        (
            "ingress",
            "ingress:public-gw",
            "gateway-other-services-healthy",
        ),
    ] {
        let h = hyp(&v, kind, culprit);
        assert_eq!(h["status"], "eliminated", "{h}");
        assert_eq!(h["rule"], rule, "{h}");
        assert!(!h["evidence"].as_str().unwrap().is_empty());
    }
    let hyps = v["hypotheses"].as_array().unwrap();
    for kind in ["node", "pod"] {
        let of_kind: Vec<_> = hyps.iter().filter(|h| h["kind"] == kind).collect();
        assert!(
            of_kind.len() >= 3,
            "a {kind} hypothesis per live-api pod or node"
        );
        for h in of_kind {
            assert_eq!(h["status"], "eliminated", "{h}");
        }
    }
    let node = hyps.iter().find(|h| h["kind"] == "node").unwrap();
    assert!(
        node["evidence"]
            .as_str()
            .unwrap()
            .contains("3 different nodes"),
        "{node}"
    );
    assert!(
        hyp(&v, "redis", "redis:live-cache")["evidence"]
            .as_str()
            .unwrap()
            .contains("gift-api")
    );

    let findings = v["findings"].as_array().unwrap();
    let dis = findings
        .iter()
        .find(|f| f["kind"] == "metric-disagreement" && f["entity"] == "live-api")
        .expect("metric-disagreement on live-api");
    let text = dis["detail"].as_str().unwrap();
    assert!(
        text.contains("sidecar cpu_cores")
            && text.contains("trusted `cadvisor`")
            && text.contains("mesh-dashboard"),
        "{text}"
    );
    let cfg = findings
        .iter()
        .find(|f| f["kind"] == "configuration")
        .expect("configuration finding");
    let text = cfg["detail"].as_str().unwrap();
    assert!(
        text.contains("2 CPU / 1 GiB") && text.contains("4 CPU / 2 GiB"),
        "{text}"
    );
}

#[test]
fn postmortem_reads_like_a_postmortem() {
    let dir = tmp();
    analyze_seed(dir.path(), "2");
    let md = read(&dir.path().join("postmortem.md"));
    insta::assert_snapshot!("live-rt-jitter-postmortem", md);
    for section in [
        "| Status |",
        "| Severity |",
        "| Authors |",
        "| Owners |",
        "## Summary",
        "## Impact",
        "## Detection",
        "## Root cause",
        "## Trigger",
        "## Contributing factors",
        "## Mechanism",
        "## Resolution and recovery",
        "## What we don't know",
        "## Action items",
        "## Lessons learned",
        "## Timeline (UTC)",
        "## Scope",
        "## The funnel",
        "## Data-quality",
        "## Coverage",
        "## Appendix",
    ] {
        assert!(md.contains(section), "missing {section}");
    }
    // In the order of the common templates.
    let at = |s: &str| md.find(s).unwrap();
    assert!(at("## Summary") < at("## Impact") && at("## Impact") < at("## Detection"));
    assert!(
        at("## Detection") < at("## Root cause")
            && at("## Mechanism") < at("## What we don't know")
    );
    assert!(
        at("## Action items") < at("## Lessons learned") && at("## Timeline") < at("## The funnel")
    );
    let summary = md
        .split("## Summary")
        .nth(1)
        .unwrap()
        .split("##")
        .next()
        .unwrap();
    assert!(
        summary.trim().matches(". ").count() <= 2,
        "summary has at most three sentences: {summary}"
    );
}

#[test]
fn charts_are_well_formed_svg_with_titles() {
    let dir = tmp();
    analyze_seed(dir.path(), "2");
    let charts: Vec<_> = std::fs::read_dir(dir.path().join("charts"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .collect();
    assert!(
        charts.len() >= 3,
        "alert, root cause and peer charts: {charts:?}"
    );
    for c in charts {
        let text = read(&c);
        let doc =
            roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", c.display()));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(
            text.contains("time (UTC)"),
            "{} has a labelled time axis",
            c.display()
        );
        // Readable pasted at page width (650 px): no text below 11 px there.
        let width: f64 = doc
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
            let size: f64 = n.attribute("font-size").unwrap().parse().unwrap();
            assert!(
                size * 650.0 / width >= 11.0,
                "{}: {size} px text reads at {:.1} px at page width",
                c.display(),
                size * 650.0 / width
            );
        }
        assert!(
            !text.contains("latency_p99_ms ("),
            "{}: human axis titles",
            c.display()
        );
        png_twin_is_the_chart(&c, width);
    }
}

/// Every SVG has a PNG of the same size beside it that decodes and is not blank.
fn png_twin_is_the_chart(svg: &Path, width: f64) {
    let png = svg.with_extension("png");
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    let (w, h, rgb) =
        funnel::report::png::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert_eq!(f64::from(w), width, "{}", png.display());
    assert!(h > 300, "{}", png.display());
    let px: Vec<&[u8]> = rgb.chunks(3).collect();
    let inked = px.iter().filter(|p| p.iter().any(|c| *c < 200)).count();
    assert!(
        inked * 50 > px.len(),
        "{}: {inked} of {} pixels drawn",
        png.display(),
        px.len()
    );
    let colours: std::collections::BTreeSet<&[u8]> = px.iter().copied().collect();
    assert!(
        colours.len() > 8,
        "{}: {} colours",
        png.display(),
        colours.len()
    );
}

#[test]
fn outputs_are_byte_identical_across_thread_counts() {
    let (a, b) = (tmp(), tmp());
    analyze_seed(a.path(), "1");
    analyze_seed(b.path(), "8");
    let (ta, tb) = (tree(a.path()), tree(b.path()));
    assert_eq!(ta.len(), tb.len());
    for ((pa, ba), (pb, bb)) in ta.iter().zip(&tb) {
        assert_eq!(pa, pb);
        assert!(ba == bb, "{} differs between 1 and 8 threads", pa.display());
    }
}

#[test]
fn committed_example_report_is_current() {
    let dir = tmp();
    analyze_seed(dir.path(), "2");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/live-rt-jitter");
    let (fresh, old) = (tree(dir.path()), tree(&committed));
    let names = |t: &[(PathBuf, Vec<u8>)]| t.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&fresh),
        names(&old),
        "reports/live-rt-jitter has other files: regenerate it with the README's first command"
    );
    let stale: Vec<_> = fresh
        .iter()
        .zip(&old)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0.display().to_string())
        .collect();
    assert!(
        stale.is_empty(),
        "reports/live-rt-jitter is stale ({}): regenerate it with the README's first command",
        stale.join(", ")
    );
}

#[test]
fn rules_explain_themselves() {
    let out = run_ok(&["rules", "peer-sharing-storage-healthy"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("## Why this is sound"), "{text}");
    let bad = funnel().args(["rules", "no-such-rule"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

//! `funnel mine`, `merge` and `check` end to end, on a tiny corpus made by `funnel simulate`.
//!
//! Self-contained (no helpers from main.rs). The corpus is simulated once per test binary
//! build and kept under CARGO_TARGET_TMPDIR, keyed by the binary's mtime and size, so reruns
//! skip the simulator; every test copies it before changing anything.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_funnel");

/// (scenario, seed, folder under the root): one at the top, one nested, to cover the walk.
const ARCHIVES: [(&str, &str, &str); 2] = [
    ("live-rt-jitter", "1", "live-rt-jitter-1"),
    ("redis", "1", "2025/q4/redis-1"),
];

fn funnel(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the funnel binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp paths")
}

fn corpus() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let meta = fs::metadata(BIN).expect("the funnel binary exists");
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        // Keyed by the binary and the archive list: either changing means a new corpus.
        let list = format!("{ARCHIVES:?}")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        let name = format!("mine-corpus-{mtime}-{}-{list:016x}", meta.len());
        let dir = tmp.join(&name);
        if dir.join("ready").is_file() {
            return dir;
        }
        // Corpora of older binaries are stale; best effort, another process may be using one.
        for e in fs::read_dir(tmp).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("mine-corpus-") && !n.starts_with(&name) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
        let work = tmp.join(format!("{name}.{}", std::process::id()));
        let _ = fs::remove_dir_all(&work);
        for (scenario, seed, sub) in ARCHIVES {
            let o = funnel(&[
                "simulate",
                scenario,
                "--seed",
                seed,
                "--out",
                p(&work.join(sub)),
            ]);
            assert!(o.status.success(), "{}", text(&o));
        }
        fs::write(work.join("ready"), "").expect("marker");
        // Atomic publish; if another test process won the race, use its copy.
        if fs::rename(&work, &dir).is_err() {
            let _ = fs::remove_dir_all(&work);
        }
        assert!(dir.join("ready").is_file(), "corpus at {}", dir.display());
        dir
    })
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("readable").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else if e.file_name() != "ready" {
            fs::copy(&src, &dst).expect("copy");
        }
    }
}

/// Every file under `dir`, relative path → bytes.
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).expect("readable").flatten() {
            if e.path().is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(e.path()).expect("read"));
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn with_broken_archive(t: &Path) -> PathBuf {
    let root = t.join("corpus");
    copy_tree(corpus(), &root);
    // A valid incident.toml with no metrics: analysis fails at ingest.
    let broken = root.join("broken");
    fs::create_dir_all(&broken).expect("mkdir");
    fs::write(
        broken.join("incident.toml"),
        "[alert]\nentity = \"api\"\nmetric = \"latency_p99_ms\"\nfired_at = 2024-05-01T14:02:00Z\n",
    )
    .expect("write");
    root
}

#[test]
fn mine_flags_the_broken_archive_and_shards_merge_to_the_same_bytes() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = with_broken_archive(t.path());
    let single = t.path().join("single");
    let o = funnel(&[
        "mine",
        p(&root),
        "--out",
        p(&single),
        "--reports",
        "--jobs",
        "2",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failed incident exits 1\n{}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("failed: broken"),
        "{}",
        text(&o)
    );

    let rows = funnel::mine::table::read(&single).expect("mined tables read back");
    let ids: Vec<(&str, &str, &str)> = rows
        .incidents
        .iter()
        .map(|r| (r.id.as_str(), r.path.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("broken", "broken", "error"),
            ("live-rt-jitter", "live-rt-jitter-1", "ok"),
            ("redis-1", "2025/q4/redis-1", "ok")
        ]
    );
    let broken = &rows.incidents[0];
    assert!(
        broken
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("broken/metrics")),
        "{broken:?}"
    );
    assert_eq!(
        broken.alert_entity.as_deref(),
        Some("api"),
        "what incident.toml tells survives the failure"
    );
    let ok = &rows.incidents[1];
    assert!(
        ok.fired_at.is_some()
            && !ok.rules_fired.is_empty()
            && ok.version == env!("CARGO_PKG_VERSION"),
        "{ok:?}"
    );
    assert!(
        rows.hypotheses
            .iter()
            .any(|h| h.incident == "live-rt-jitter")
            && rows.hypotheses.iter().all(|h| h.incident != "broken")
    );
    let trends = fs::read_to_string(single.join("trends.md")).expect("trends.md");
    for section in [
        "## Root causes by kind over time",
        "## Recurring culprits",
        "## Rules that never fire",
        "## Most common elimination paths",
        "## Similar incidents",
        "## Failed incidents",
    ] {
        assert!(trends.contains(section), "{section} missing:\n{trends}");
    }
    assert!(single.join("charts/causes-over-time.svg").is_file());
    assert!(
        single
            .join("reports/live-rt-jitter/postmortem.md")
            .is_file()
    );
    assert!(!single.join("reports/broken").exists());

    let mut shards = Vec::new();
    for k in ["1/2", "2/2"] {
        let dir = t.path().join(format!("shard-{}", &k[..1]));
        let o = funnel(&[
            "mine",
            p(&root),
            "--out",
            p(&dir),
            "--reports",
            "--jobs",
            "1",
            "--shard",
            k,
        ]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
        shards.push(dir);
    }
    let n: usize = shards
        .iter()
        .map(|s| {
            funnel::mine::table::read(s)
                .expect("shard rows")
                .incidents
                .len()
        })
        .sum();
    assert_eq!(n, 3, "every incident in exactly one shard");
    let merged = t.path().join("merged");
    let o = funnel(&["merge", p(&shards[1]), p(&shards[0]), "--out", p(&merged)]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the merged run has a failed incident\n{}",
        text(&o)
    );
    let (a, b) = (files(&single), files(&merged));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between the unsharded run and the merged shards"
        );
    }
}

#[test]
fn check_passes_then_catches_a_changed_expectation() {
    let t = tempfile::tempdir().expect("tempdir");
    let junit = t.path().join("ci/check.xml");
    let o = funnel(&["check", p(corpus()), "--junit", p(&junit)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("2 passed, 0 failed"),
        "{}",
        text(&o)
    );
    let xml = fs::read_to_string(&junit).expect("junit written");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit");
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        2
    );
    assert!(!doc.descendants().any(|n| n.has_tag_name("failure")));

    // Expect "no root cause" from the seed incident: a regression for check to catch.
    let root = t.path().join("corpus");
    copy_tree(
        &corpus().join("live-rt-jitter-1"),
        &root.join("live-rt-jitter-1"),
    );
    let toml = root.join("live-rt-jitter-1/incident.toml");
    let spec = fs::read_to_string(&toml).expect("incident.toml");
    let at = spec
        .find("[expected]")
        .expect("the simulator writes [expected]");
    let rest = spec[at..].find("\n[").map_or(spec.len(), |i| at + i);
    fs::write(
        &toml,
        format!(
            "{}[expected]\nkind = \"none\"\n{}",
            &spec[..at],
            &spec[rest..]
        ),
    )
    .expect("write");
    let o = funnel(&["check", p(&root), "--junit", p(&junit)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("none (no root cause)") && out.contains("0 passed, 1 failed"),
        "{}",
        text(&o)
    );
    let xml = fs::read_to_string(&junit).expect("junit written");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit");
    let f = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure element");
    assert!(
        f.attribute("message")
            .is_some_and(|m| m.starts_with("expected none (no root cause), got ")),
        "{xml}"
    );
}

#[test]
fn check_exits_2_on_an_archive_it_cannot_analyse() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path().join("corpus");
    fs::create_dir_all(root.join("broken")).expect("mkdir");
    fs::write(root.join("broken/incident.toml"), "[alert]\nentity = \"api\"\nmetric = \"latency_p99_ms\"\nfired_at = 2024-05-01T14:02:00Z\n[expected]\nkind = \"redis\"\nculprit = \"redis:main\"\n").expect("write");
    let o = funnel(&["check", p(&root)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("error: broken/metrics"),
        "{}",
        text(&o)
    );
    let o = funnel(&["check", p(&t.path().join("nothing-here"))]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

//! Inputs the fuzzer crashed on (tests/fuzz-regressions/): each must now end in exit 2 naming
//! the broken file, never a panic.

use super::*;

/// Copies `from` into `to`, files only (the seed archive has no links).
fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let p = to.join(&rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("write");
    }
}

#[test]
fn every_fuzz_regression_is_an_input_error_naming_its_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fuzz-regressions")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    for case in cases {
        if case.join("run.csv").is_file() {
            import_case(&case, "wide-csv", "run.csv", &["--fault-row", "2"]);
            continue;
        }
        if case.join("ps").is_dir() {
            import_case(&case, "petshop", "ps", &[]);
            continue;
        }
        let t = tmp();
        let archive = t.path().join("a");
        copy_tree(Path::new(seed()), &archive);
        copy_tree(&case, &archive);
        let out = funnel()
            .args(["analyze"])
            .arg(&archive)
            .arg("--out")
            .arg(t.path().join("out"))
            .output()
            .expect("run funnel");
        let err = input_error(&out, &case);
        let (rel, _) = &tree(&case)[0];
        assert!(
            err.contains(&*archive.join(rel).to_string_lossy()),
            "{}: {err}",
            case.display()
        );
        assert!(!t.path().join("out").exists(), "{}", case.display());
    }
}

/// The stderr of a run that must end as bad input: exit 2, no panic.
fn input_error(out: &std::process::Output, case: &Path) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{}: {err}", case.display());
    assert!(!err.contains("panicked"), "{}: {err}", case.display());
    err
}

/// An importer's input (`src` inside the case folder) imported with `args`.
fn import_case(case: &Path, format: &str, src: &str, args: &[&str]) {
    let t = tmp();
    let out = funnel()
        .args(["import", format])
        .arg(case.join(src))
        .args(args)
        .arg("--out")
        .arg(t.path().join("out"))
        .output()
        .expect("run funnel");
    let err = input_error(&out, case);
    assert!(err.contains(src), "{}: {err}", case.display());
    // The import root may exist; no archive may be in it.
    let written = std::fs::read_dir(t.path().join("out")).map_or(0, Iterator::count);
    assert_eq!(written, 0, "{}", case.display());
}

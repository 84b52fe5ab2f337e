//! The README's example is generated: its quoted summary and funnel excerpt must equal what
//! `funnel analyze` writes for the bundled incident. After a change that moves them,
//! regenerate with `FUNNEL_BLESS=1 cargo test --test cli readme`.

use super::*;

const START: &str =
    "<!-- readme-example:start (generated: FUNNEL_BLESS=1 cargo test --test cli readme) -->";
const END: &str = "<!-- readme-example:end -->";

/// The section of a postmortem under `heading`, up to the next `## `.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    md.split(&format!("\n{heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {heading}"))
        .split("\n## ")
        .next()
        .unwrap_or("")
}

/// The summary as a quote, and the funnel rows a reader should see first: the supported
/// hypotheses, the eliminated storage (the red herrings), and the first node and network rows.
fn excerpt(md: &str) -> String {
    let summary = section(md, "## Summary").trim();
    let table: Vec<&str> = section(md, "## The funnel")
        .lines()
        .filter(|l| l.starts_with('|'))
        .collect();
    let mut out = format!("> {summary}\n\n{}\n{}\n", table[0], table[1]);
    let mut seen = Vec::new();
    for row in &table[2..] {
        let layer = row.split('|').nth(1).unwrap_or("").trim().to_string();
        let keep = row.contains("**supported**")
            || matches!(layer.as_str(), "mysql" | "redis")
            || (matches!(layer.as_str(), "node" | "network") && !seen.contains(&layer));
        if keep {
            out.push_str(row);
            out.push('\n');
            seen.push(layer);
        }
    }
    out
}

#[test]
fn readme_example_is_what_analyze_writes() {
    let dir = tmp();
    let o = funnel()
        .args(["analyze", seed(), "--out"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fresh = excerpt(&read(&dir.path().join("postmortem.md")));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = read(&path);
    let (head, rest) = readme
        .split_once(START)
        .expect("README has the start marker");
    let (old, tail) = rest.split_once(END).expect("README has the end marker");
    let old = old.trim_start_matches('\n');
    if std::env::var_os("FUNNEL_BLESS").is_some() {
        std::fs::write(&path, format!("{head}{START}\n{fresh}{END}{tail}")).expect("write README");
        return;
    }
    assert!(
        old == fresh,
        "README.md's example differs from what `funnel analyze` writes; regenerate it with \
         `FUNNEL_BLESS=1 cargo test --test cli readme`.\n--- README\n{old}\n--- analyze\n{fresh}"
    );
}

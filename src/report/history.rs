//! "Seen before": earlier incidents of a `funnel mine` output with the same root cause (kind
//! and culprit) or a configuration finding on the same entity, so the review can ask why the
//! last action items did not prevent this one.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::mine::rows::{IncidentRow, Rows};
use crate::mine::{report_names, table};
use crate::model::fmt_ms;
use crate::pipeline::Analysis;

/// Earlier incidents listed, at most (most recent first).
const SHOWN: usize = 10;

/// A mined history and where it lives.
#[derive(Debug, Clone)]
pub struct History {
    /// The mined rows.
    pub rows: Rows,
    /// The `funnel mine` output folder.
    pub dir: PathBuf,
}

impl History {
    /// Reads `dir/incidents.parquet` (and its hypotheses).
    ///
    /// # Errors
    /// The folder holds no readable `funnel mine` output.
    pub fn load(dir: &Path) -> Result<History, crate::mine::Error> {
        Ok(History {
            rows: table::read(dir)?,
            dir: dir.to_path_buf(),
        })
    }
}

/// What the current incident is matched on.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// Incident id (never matched with itself).
    pub id: String,
    /// Alert time, epoch ms: only incidents that fired before it are "before".
    pub fired_at: i64,
    /// Root-cause kind and culprit.
    pub root_cause: Option<(String, String)>,
    /// Entities with a configuration finding.
    pub config: Vec<String>,
}

impl Key {
    /// The key of an analysis.
    #[must_use]
    pub fn of(an: &Analysis) -> Key {
        let v = &an.verdict;
        let mut config: Vec<String> = v
            .findings
            .iter()
            .filter(|f| f.kind == "configuration")
            .map(|f| f.entity.clone())
            .collect();
        config.sort();
        config.dedup();
        Key {
            id: an.ctx.id.clone(),
            fired_at: an.ctx.windows.fired_at,
            root_cause: v
                .root_cause
                .as_ref()
                .map(|r| (r.kind.as_str().to_string(), r.culprit.clone())),
            config,
        }
    }
}

/// Why an earlier row matches the key, or None.
fn reasons(r: &IncidentRow, key: &Key) -> Option<Vec<String>> {
    if r.failed() || r.id == key.id || r.fired_at.is_none_or(|t| t >= key.fired_at) {
        return None;
    }
    let mut why = Vec::new();
    if let (Some((k, c)), Some(rk), Some(rc)) =
        (&key.root_cause, &r.root_cause_kind, &r.root_cause_culprit)
    {
        if k == rk && c == rc {
            why.push(format!("same root cause: {k} `{c}`"));
        }
    }
    let theirs: Vec<&str> = r
        .config_findings
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    for e in key.config.iter().filter(|e| theirs.contains(&e.as_str())) {
        why.push(format!("same configuration finding on `{e}`"));
    }
    (!why.is_empty()).then_some(why)
}

/// Indices of the earlier rows that match, most recent first (ties by id), with the reasons.
#[must_use]
pub fn matches(rows: &[IncidentRow], key: &Key) -> Vec<(usize, Vec<String>)> {
    let mut m: Vec<(usize, Vec<String>)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| reasons(r, key).map(|w| (i, w)))
        .collect();
    m.sort_by(|a, b| {
        let (ra, rb) = (&rows[a.0], &rows[b.0]);
        rb.fired_at.cmp(&ra.fired_at).then(ra.id.cmp(&rb.id))
    });
    m
}

/// `to` relative to the folder `from`, for a markdown link; None when one cannot be made
/// (different roots), in which case the caller shows the plain path.
fn relative(from: &Path, to: &Path) -> Option<String> {
    let (from, to) = (from.canonicalize().ok()?, to.canonicalize().ok()?);
    let (f, t): (Vec<Component>, Vec<Component>) =
        (from.components().collect(), to.components().collect());
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut parts: Vec<String> = vec!["..".into(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Some(parts.join("/"))
}

/// The "Seen before" section for the report written into `out`.
#[must_use]
pub fn section(h: &History, an: &Analysis, out: &Path) -> String {
    let rows = &h.rows.incidents;
    let key = Key::of(an);
    let found = matches(rows, &key);
    let mut md = String::from("## Seen before\n\n");
    if found.is_empty() {
        let _ = writeln!(
            md,
            "No earlier incident among the {} in `{}` had the same root cause or configuration finding.\n",
            rows.len(),
            h.dir.display()
        );
        return md;
    }
    let names = report_names(rows.iter().map(|r| (r.id.as_str(), r.path.as_str())));
    let _ = writeln!(
        md,
        "{} in `{}` {}{}:\n\n| Date (UTC) | Incident | Verdict | Why it matches |\n|---|---|---|---|",
        if found.len() == 1 {
            "1 earlier incident".to_string()
        } else {
            format!("{} earlier incidents", found.len())
        },
        h.dir.display(),
        if found.len() == 1 { "matches" } else { "match" },
        if found.len() > SHOWN {
            format!(" (the {SHOWN} most recent shown)")
        } else {
            String::new()
        }
    );
    for (i, why) in found.iter().take(SHOWN) {
        let r = &rows[*i];
        let report = h.dir.join("reports").join(&names[*i]).join("postmortem.md");
        let link = report
            .is_file()
            .then(|| relative(out, &report))
            .flatten()
            .map_or_else(
                || format!("`{}` (archive `{}`)", r.id, r.path),
                |l| format!("[`{}`]({l})", r.id),
            );
        let verdict = match (&r.root_cause_kind, &r.root_cause_culprit) {
            (Some(k), Some(c)) => format!("{k} `{c}`"),
            _ => "no root cause".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {link} | {verdict} | {} |",
            r.fired_at
                .map_or_else(String::new, |t| fmt_ms(t, "%Y-%m-%d %H:%M")),
            why.join("; ")
        );
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::{Key, matches, relative};
    use crate::mine::rows::{IncidentRow, OK};

    fn row(id: &str, at: i64, rc: Option<(&str, &str)>, config: &str) -> IncidentRow {
        let mut r = IncidentRow::failure(id, &format!("corpus/{id}"), None, String::new());
        r.status = OK.into();
        r.error = None;
        r.fired_at = Some(at);
        r.root_cause_kind = rc.map(|x| x.0.into());
        r.root_cause_culprit = rc.map(|x| x.1.into());
        r.config_findings = config.into();
        r
    }

    fn key() -> Key {
        Key {
            id: "now".into(),
            fired_at: 1000,
            root_cause: Some(("sidecar".into(), "live-api".into())),
            config: vec!["live-api".into()],
        }
    }

    #[test]
    fn only_earlier_incidents_with_the_same_cause_or_configuration() {
        let rows = [
            row("older", 100, Some(("sidecar", "live-api")), ""),
            row(
                "config",
                500,
                Some(("traffic-spike", "live-api")),
                "chat-api,live-api",
            ),
            row("other-culprit", 600, Some(("sidecar", "chat-api")), ""),
            row("later", 2000, Some(("sidecar", "live-api")), ""),
            row("now", 1000, Some(("sidecar", "live-api")), "live-api"),
            row("none", 700, None, ""),
        ];
        let m = matches(&rows, &key());
        let ids: Vec<&str> = m.iter().map(|(i, _)| rows[*i].id.as_str()).collect();
        assert_eq!(ids, ["config", "older"], "most recent first");
        assert_eq!(m[0].1, ["same configuration finding on `live-api`"]);
        assert_eq!(m[1].1, ["same root cause: sidecar `live-api`"]);
    }

    #[test]
    fn failed_rows_never_match() {
        let mut r = row("broken", 100, Some(("sidecar", "live-api")), "");
        r.status = crate::mine::rows::ERROR.into();
        assert!(matches(&[r], &key()).is_empty());
    }

    #[test]
    fn links_are_relative_to_the_report() {
        let d = tempfile::tempdir().unwrap();
        let (out, rep) = (d.path().join("out"), d.path().join("mined/reports/a"));
        std::fs::create_dir_all(&out).unwrap();
        std::fs::create_dir_all(&rep).unwrap();
        std::fs::write(rep.join("postmortem.md"), "x").unwrap();
        assert_eq!(
            relative(&out, &rep.join("postmortem.md")).as_deref(),
            Some("../mined/reports/a/postmortem.md")
        );
    }
}

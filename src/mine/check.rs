//! `funnel check`'s judgement: each incident's verdict against its `[expected]` table, and the
//! JUnit XML that CI systems display natively. Pure functions of the rows; the CLI prints.

use std::fmt::Write as _;

use super::rows::IncidentRow;

/// The result of one incident.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The verdict matches `[expected]`.
    Pass,
    /// It does not.
    Fail {
        /// What `[expected]` asks for.
        expected: String,
        /// What the verdict says.
        got: String,
    },
    /// The archive could not be analysed (an input error, not a regression).
    Error(String),
}

/// One checked incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Incident id.
    pub id: String,
    /// Archive path relative to the root.
    pub path: String,
    /// The result.
    pub outcome: Outcome,
}

fn describe(kind: Option<&str>, culprit: Option<&str>) -> String {
    match kind {
        None | Some("none") => "none (no root cause)".into(),
        Some("any") => format!("any kind, culprit {}", culprit.unwrap_or("")),
        Some(k) => format!("{k} {}", culprit.unwrap_or(""))
            .trim_end()
            .to_string(),
    }
}

/// Judges one row; None when it has no `[expected]` table. A failed analysis of an archive
/// without a readable `[expected]` still counts, as an error: a broken archive in a regression
/// corpus must not pass silently.
#[must_use]
pub fn judge(r: &IncidentRow) -> Option<Case> {
    let case = |outcome| {
        Some(Case {
            id: r.id.clone(),
            path: r.path.clone(),
            outcome,
        })
    };
    if r.failed() {
        return case(Outcome::Error(r.error.clone().unwrap_or_default()));
    }
    let kind = r.expected_kind.as_deref()?;
    let matches = if kind == "none" {
        r.root_cause_kind.is_none()
    } else if kind == "any" {
        r.root_cause_kind.is_some()
            && r.root_cause_culprit.as_deref() == r.expected_culprit.as_deref()
    } else {
        r.root_cause_kind.as_deref() == Some(kind)
            && r.root_cause_culprit.as_deref() == r.expected_culprit.as_deref()
    };
    if matches {
        return case(Outcome::Pass);
    }
    case(Outcome::Fail {
        expected: describe(Some(kind), r.expected_culprit.as_deref()),
        got: describe(
            r.root_cause_kind.as_deref(),
            r.root_cause_culprit.as_deref(),
        ),
    })
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold.
#[must_use]
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test suite, one test case per checked incident.
#[must_use]
pub fn junit(cases: &[Case]) -> String {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail { .. }))
        .count();
    let errors = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Error(_)))
        .count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"funnel check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        cases.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"funnel check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">",
        cases.len()
    );
    for c in cases {
        let _ = write!(
            x,
            "    <testcase classname=\"funnel.check\" name=\"{}\" file=\"{}\"",
            xml_escape(&c.id),
            xml_escape(&c.path)
        );
        match &c.outcome {
            Outcome::Pass => x.push_str("/>\n"),
            Outcome::Fail { expected, got } => {
                let msg = xml_escape(&format!("expected {expected}, got {got}"));
                let _ = writeln!(
                    x,
                    ">\n      <failure type=\"verdict-mismatch\" message=\"{msg}\">expected: {}\ngot:      {}</failure>\n    </testcase>",
                    xml_escape(expected),
                    xml_escape(got)
                );
            }
            Outcome::Error(e) => {
                let e = xml_escape(e);
                let _ = writeln!(
                    x,
                    ">\n      <error type=\"input-error\" message=\"{e}\">{e}</error>\n    </testcase>"
                );
            }
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mine::rows::OK;

    fn row(id: &str, expected: Option<(&str, &str)>, got: Option<(&str, &str)>) -> IncidentRow {
        let mut r = IncidentRow::failure(id, &format!("corpus/{id}"), None, String::new());
        (r.status, r.error) = (OK.into(), None);
        r.expected_kind = expected.map(|e| e.0.into());
        r.expected_culprit = expected.map(|e| e.1.into());
        r.root_cause_kind = got.map(|g| g.0.into());
        r.root_cause_culprit = got.map(|g| g.1.into());
        r
    }

    #[test]
    fn judges_kind_culprit_and_none() {
        assert_eq!(
            judge(&row(
                "a",
                Some(("redis", "redis:main")),
                Some(("redis", "redis:main"))
            ))
            .map(|c| c.outcome),
            Some(Outcome::Pass)
        );
        assert_eq!(
            judge(&row("b", Some(("none", "")), None)).map(|c| c.outcome),
            Some(Outcome::Pass)
        );
        assert_eq!(
            judge(&row(
                "c",
                Some(("redis", "redis:main")),
                Some(("redis", "redis:other"))
            ))
            .map(|c| c.outcome),
            Some(Outcome::Fail {
                expected: "redis redis:main".into(),
                got: "redis redis:other".into()
            })
        );
        assert_eq!(
            judge(&row("d", Some(("none", "")), Some(("pod", "p-1")))).map(|c| c.outcome),
            Some(Outcome::Fail {
                expected: "none (no root cause)".into(),
                got: "pod p-1".into()
            })
        );
        assert_eq!(judge(&row("e", None, Some(("pod", "p-1")))), None);
        let broken = IncidentRow::failure("f", "f", None, "bad".into());
        assert_eq!(
            judge(&broken).map(|c| c.outcome),
            Some(Outcome::Error("bad".into()))
        );
    }

    #[test]
    fn any_compares_the_culprit_only() {
        assert_eq!(
            judge(&row(
                "a",
                Some(("any", "cart")),
                Some(("code-change", "cart"))
            ))
            .map(|c| c.outcome),
            Some(Outcome::Pass)
        );
        assert_eq!(
            judge(&row(
                "b",
                Some(("any", "cart")),
                Some(("cpu-saturation", "orders"))
            ))
            .map(|c| c.outcome),
            Some(Outcome::Fail {
                expected: "any kind, culprit cart".into(),
                got: "cpu-saturation orders".into()
            })
        );
        assert_eq!(
            judge(&row("c", Some(("any", "cart")), None)).map(|c| c.outcome),
            Some(Outcome::Fail {
                expected: "any kind, culprit cart".into(),
                got: "none (no root cause)".into()
            })
        );
    }

    #[test]
    fn junit_escapes_and_parses() {
        let cases = vec![
            Case {
                id: "a<&>\"'".into(),
                path: "p".into(),
                outcome: Outcome::Pass,
            },
            Case {
                id: "b".into(),
                path: "q".into(),
                outcome: Outcome::Fail {
                    expected: "redis <x>".into(),
                    got: "none & \"nothing\"".into(),
                },
            },
            Case {
                id: "c".into(),
                path: "r".into(),
                outcome: Outcome::Error("bad\u{1}byte & <tag>".into()),
            },
        ];
        let x = junit(&cases);
        assert!(x.contains("name=\"a&lt;&amp;&gt;&quot;&apos;\""), "{x}");
        let doc = roxmltree::Document::parse(&x).unwrap();
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(
            (
                suite.attribute("tests"),
                suite.attribute("failures"),
                suite.attribute("errors")
            ),
            (Some("3"), Some("1"), Some("1"))
        );
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases[0].attribute("name"), Some("a<&>\"'"));
        let f = cases[1]
            .children()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            f.attribute("message"),
            Some("expected redis <x>, got none & \"nothing\"")
        );
        let e = cases[2]
            .children()
            .find(|n| n.has_tag_name("error"))
            .unwrap();
        assert_eq!(e.text(), Some("badbyte & <tag>"));
    }

    #[test]
    fn xml_escape_drops_control_characters() {
        assert_eq!(xml_escape("a\u{0}b\u{1b}c\td"), "abc\td");
    }
}

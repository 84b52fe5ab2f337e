//! The coverage section's account of what missing or coarse data cost: one line per input the
//! archive lacks or holds coarsely, from the verdict's record (see
//! [`crate::verdict::coverage`]). Pure: costs in, markdown out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::rules::Input;
use crate::verdict::coverage::Cost;

fn label(input: Input) -> &'static str {
    match input {
        Input::Topology => "No topology",
        Input::Limits => "No resource limits",
        Input::Logs => "No logs",
        Input::Traces => "No traces",
        Input::Events => "No events",
        Input::Collectors => "One collector only",
        Input::Step => "Coarse step",
        Input::Baseline => "Short baseline",
    }
}

/// Names shown before "and N more": a reader in a review wants the scale and an example, not
/// every candidate (the verdict.json `coverage` field keeps them all).
const SHOWN: usize = 3;

/// `a`, `b`, `c` and 9 more.
fn some(names: &[&str]) -> String {
    // "and 1 more" would take the room of the name.
    let take = if names.len() <= SHOWN + 1 {
        names.len()
    } else {
        SHOWN
    };
    let shown: Vec<String> = names.iter().take(take).map(|n| format!("`{n}`")).collect();
    match names.len() - take {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// `kind culprit` items grouped by kind: "code-change (12: `a`, `b`, `c` and 9 more)".
fn by_kind(items: &[String]) -> String {
    let mut kinds: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for h in items {
        let (kind, culprit) = h.split_once(' ').unwrap_or(("", h));
        kinds.entry(kind).or_default().push(culprit);
    }
    kinds
        .iter()
        .map(|(kind, culprits)| match culprits.len() {
            1 => format!("{kind} {}", some(culprits)),
            n => format!("{kind} ({n}: {})", some(culprits)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per cost.
#[must_use]
pub fn line(c: &Cost) -> String {
    let mut parts = Vec::new();
    if !c.checks.is_empty() {
        let mut by_rule: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for ch in &c.checks {
            by_rule
                .entry(ch.rule)
                .or_default()
                .push(format!("{} {}", ch.kind, ch.culprit));
        }
        let rules: Vec<String> = by_rule
            .iter()
            .map(|(r, hs)| format!("`{r}` on {}", by_kind(hs)))
            .collect();
        parts.push(format!(
            "{} rule check{} could not run ({})",
            c.checks.len(),
            if c.checks.len() == 1 { "" } else { "s" },
            rules.join("; ")
        ));
    }
    if !c.untestable.is_empty() {
        parts.push(format!("no rule could decide {}", by_kind(&c.untestable)));
    }
    if !c.inconclusive.is_empty() {
        parts.push(format!("left inconclusive: {}", by_kind(&c.inconclusive)));
    }
    parts.extend(c.limits.iter().cloned());
    if parts.is_empty() {
        parts.push("no rule needed it for this incident's hypotheses".into());
    }
    format!(
        "**{}** ({}): {}.",
        label(c.input),
        c.state,
        parts.join("; ")
    )
}

/// The costs as a list under the section's heading, when there are any.
pub fn costs(md: &mut String, costs: &[Cost]) {
    if costs.is_empty() {
        return;
    }
    let _ = writeln!(md, "What missing or coarse data cost this analysis:\n");
    for c in costs {
        let _ = writeln!(md, "- {}", line(c));
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
    use crate::verdict::coverage::Check;

    #[test]
    fn a_cost_names_its_checks_hypotheses_and_limits() {
        let c = Cost {
            input: Input::Limits,
            state: "no container limits".into(),
            checks: vec![Check {
                rule: "app-cpu-below-limit",
                kind: Kind::CpuSaturation,
                culprit: "carts".into(),
                outcome: "not testable: no app CPU usage or limit for carts".into(),
            }],
            untestable: vec!["cpu-saturation carts".into()],
            inconclusive: Vec::new(),
            limits: Vec::new(),
        };
        insta::assert_snapshot!(line(&c), @"**No resource limits** (no container limits): 1 rule check could not run (`app-cpu-below-limit` on cpu-saturation `carts`); no rule could decide cpu-saturation `carts`.");
        let none = Cost {
            input: Input::Events,
            state: "no events".into(),
            checks: Vec::new(),
            untestable: Vec::new(),
            inconclusive: Vec::new(),
            limits: Vec::new(),
        };
        assert!(line(&none).ends_with("no rule needed it for this incident's hypotheses."));
    }

    #[test]
    fn many_candidates_read_as_a_count_and_examples_per_kind() {
        let items: Vec<String> = [
            "code-change a",
            "code-change b",
            "code-change c",
            "code-change d",
            "code-change e",
        ]
        .iter()
        .chain(&["third-party http:x"])
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            by_kind(&items),
            "code-change (5: `a`, `b`, `c` and 2 more), third-party `http:x`"
        );
    }
}

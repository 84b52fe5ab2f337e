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

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|h| match h.split_once(' ') {
            Some((kind, culprit)) => format!("{kind} `{culprit}`"),
            None => format!("`{h}`"),
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
            .map(|(r, hs)| format!("`{r}` on {}", list(hs)))
            .collect();
        parts.push(format!(
            "{} rule check{} could not test {} hypothesis ({})",
            c.checks.len(),
            if c.checks.len() == 1 { "" } else { "s" },
            if c.checks.len() == 1 { "its" } else { "their" },
            rules.join("; ")
        ));
    }
    if !c.untestable.is_empty() {
        parts.push(format!("no rule could decide {}", list(&c.untestable)));
    }
    if !c.inconclusive.is_empty() {
        parts.push(format!("left inconclusive: {}", list(&c.inconclusive)));
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
        insta::assert_snapshot!(line(&c), @"**No resource limits** (no container limits): 1 rule check could not test its hypothesis (`app-cpu-below-limit` on cpu-saturation `carts`); no rule could decide cpu-saturation `carts`.");
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
}

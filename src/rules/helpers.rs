//! What several rules share: the change-event and failover vocabularies with their
//! look-backs, and how a log template is quoted as evidence. Rules import these from here,
//! never from each other, so a rule file stays readable and removable on its own.

use super::Outcome;
use crate::evidence::Context;
use crate::logs::TemplateStat;
use crate::model::EventRow;

/// Event kinds that change what a service runs: new code, a new image, new configuration.
pub(crate) const CHANGE_KINDS: [&str; 5] = ["deploy", "rollout", "release", "config", "image"];

/// The change kinds that put a new build in front of traffic (no configuration change): what
/// a new error template after a deploy is blamed on.
pub(crate) const ROLLOUT_KINDS: [&str; 3] = ["deploy", "rollout", "release"];

/// How long before the onset a change is still a suspect.
pub(crate) const CHANGE_LOOKBACK_MS: i64 = 2 * 3_600_000;

/// How long before the incident window opens a failover record is still looked at (by the
/// failover rule and when hypotheses are listed).
pub(crate) const FAILOVER_LOOKBACK_MS: i64 = 30 * crate::model::MINUTE_MS;

/// Whether an event records an HA failover: by its kind, or by the words in its detail.
pub(crate) fn is_failover(kind: &str, detail: Option<&str>) -> bool {
    let words = ["failover", "switchover", "promote", "promotion"];
    words.contains(&kind)
        || detail.is_some_and(|d| words.iter().any(|w| d.to_ascii_lowercase().contains(w)))
}

/// The last deploy or configuration change of `svc` in the lookback before the onset (or in
/// the onset's own bucket).
pub(crate) fn last_change<'a>(ctx: &'a Context, svc: &'a str) -> Option<&'a EventRow> {
    let onset = ctx.time(ctx.onset());
    ctx.events_of(
        svc,
        onset - CHANGE_LOOKBACK_MS,
        onset + ctx.aligned.grid.step + 1,
    )
    .filter(|e| CHANGE_KINDS.contains(&e.kind.as_str()))
    .last()
}

/// A container pinned at its limit through the baseline as well: a standing condition, not
/// what changed at the onset. More load cannot be what it adds either: a container held at its
/// quota cannot serve more requests without more CPU, so served requests that rose say the
/// limit was not what bound it. `head` states the saturation.
pub(crate) fn limit_already_reached(rule: &'static str, head: &str) -> Outcome {
    Outcome::inconclusive(
        rule,
        format!(
            "{head}, but pinned through the baseline as well: a standing condition, not what changed at the onset"
        ),
    )
}

/// A log template as evidence: its first 80 characters, its count in the incident, and
/// whether it is new.
pub(crate) fn describe_template(t: &TemplateStat) -> String {
    let tpl: String = t.template.chars().take(80).collect();
    format!(
        "`{tpl}` ×{}{}",
        t.incident,
        if t.new { " (new)" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failovers_are_recognised_by_kind_or_detail() {
        assert!(is_failover("failover", None));
        assert!(is_failover("event", Some("Sentinel PROMOTED replica")));
        assert!(!is_failover("deploy", Some("v1.2 -> v1.3")));
    }

    #[test]
    fn rollouts_are_changes() {
        assert!(ROLLOUT_KINDS.iter().all(|k| CHANGE_KINDS.contains(k)));
    }
}

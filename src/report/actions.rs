//! Action items: type, priority, an owner placeholder and a "done when" check for each, with
//! the sizing numbers where the data gives them.

use std::fmt::Write as _;

use super::condition::sizing;
use super::narrative::hms;
use super::remediation::{self, Action};
use crate::evidence::Context;
use crate::evidence::sources::{fmt_val, metric_label};
use crate::verdict::Verdict;

/// One action item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Type.
    pub action: Action,
    /// P0 (now) to P2 (this quarter).
    pub priority: &'static str,
    /// What to do.
    pub text: String,
    /// The check that closes it.
    pub done_when: String,
}

fn priority(a: Action) -> &'static str {
    match a {
        Action::Mitigate => "P0",
        Action::Prevent | Action::Detect => "P1",
        Action::Process => "P2",
    }
}

/// The items, mitigate first, without two items saying the same thing.
#[must_use]
pub fn items(ctx: &Context, v: &Verdict) -> Vec<Item> {
    let mut raw: Vec<(Action, String)> = Vec::new();
    if let Some(rc) = &v.root_cause {
        raw.extend(remediation::for_root_cause(rc.kind, &rc.culprit));
    } else {
        raw.push((Action::Mitigate, "Work the surviving hypotheses above, best first; collect the data listed under What we don't know and rerun the analysis.".into()));
    }
    if let Some(t) = &v.trigger {
        raw.extend(remediation::for_trigger(t.kind, &t.culprit));
    }
    raw.extend(remediation::for_findings(&v.findings));
    raw.sort_by_key(|i| i.0);
    raw.dedup();
    let size = sizing(ctx, v);
    let alert = ctx.aliased(&ctx.spec.alert.metric).to_string();
    let threshold = v
        .timing(ctx)
        .onset
        .map(|o| fmt_val(&alert, o.threshold))
        .unwrap_or_else(|| "its baseline".into());
    raw.into_iter()
        .map(|(action, mut text)| {
            if let (Action::Mitigate, Some(s)) = (action, &size) {
                let _ = write!(
                    text,
                    " Sized from this incident: {:.1} cores per pod for twice the observed peak, or {} pods at the current {:.1}-core limit.",
                    s.limit_for_2x, s.replicas_for_2x, s.limit
                );
            }
            let done_when = match action {
                Action::Mitigate => format!(
                    "`{}`'s {} stays below {} at the traffic of this incident's peak",
                    ctx.spec.alert.entity,
                    metric_label(&alert),
                    threshold
                ),
                Action::Prevent => "a load test at twice this incident's peak passes without the alert firing".into(),
                Action::Detect => format!(
                    "replaying this incident's data fires the new alert before {} UTC (the original alert)",
                    hms(ctx.windows.fired_at)
                ),
                Action::Process => "the change template carries the check and one review has used it".into(),
            };
            Item {
                action,
                priority: priority(action),
                text,
                done_when,
            }
        })
        .collect()
}

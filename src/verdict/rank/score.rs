//! One entity's culprit score: the facts every entity is scored against, gathered once per
//! ranking, and how an entity's own anomaly, its neighbours', its logs and its standout
//! combine into its score and kind.

use std::collections::{BTreeMap, BTreeSet};

use super::reason::{Parts, reason};
use super::{
    Anomaly, CulpritScore, LATE, alert_correlation, changed, kind_for, late_movers, log_fall,
    log_surge, own_anomaly, reachable, resource_kind, seen_only_through, standout,
};
use crate::evidence::Context;
use crate::model::Kind;

/// What every entity's score is computed against, gathered once per ranking.
pub(super) struct Shared<'a> {
    /// Own anomaly per entity, as evidence that a fault started there.
    own: Anomaly,
    /// Own anomaly per entity, as what its callers feel of it.
    felt: Anomaly,
    from_alert: BTreeSet<String>,
    has_graph: bool,
    logs: BTreeMap<&'a str, f64>,
    falls: BTreeMap<&'a str, f64>,
    singular: BTreeMap<String, standout::Standout>,
    /// How much the metric part counts, 0.3..1: less the more entities look anomalous.
    metric_weight: f64,
    late: BTreeSet<String>,
}

impl<'a> Shared<'a> {
    pub(super) fn gather(ctx: &'a Context) -> Self {
        let (own, felt) = own_anomaly(ctx);
        let alert_entity = ctx.spec.alert.entity.as_str();
        // Evidence every entity shares does not tell them apart: when most entities with data
        // look fully anomalous on their metrics (noisy p99s against a short baseline, or a
        // cause that touches everything), the metric part of each score counts for less, and
        // what only some entities show (their logs, a signal they alone move on) decides.
        let saturated =
            felt.values().filter(|x| x.0 >= 0.9).count() as f64 / (felt.len().max(1) as f64);
        Shared {
            from_alert: reachable(ctx, alert_entity),
            has_graph: !ctx.topo.deps.is_empty(),
            logs: log_surge(ctx),
            falls: log_fall(ctx),
            singular: standout::margins(&standout::signals(ctx)),
            metric_weight: 1.0 - 0.7 * saturated,
            late: late_movers(ctx),
            own,
            felt,
        }
    }

    /// What callers feel of `e`'s anomaly, 0..1.
    fn felt(&self, e: &str) -> f64 {
        self.felt.get(e).map_or(0.0, |x| x.0)
    }
}

/// `e`'s score, or None when nothing about it moved.
pub(super) fn score(ctx: &Context, sh: &Shared<'_>, e: &String) -> Option<CulpritScore> {
    let (mine, metric) = sh
        .own
        .get(e)
        .map_or((0.0, String::new()), |x| (x.0, x.1.clone()));
    let (l, f) = log_parts(ctx, sh, e);
    let (so, so_signal) = standout_part(ctx, sh, e);
    if mine <= 0.0 && l <= 0.0 && f <= 0.0 && so <= 0.0 {
        return None;
    }
    let (callees, callers) = felt_around(ctx, sh, e);
    let origin = explained(mine, callees);
    let spread = if ctx.topo.users_of(e).is_empty() {
        0.9
    } else {
        0.8 + 0.2 * callers
    };
    let reach = if !sh.has_graph || sh.from_alert.contains(e.as_str()) {
        1.0
    } else {
        0.7
    } * if sh.late.contains(e.as_str()) {
        LATE
    } else {
        1.0
    };
    // Without an alert series the correlation tells no entity from another: it drops out.
    let corr = alert_correlation(ctx, e).unwrap_or(1.0);
    let metrics = mine * origin * spread * reach * (0.2 + 0.8 * corr) * sh.metric_weight;
    let singular = so * reach;
    // The standout is not one more independent vote: it restates, more sharply, anomalies
    // the other parts already saw. It lifts an entity to its own level, no higher.
    let score =
        (1.0 - (1.0 - metrics) * (1.0 - 0.7 * l * reach) * (1.0 - 0.7 * f * reach)).max(singular);
    let kind = if singular > metrics {
        kind_for(e, so_signal)
    } else {
        kind_for(e, &metric)
    };
    // Without a recorded change, a CPU or memory series that left its baseline names the kind
    // before new log templates do: a service in trouble for any reason logs its failures.
    let kind = if kind == Kind::CodeChange && !changed(ctx, e) {
        resource_kind(ctx, e).unwrap_or(kind)
    } else {
        kind
    };
    let parts = Parts {
        metrics,
        metric: &metric,
        inherited: callees >= mine,
        logs: 0.7 * l * reach,
        fall: 0.7 * f * reach,
        standout: singular,
        signal: so_signal,
    };
    Some(CulpritScore {
        culprit: e.clone(),
        kind,
        score,
        own: mine,
        callees,
        alert: corr,
        logs: l,
        fall: f,
        standout: so,
        reason: reason(&parts),
    })
}

/// The strongest anomaly `e`'s callees show (leaving out those seen only through `e`), and
/// the strongest its callers show: (callees, callers).
fn felt_around(ctx: &Context, sh: &Shared<'_>, e: &str) -> (f64, f64) {
    let callees = ctx
        .topo
        .deps_of(e)
        .into_iter()
        .filter(|c| !seen_only_through(ctx, c, e))
        .map(|c| sh.felt(c))
        .fold(0.0, f64::max);
    let callers = ctx
        .topo
        .users_of(e)
        .into_iter()
        .map(|c| sh.felt(c))
        .fold(0.0, f64::max);
    (callees, callers)
}

/// `e`'s log surge and log fall, less what a neighbour's explains: (surge, fall).
fn log_parts(ctx: &Context, sh: &Shared<'_>, e: &str) -> (f64, f64) {
    let strongest = |of: Vec<&str>, m: &BTreeMap<&str, f64>| {
        of.into_iter()
            .filter_map(|c| m.get(c).copied())
            .fold(0.0, f64::max)
    };
    // Errors travel to callers the way latency does: a callee logging as much trouble
    // explains this entity's new errors (the same discount as `origin` in `score`).
    let own_logs = sh.logs.get(e).copied().unwrap_or(0.0);
    let l = own_logs * explained(own_logs, strongest(ctx.topo.deps_of(e), &sh.logs));
    // A caller whose own code path broke sends this entity another mix of requests, so
    // its log statements fall too: a caller falling as far explains this entity's fall.
    let own_fall = sh.falls.get(e).copied().unwrap_or(0.0);
    let f = own_fall * explained(own_fall, strongest(ctx.topo.users_of(e), &sh.falls));
    (l, f)
}

/// `e`'s standout margin and the signal it stands out on ("" when none).
fn standout_part<'s>(ctx: &Context, sh: &'s Shared<'_>, e: &str) -> (f64, &'s str) {
    let (mut so, so_signal) = sh
        .singular
        .get(e)
        .map_or((0.0, ""), |s| (s.margin, s.signal.as_str()));
    if so_signal == standout::LOG_MIX {
        // A service logs what its callers ask of it: when a caller stands out on a metric
        // (its calls into this service slowed or stopped), this service's mix of log lines
        // changes with the requests, which is an effect, not a fault of its own.
        let caller = ctx
            .topo
            .users_of(e)
            .into_iter()
            .filter_map(|c| sh.singular.get(c))
            .filter(|s| s.signal != standout::LOG_MIX)
            .map(|s| s.margin)
            .fold(0.0, f64::max);
        so *= 1.0 - caller;
    }
    (so, so_signal)
}

/// What is left of a signal of strength `own` when a neighbour shows `by` of the same: a
/// neighbour at least as strong explains 60 % of it, a weaker one less (quadratically).
fn explained(own: f64, by: f64) -> f64 {
    if own > 0.0 {
        1.0 - 0.6 * (by / own).clamp(0.0, 1.0).powi(2)
    } else {
        1.0
    }
}

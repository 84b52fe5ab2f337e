//! Culprit ranking: a score per entity saying how likely the fault started there, from how
//! faults propagate, for archives the funnel's kind-specific rules cannot judge (real
//! collections with metric names outside the vocabulary, no events, sparse topology).
//!
//! Per entity (pods count for their service):
//! - own anomaly: how far its own series left their baseline (robust z, log-saturated, and no
//!   more than the baseline's length lets it say; the two strongest series, so one noisy
//!   metric among dozens does not decide), or that a series left a value it held through the
//!   whole baseline (see [`still_break`]). Client-side series to no named dependency, and on
//!   the alerting entity the alert's own symptom, count half (see `own_anomaly`);
//! - origin: a fault starts where an entity is anomalous while the entities it calls are not;
//!   a callee at least as anomalous explains the caller's symptoms, so the caller is discounted,
//!   unless the callee is known only through that caller's measurements of its calls (see
//!   `seen_only_through`), which then never ranks above it;
//! - propagation: anomalies travel to callers, so anomalous callers and being reachable from
//!   the alerting entity raise the score;
//! - alert: the entity's anomalous series correlate with the alert metric over the incident
//!   (on the alerting entity, series other than the alert's own symptom: the alert series
//!   correlates with itself whatever caused it, so it earns the alerting entity nothing);
//! - logs: error and warning templates that are new or surging against the baseline, less
//!   what a callee logs as much of (a line naming another entity, a failed call to it, counts
//!   half, like a client-side series); and log statements that fell silent against the entity's
//!   other statements (a code path failing half-way), less what a caller's fall explains;
//! - metric anomalies weigh less when most entities show them (they no longer tell entities
//!   apart);
//! - standout: on some signal (a metric, or its log template mix) the entity is anomalous and
//!   its peers are not, or its level sits orders of magnitude outside the level they share,
//!   which is how a fault's first effect looks (see [`standout`]).
//!
//! With a baseline of fewer than [`prior::TRUSTED_BASELINE`] samples, culprits whose scores
//! are too close to tell apart are ordered by the statistical prior, each entity's largest
//! robust shift (see [`prior`] and `lean_on_prior`).
//!
//! The verdict merges this list into `ranking` and takes a root cause from it only when the
//! funnel found none and one culprit stands out; see [`merge`] and [`root_cause`]. It lives
//! under `verdict` because only the verdict consumes it.

pub mod prior;
mod reason;
mod score;
mod signals;
pub mod standout;

use std::collections::{BTreeMap, BTreeSet};

use crate::evidence::Context;
use crate::model::{EntityKind, Kind, vocab};
use crate::verdict::{Ranked, RootCause};
use score::{Shared, score};

pub use signals::{
    STILL_BASE_MIN, alert_correlation, capped_strength, log_fall, log_surge, rarity_ceiling,
    series_strength, still_break, strength,
};

/// One culprit's score and the parts it was made from (all 0..1).
#[derive(Debug, Clone, PartialEq)]
pub struct CulpritScore {
    /// Entity id (a service, storage instance, gateway or third party).
    pub culprit: String,
    /// The kind its strongest evidence suggests.
    pub kind: Kind,
    /// Final score.
    pub score: f64,
    /// Own anomaly.
    pub own: f64,
    /// The strongest anomaly among the entities it calls.
    pub callees: f64,
    /// Correlation of its anomalous series with the alert metric.
    pub alert: f64,
    /// Log surge.
    pub logs: f64,
    /// Log fall (a code path that stopped logging), less what a caller's fall explains.
    pub fall: f64,
    /// Margin over its peers on its most singular signal.
    pub standout: f64,
    /// What weighed most in the score, in words (see [`reason`]).
    pub reason: String,
}

/// A culprit "stands out" with at least this score ...
pub const STAND_OUT: f64 = 0.45;
/// ... and this ratio over the runner-up.
pub const MARGIN: f64 = 1.5;

/// Whether `metric` measures the same symptom as the alert's `alert_metric`: the same name,
/// or both a latency (a p50 beside an alerting p99) or both errors.
fn same_symptom(alert_metric: &str, metric: &str) -> bool {
    let (a, m) = (
        alert_metric.to_ascii_lowercase(),
        metric.to_ascii_lowercase(),
    );
    a == m
        || ["latency", "error"]
            .iter()
            .any(|w| a.contains(w) && m.contains(w))
}

/// Per entity, an anomaly strength and the metric that gave it.
type Anomaly = BTreeMap<String, (f64, String)>;

/// Own anomaly per entity: the strongest series (70 %) and the runner-up (30 %), with the
/// metric of the strongest, twice: as evidence that a fault started in the entity, and as
/// what its callers feel of it. Client-side series without a target count half in the first:
/// calls the entity made that slowed or failed, to no dependency the archive names (a
/// database or API the traces do not show), say less about it than its own work does (it
/// waits on something); to its callers they are what they wait on, in full.
fn own_anomaly(ctx: &Context) -> (Anomaly, Anomaly) {
    let mut per: BTreeMap<String, [Vec<(f64, String)>; 2]> = BTreeMap::new();
    let alert = ctx.alert_key();
    for v in ctx.find(|_| true) {
        let mut felt = series_strength(ctx, &v);
        if v.key.entity == alert.0 && same_symptom(alert.1, ctx.aliased(&v.key.metric)) {
            // The alert's own symptom is where the incident was noticed; every fault upstream
            // of the alerting entity's callers shows there. Half weight.
            felt *= 0.5;
        }
        if felt <= 0.0 {
            continue;
        }
        let origin = if v.key.target.is_none() && vocab::is_client_side(&v.key.metric) {
            0.5 * felt
        } else {
            felt
        };
        let lists = per.entry(v.key.entity.clone()).or_default();
        lists[0].push((origin, v.key.metric.clone()));
        lists[1].push((felt, v.key.metric.clone()));
    }
    let top = |mut l: Vec<(f64, String)>| {
        l.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let second = l.get(1).map_or(0.0, |x| x.0);
        (0.7 * l[0].0 + 0.3 * second, l[0].1.clone())
    };
    let (mut origin, mut felt) = (Anomaly::new(), Anomaly::new());
    for (e, [o, f]) in per {
        origin.insert(e.clone(), top(o));
        felt.insert(e, top(f));
    }
    (origin, felt)
}

/// Weight of an entity whose every anomalous series began moving after the incident's onset:
/// a cause starts before or with its effects, so an entity that moved later is more likely
/// one of them (a cache filling up behind a slow service, a queue backing up).
const LATE: f64 = 0.5;

/// Samples after the onset beyond which a series' start counts as late: a minute, and at
/// least two samples (at a coarse step, two steps).
#[must_use]
pub fn late_slack(step_ms: i64) -> usize {
    usize::try_from(60_000 / step_ms.max(1)).unwrap_or(0).max(2)
}

/// Entities whose anomalous series all began after the incident's onset, by more than a
/// minute (and two samples): the earliest onset among the series with a sustained move.
fn late_movers(ctx: &Context) -> BTreeSet<String> {
    let slack = late_slack(ctx.aligned.grid.step);
    let onset = ctx.onset();
    let mut first: BTreeMap<String, Option<usize>> = BTreeMap::new();
    for v in ctx.find(|_| true) {
        if series_strength(ctx, &v) <= 0.0 {
            continue;
        }
        // A series without a sustained run (a break from a held value) has no onset to
        // judge: it never marks its entity late.
        let o = v
            .score
            .onset
            .filter(|_| v.score.direction != crate::detect::Direction::Flat);
        let e = first.entry(v.key.entity.clone()).or_insert(o);
        *e = match (*e, o) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
    }
    first
        .into_iter()
        .filter(|(_, o)| o.is_some_and(|o| o > onset + slack))
        .map(|(e, _)| e)
        .collect()
}

/// Entities reachable from `from` by following calls (including itself).
fn reachable(ctx: &Context, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::from([from.to_string()]);
    let mut stack = vec![from.to_string()];
    while let Some(e) = stack.pop() {
        for d in ctx.topo.deps_of(&e) {
            if seen.insert(d.to_string()) {
                stack.push(d.to_string());
            }
        }
    }
    seen
}

/// Whether everything known of `dep` may come from `caller`'s measurements of its calls: it
/// calls nothing, `caller` is its only caller, and it has no series of its own workload (no
/// pods, no CPU or memory). Tracing systems draw such a node for a database, a cloud API or a
/// remote endpoint from the caller's spans alone (X-Ray's inferred nodes, Jaeger's
/// `peer.service`), so its anomaly is as much the caller's (how it makes the calls) as its
/// own, and it does not explain the caller's symptoms.
fn seen_only_through(ctx: &Context, dep: &str, caller: &str) -> bool {
    ctx.topo.deps_of(dep).is_empty()
        && ctx.topo.users_of(dep) == [caller]
        && ctx
            .find_entity(dep, |k| {
                let m = k.metric.to_ascii_lowercase();
                k.pod.is_some() || m.contains("cpu") || m.contains("mem")
            })
            .is_empty()
}

fn kind_for(entity: &str, metric: &str) -> Kind {
    match EntityKind::of(entity) {
        EntityKind::Mysql => Kind::Mysql,
        EntityKind::Redis => Kind::Redis,
        EntityKind::Ingress => Kind::Ingress,
        EntityKind::ThirdParty => Kind::ThirdParty,
        EntityKind::Node => Kind::Node,
        EntityKind::Service => {
            let m = metric.to_ascii_lowercase();
            if m.contains("cpu") {
                Kind::CpuSaturation
            } else if m.contains("mem") {
                Kind::MemoryPressure
            } else {
                // Its own behaviour changed while its resources did not: the code or its
                // configuration, the closest kind the verdict format offers.
                Kind::CodeChange
            }
        }
    }
}

/// Whether the archive records a change (deploy, config, ...) of `entity`.
pub(crate) fn changed(ctx: &Context, entity: &str) -> bool {
    ctx.events
        .iter()
        .any(|ev| ev.entity == entity && crate::rules::CHANGE_KINDS.contains(&ev.kind.as_str()))
}

/// The resource kind an entity's strongest moving CPU or memory series names, if one moved: a
/// code change needs a change event of its own (or, with no resource moving, new error
/// templates), while a CPU or memory series that left its baseline is evidence for its kind.
fn resource_kind(ctx: &Context, entity: &str) -> Option<Kind> {
    ctx.find_entity(entity, |_| true)
        .into_iter()
        .filter_map(|v| {
            let k = kind_for(entity, &v.key.metric);
            let s = series_strength(ctx, &v);
            (k != Kind::CodeChange && s > 0.0).then_some((s, k))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, k)| k)
}

/// Scores every entity with data, best first (ties by name).
#[must_use]
pub fn rank(ctx: &Context) -> Vec<CulpritScore> {
    let shared = Shared::gather(ctx);
    let mut out: Vec<CulpritScore> = ctx
        .topo
        .entities
        .iter()
        .filter(|e| EntityKind::of(e) != EntityKind::Node)
        .filter_map(|e| score(ctx, &shared, e))
        .collect();
    cap_below_sole_caller(ctx, &mut out);
    lean_on_prior(ctx, &mut out);
    out.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.culprit.cmp(&y.culprit)));
    out
}

/// The other half of `seen_only_through`: such a dependency's anomaly is its caller's
/// observation too, so it never ranks above an anomalous caller (the caller is where the
/// measurements, and the first place to look, are).
fn cap_below_sole_caller(ctx: &Context, out: &mut [CulpritScore]) {
    let caller_score: BTreeMap<String, f64> =
        out.iter().map(|s| (s.culprit.clone(), s.score)).collect();
    for s in out {
        let users = ctx.topo.users_of(&s.culprit);
        let [caller] = users[..] else { continue };
        let c = caller_score.get(caller).copied().unwrap_or(0.0);
        if c > 0.0 && seen_only_through(ctx, &s.culprit, caller) {
            s.score = s.score.min(0.99 * c);
        }
    }
}

/// Share of the top score within which, with a short baseline, the prior reorders culprits.
pub const PRIOR_BAND: f64 = 0.1;

/// With a short baseline, culprits whose scores lie within [`PRIOR_BAND`] of the top score of
/// each other are ordered by the prior: each score is lowered by up to that band, in
/// proportion to how far the entity's largest robust shift falls short of the largest (and by
/// [`prior::weight`]). The ranking's own measures ran out of range for most entities, so
/// scores that close do not tell them apart, while a lead the evidence gives beyond the band
/// stands (replacing the order outright would throw away what the rules and the call graph
/// still say: PetShop's largest shifts are rarely its faults).
fn lean_on_prior(ctx: &Context, out: &mut [CulpritScore]) {
    let lean = prior::weight(prior::baseline_samples(ctx));
    if lean <= 0.0 {
        return;
    }
    let shifts = prior::shifts(ctx);
    let largest = shifts.values().copied().fold(0.0, f64::max);
    let band = PRIOR_BAND * out.iter().map(|s| s.score).fold(0.0, f64::max);
    for s in out {
        let q = prior::relative(shifts.get(&s.culprit).copied().unwrap_or(0.0), largest);
        s.score = (s.score - lean * band * (1.0 - q)).max(0.0);
    }
}

/// Per culprit of the ranking, what weighed most in its score, in words (none when nothing
/// did). The report quotes it for culprits no rule could judge.
#[must_use]
pub fn reasons(scores: &[CulpritScore]) -> BTreeMap<String, String> {
    scores
        .iter()
        .filter(|s| !s.reason.is_empty())
        .map(|s| (s.culprit.clone(), s.reason.clone()))
        .collect()
}

/// A root cause from the culprit ranking, when one culprit stands out (score and margin).
#[must_use]
pub fn root_cause(scores: &[CulpritScore]) -> Option<RootCause> {
    let top = scores.first()?;
    let runner = scores.get(1).map_or(0.0, |s| s.score);
    (top.score >= STAND_OUT && top.score >= MARGIN * runner).then(|| RootCause {
        kind: top.kind,
        culprit: top.culprit.clone(),
        confidence: top.score * (1.0 - runner / top.score.max(1e-9)),
    })
}

/// Merges the culprit ranking into the funnel's: the root cause first, then the funnel's
/// supported hypotheses and the ranked culprits together, by score (a hypothesis the funnel
/// supports weakly must not hide a culprit whose own signals stand out), then the funnel's
/// remaining hypotheses. A culprit already listed is not listed again.
#[must_use]
pub fn merge(
    ranking: Vec<Ranked>,
    scores: &[CulpritScore],
    root: Option<&RootCause>,
) -> Vec<Ranked> {
    let is_root = |r: &Ranked| root.is_some_and(|rc| rc.kind == r.kind && rc.culprit == r.culprit);
    let (head, tail): (Vec<Ranked>, Vec<Ranked>) = ranking
        .into_iter()
        .filter(|r| !is_root(r))
        .partition(|r| r.score >= 0.5);
    let mut out: Vec<Ranked> = root
        .map(|rc| Ranked {
            kind: rc.kind,
            culprit: rc.culprit.clone(),
            score: rc.confidence,
        })
        .into_iter()
        .collect();
    let mut listed: BTreeSet<String> = head
        .iter()
        .map(|r| r.culprit.clone())
        .chain(root.map(|rc| rc.culprit.clone()))
        .collect();
    let mut middle = head;
    for s in scores {
        if listed.insert(s.culprit.clone()) {
            middle.push(Ranked {
                kind: s.kind,
                culprit: s.culprit.clone(),
                score: s.score,
            });
        }
    }
    // Stable: equal scores keep the funnel's order, then the ranking's.
    middle.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.extend(middle);
    out.extend(tail);
    out
}

#[cfg(test)]
mod tests;

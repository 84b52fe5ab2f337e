//! Who drove the load.
//!
//! A storage instance's: a change at one of its users that sent it more work (an N+1 query
//! loop, a cache bypassed, a feature flag that queries per item) looks, from the instance's
//! side, like the instance going bad. What tells them apart is order and work: the instance
//! started straining only after the change, it did more work (CPU, connections), and its users
//! did not send more requests their way to explain it.
//!
//! A gateway's: a surge through a gateway is one service's when that service carries most of
//! the added load and rose more steeply than the rest; spread over the services behind it, it
//! is the gateway's clients'.

use super::Context;
use crate::model::{EntityKind, MINUTE_MS};

/// How soon after a change the instance must have started straining for the change to have
/// driven it: new code sends its queries from the first pod that serves, and a rolling update
/// of a handful of pods takes a minute or two. A strain that began later came from elsewhere.
pub const DRIVE_MS: i64 = 2 * MINUTE_MS;

/// The instance's series that say it did more work.
const WORK: [&str; 2] = ["cpu_utilization", "connections"];

/// The instance's series that say it strained.
const STRAIN: [&str; 3] = ["server_latency_ms", "cpu_utilization", "slow_queries_per_s"];

/// How much the instance's work must have grown, and how little its users' requests may have.
const MORE_WORK: f64 = 0.3;
const SAME_REQUESTS: f64 = 1.3;

/// When the change of `svc` at `change_ms` drove the load of its storage dependency `dep`:
/// the evidence in words.
#[must_use]
pub fn change_drove(ctx: &Context, svc: &str, dep: &str, change_ms: i64) -> Option<String> {
    if !matches!(EntityKind::of(dep), EntityKind::Mysql | EntityKind::Redis)
        || !ctx.topo.deps_of(svc).contains(&dep)
    {
        return None;
    }
    let strained = STRAIN
        .iter()
        .filter_map(|m| ctx.metric(dep, m))
        .filter(|v| v.score.up(MORE_WORK))
        .filter_map(|v| v.score.onset)
        .min()?;
    let at = ctx.time(strained);
    let step = ctx.aligned.grid.step;
    if at + step < change_ms || at > change_ms + DRIVE_MS {
        return None;
    }
    let work = WORK
        .iter()
        .filter_map(|m| ctx.metric(dep, m).map(|v| (m, v)))
        .find(|(_, v)| v.score.up(MORE_WORK))?;
    let (base, level) = requests_of(ctx, &ctx.topo.users_of(dep));
    if base > 0.0 && level >= SAME_REQUESTS * base {
        return None;
    }
    Some(format!(
        "{dep} began straining {} after it, doing more work ({} {}) with no more requests from its users",
        crate::model::human_duration((at - change_ms).max(0)),
        work.0,
        work.1.score.pct()
    ))
}

/// The request rates of `users` added up: (baseline, incident level), over those with a
/// testable rate.
#[must_use]
pub fn requests_of(ctx: &Context, users: &[&str]) -> (f64, f64) {
    users
        .iter()
        .filter_map(|u| {
            ctx.metric(u, "requests_per_s")
                .filter(|v| v.score.testable())
        })
        .fold((0.0, 0.0), |(b, l), v| {
            (b + v.score.base, l + v.score.level)
        })
}

/// How far a request rate must rise to be a surge.
pub const SURGE: f64 = 0.4;

/// Share of a gateway's added load one service must carry for the spike to be that service's.
const CONCENTRATED: f64 = 0.7;

/// Added requests per second of an entity that surged, or `None`.
pub(crate) fn added(ctx: &Context, e: &str) -> Option<f64> {
    ctx.metric(e, "requests_per_s")
        .filter(|v| v.score.up(SURGE))
        .map(|v| v.score.level - v.score.base)
}

/// How many requests per second `e` gained, surge or not (0 without a request rate).
fn rose_by(ctx: &Context, e: &str) -> f64 {
    ctx.metric(e, "requests_per_s")
        .filter(|v| v.score.testable())
        .map_or(0.0, |v| (v.score.level - v.score.base).max(0.0))
}

/// The service behind gateway `g` that carries most of its added load, with its share, when
/// it also rose [`STEEPER`] times as steeply as every other service that surged behind it (bar
/// those it calls): a rise of the same proportion everywhere is the gateway's clients coming
/// back in force, where the busiest service merely carries the most of it.
pub(crate) fn concentrated(ctx: &Context, g: &str, hot: &[&str]) -> Option<(String, f64)> {
    let total = added(ctx, g).filter(|a| *a > 0.0)?;
    let rel = |x: &str| ctx.metric(x, "requests_per_s").map_or(0.0, |v| v.score.rel);
    hot.iter()
        .filter_map(|h| added(ctx, h).map(|a| (h.to_string(), a / total)))
        .filter(|(_, share)| *share >= CONCENTRATED)
        .filter(|(h, _)| {
            // Not the services it calls itself: their surge is its own, passed on.
            hot.iter()
                .filter(|o| **o != h.as_str() && !ctx.topo.calls_through(h, o))
                .all(|o| STEEPER * rel(o) <= rel(h))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// How many times as steep as the others a service's rise must be for the gateway's surge to be
/// its own.
const STEEPER: f64 = 2.0;

/// When service `e`'s surge is one part of a gateway's surge spread over several services
/// behind it (none carrying most of the added load), that gateway and the other services
/// that surged with it: none when the rest of the added load went to services without a
/// request rate in the archive.
pub(crate) fn spread_through_gateway(ctx: &Context, e: &str) -> Option<(String, Vec<String>)> {
    let mine = added(ctx, e)?;
    ctx.topo.entries.get(e)?.iter().find_map(|g| {
        let total = added(ctx, g).filter(|a| *a > 0.0)?;
        let others: Vec<String> = ctx
            .topo
            .behind
            .get(g)?
            .iter()
            .filter(|s| s.as_str() != e && added(ctx, s).is_some())
            .cloned()
            .collect();
        // Without others that surged, the rest must have gone to services the archive has no
        // request rate for: at least as much as this one took.
        let seen: f64 = ctx
            .topo
            .behind
            .get(g)?
            .iter()
            .map(|b| rose_by(ctx, b))
            .sum();
        let unseen = total - seen;
        let hot: Vec<&str> = std::iter::once(e)
            .chain(others.iter().map(String::as_str))
            .collect();
        let mine_alone = concentrated(ctx, g, &hot).is_some_and(|(c, _)| c == e);
        (!mine_alone && (!others.is_empty() || unseen >= mine)).then(|| (g.clone(), others))
    })
}

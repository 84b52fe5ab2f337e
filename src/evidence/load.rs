//! Who drove a storage instance's load: a change at one of its users that sent it more work
//! (an N+1 query loop, a cache bypassed, a feature flag that queries per item) looks, from the
//! instance's side, like the instance going bad. What tells them apart is order and work: the
//! instance started straining only after the change, it did more work (CPU, connections), and
//! its users did not send more requests their way to explain it.

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
    let (mut base, mut level) = (0.0, 0.0);
    for u in ctx.topo.users_of(dep) {
        if let Some(v) = ctx
            .metric(u, "requests_per_s")
            .filter(|v| v.score.testable())
        {
            base += v.score.base;
            level += v.score.level;
        }
    }
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

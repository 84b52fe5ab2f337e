//! Rule `peer-sharing-storage-healthy`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::scope::DEP_LATENCY_RISE;
use crate::evidence::sources::fmt_val;

declare_rule! {
    /// ## What it rules out
    /// A MySQL or Redis instance as the root cause, when another service using the same
    /// instance stayed healthy. Supports it when every user got slower to it.
    ///
    /// ## Evidence used
    /// Each user's client-side `dep_latency_ms` towards the instance (users come from
    /// `depends_on` and from `dep_*` series with that `target`), and each user's own health.
    ///
    /// ## Why this is sound
    /// A slow storage server is slow for every client: its queue, CPU and disk are shared. If
    /// one client saw normal latency to it through the whole incident, the server was serving
    /// normally and the slowness of the others lies on their side of the connection.
    ///
    /// ## Inconclusive when
    /// No other user of the instance has client-side latency data (a single user proves
    /// nothing either way).
    ///
    /// ## Example
    /// `live-api` sees Redis at 1 ms → 15 ms, `gift-api` on the same `redis:live-cache` stays
    /// at 1.1 ms → eliminated.
    pub(crate) PeerSharingStorageHealthy { id: "peer-sharing-storage-healthy", kinds: [Mysql, Redis], reads: [Topology, Traces] }
}

impl Rule for PeerSharingStorageHealthy {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let storage = h.culprit.as_str();
        let mut slow = Vec::new();
        let mut slow_users = Vec::new();
        let mut healthy = Vec::new();
        for user in ctx.topo.users_of(storage) {
            let Some(v) = ctx.dep(user, storage, "dep_latency_ms") else {
                continue;
            };
            let s = v.score;
            if s.up(DEP_LATENCY_RISE) {
                slow.push(format!("{user} {}", s.pct()));
                slow_users.push(user);
            } else if s.normal(DEP_LATENCY_RISE) && !ctx.scope.of(user).affected {
                healthy.push(format!(
                    "{user} also uses {storage} and stayed healthy: its client-side latency to it went {} → {} ({})",
                    fmt_val("dep_latency_ms", s.base),
                    fmt_val("dep_latency_ms", s.level),
                    s.pct()
                ));
            }
        }
        if !healthy.is_empty() {
            let mut text = healthy.join("; ");
            if !slow.is_empty() {
                text.push_str(&format!(", while {} got slower to it", slow.join(", ")));
            }
            return Some(Outcome::eliminated(id, 0.9, text));
        }
        if slow.len() >= 2 {
            let (f, note) = ctx
                .network_discount(&slow_users)
                .unwrap_or((1.0, String::new()));
            return Some(Outcome::supported(
                id,
                0.6 * f,
                format!(
                    "every user of {storage} with data got slower to it: {}{note}",
                    slow.join(", ")
                ),
            ));
        }
        Some(Outcome::inconclusive(
            id,
            format!("not testable: no other service using {storage} has client-side latency data"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, kd};
    use crate::model::Kind;

    fn base() -> Fixture {
        Fixture::new("live-api")
            .slow_service("live-api")
            .depends("live-api", &["redis:c"])
            .depends("gift-api", &["redis:c"])
    }

    #[test]
    fn eliminated_when_a_peer_on_the_same_redis_is_healthy() {
        let ctx = base()
            .step(kd("live-api", "redis:c", "dep_latency_ms"), 1.0, 15.0)
            .healthy_service("gift-api")
            .flat(kd("gift-api", "redis:c", "dep_latency_ms"), 1.0)
            .build();
        let o = PeerSharingStorageHealthy
            .evaluate(&ctx, &Hypothesis::new(Kind::Redis, "redis:c"))
            .unwrap();
        insta::assert_snapshot!(o, @"eliminated (0.90): gift-api also uses redis:c and stayed healthy: its client-side latency to it went 1.0 ms → 1.0 ms (±0%), while live-api +1400% got slower to it");
    }

    #[test]
    fn supported_when_every_user_got_slower() {
        let ctx = base()
            .step(kd("live-api", "redis:c", "dep_latency_ms"), 1.0, 15.0)
            .slow_service("gift-api")
            .step(kd("gift-api", "redis:c", "dep_latency_ms"), 1.0, 9.0)
            .build();
        let o = PeerSharingStorageHealthy
            .evaluate(&ctx, &Hypothesis::new(Kind::Redis, "redis:c"))
            .unwrap();
        assert_eq!(o.status, super::super::Status::Supported, "{o}");
    }

    #[test]
    fn inconclusive_with_a_single_user() {
        let ctx = Fixture::new("live-api")
            .slow_service("live-api")
            .depends("live-api", &["redis:c"])
            .step(kd("live-api", "redis:c", "dep_latency_ms"), 1.0, 15.0)
            .build();
        let o = PeerSharingStorageHealthy
            .evaluate(&ctx, &Hypothesis::new(Kind::Redis, "redis:c"))
            .unwrap();
        assert_eq!(o.status, super::super::Status::Inconclusive, "{o}");
    }
}

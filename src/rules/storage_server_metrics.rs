//! Rule `storage-server-metrics`.

use super::{Hypothesis, Outcome, Rule, RuleInfo, declare_rule};
use crate::evidence::Context;
use crate::evidence::sources::{fmt_val, metric_label};
use crate::model::EntityKind;

declare_rule! {
    /// ## What it rules out
    /// A MySQL or Redis instance whose own server-side metrics stayed normal. Supports it when
    /// its server-side latency or slow queries rose, or its CPU rose to 70 % or more (a rise
    /// that leaves headroom is more load served, not a server that cannot keep up).
    ///
    /// ## Evidence used
    /// `server_latency_ms`, `slow_queries_per_s` and `cpu_utilization` of the instance itself.
    ///
    /// ## Why this is sound
    /// Server-side latency is measured inside the server, after the network and the client's
    /// proxy: if it is unchanged while clients see slow calls, the time is lost between them.
    /// A saturated server shows it in its own latency, its slow-query log or its CPU.
    ///
    /// ## Inconclusive when
    /// The archive has no server-side metric for the instance ("not testable: no Redis server
    /// metrics").
    ///
    /// ## Example
    /// `mysql:live-db` server latency 2.0 ms → 2.1 ms, slow queries 0/s, CPU 21% → 22% →
    /// eliminated.
    pub(crate) StorageServerMetrics { id: "storage-server-metrics", kinds: [Mysql, Redis], reads: [] }
}

const SERVER_METRICS: [(&str, f64); 3] = [
    ("server_latency_ms", 0.5),
    ("slow_queries_per_s", 1.0),
    ("cpu_utilization", 0.3),
];

/// CPU utilisation from which a storage server counts as busy enough to slow its answers.
const BUSY_CPU: f64 = 0.7;

impl Rule for StorageServerMetrics {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn evaluate(&self, ctx: &Context, h: &Hypothesis) -> Option<Outcome> {
        let id = Self::INFO.id;
        let s = h.culprit.as_str();
        let mut up = Vec::new();
        let mut normal = Vec::new();
        for (m, rise) in SERVER_METRICS {
            let Some(v) = ctx.metric(s, m) else { continue };
            let sc = v.score;
            let text = format!(
                "{} {} → {}",
                metric_label(m),
                fmt_val(m, sc.base),
                fmt_val(m, sc.level)
            );
            // Slow queries start from zero; demand an absolute rate worth noticing. CPU that
            // rose but left headroom is the server doing more work for more load, not a server
            // that cannot keep up.
            let moved = sc.up(rise)
                && match m {
                    "slow_queries_per_s" => sc.level - sc.base >= 0.5,
                    "cpu_utilization" => sc.level >= BUSY_CPU,
                    _ => true,
                };
            if moved {
                up.push(format!("{text} ({})", sc.pct()));
            } else if sc.testable() {
                normal.push(text);
            }
        }
        if !up.is_empty() {
            return Some(Outcome::supported(
                id,
                0.8,
                format!("{s} degraded on the server side: {}", up.join(", ")),
            ));
        }
        if !normal.is_empty() {
            return Some(Outcome::eliminated(
                id,
                0.75,
                format!("{s} was normal on the server side: {}", normal.join(", ")),
            ));
        }
        Some(Outcome::inconclusive(
            id,
            format!(
                "not testable: no {} server metrics for {s}",
                EntityKind::of(s).label()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k};
    use crate::model::Kind;
    use crate::rules::Status;

    fn eval(f: Fixture) -> Outcome {
        StorageServerMetrics
            .evaluate(&f.build(), &Hypothesis::new(Kind::Mysql, "mysql:db"))
            .unwrap()
    }

    #[test]
    fn eliminated_when_server_side_is_flat() {
        let o = eval(
            Fixture::new("a")
                .slow_service("a")
                .flat(k("mysql:db", "server_latency_ms"), 2.0)
                .flat(k("mysql:db", "cpu_utilization"), 0.2),
        );
        insta::assert_snapshot!(o, @"eliminated (0.75): mysql:db was normal on the server side: server latency 2.0 ms → 2.0 ms, CPU 20% → 20%");
    }

    #[test]
    fn supported_when_server_latency_rises() {
        let o = eval(Fixture::new("a").slow_service("a").step(
            k("mysql:db", "server_latency_ms"),
            2.0,
            40.0,
        ));
        assert_eq!(o.status, Status::Supported, "{o}");
    }

    #[test]
    fn inconclusive_without_server_metrics() {
        let o = eval(Fixture::new("a").slow_service("a"));
        insta::assert_snapshot!(o, @"inconclusive (0.00): not testable: no MySQL server metrics for mysql:db");
    }

    #[test]
    fn cpu_that_rose_with_headroom_left_is_not_degradation() {
        let o = eval(
            Fixture::new("a")
                .slow_service("a")
                .flat(k("mysql:db", "server_latency_ms"), 2.0)
                .step(k("mysql:db", "cpu_utilization"), 0.19, 0.28),
        );
        assert_eq!(o.status, Status::Eliminated, "{o}");
        let o = eval(Fixture::new("a").slow_service("a").step(
            k("mysql:db", "cpu_utilization"),
            0.3,
            0.95,
        ));
        assert_eq!(o.status, Status::Supported, "{o}");
    }
}

//! Why a culprit ranks where it does, in words for the report: the part of its score that
//! weighed most.

use super::standout::LOG_MIX;

/// The weighted parts of one culprit's score.
pub(super) struct Parts<'a> {
    /// Its own metrics' part (after the call graph, spread and alert discounts).
    pub metrics: f64,
    /// Its strongest own metric.
    pub metric: &'a str,
    /// A callee was at least as anomalous.
    pub inherited: bool,
    /// Warning and error log surge part.
    pub logs: f64,
    /// Log fall part.
    pub fall: f64,
    /// Peer standout part.
    pub standout: f64,
    /// The standout's signal (a metric name or [`LOG_MIX`]).
    pub signal: &'a str,
}

/// The part that weighed most, in words; empty when nothing did.
pub(super) fn reason(p: &Parts<'_>) -> String {
    let best = [p.metrics, p.logs, p.fall, p.standout]
        .into_iter()
        .fold(0.0, f64::max);
    if best <= 0.0 {
        String::new()
    } else if p.standout == best {
        if p.signal == LOG_MIX {
            "its mix of log statements changed as no other entity's did".into()
        } else {
            format!("its {} moved far beyond every other entity's", p.signal)
        }
    } else if p.logs == best {
        "new or surging warnings and errors in its logs".into()
    } else if p.fall == best {
        "log statements of its own fell silent while its others went on".into()
    } else if p.inherited {
        format!(
            "its {} left its baseline, as did something it calls",
            p.metric
        )
    } else {
        format!(
            "its {} left its baseline while what it calls did not",
            p.metric
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> Parts<'static> {
        Parts {
            metrics: 0.0,
            metric: "latency_p99_ms",
            inherited: false,
            logs: 0.0,
            fall: 0.0,
            standout: 0.0,
            signal: "",
        }
    }

    #[test]
    fn the_heaviest_part_speaks() {
        assert_eq!(reason(&parts()), "");
        let gap = Parts {
            metrics: 0.3,
            standout: 0.9,
            signal: "call_gap_ms",
            ..parts()
        };
        assert_eq!(
            reason(&gap),
            "its call_gap_ms moved far beyond every other entity's"
        );
        let logs = Parts {
            metrics: 0.3,
            logs: 0.6,
            ..parts()
        };
        assert!(reason(&logs).contains("warnings and errors"));
        let own = Parts {
            metrics: 0.5,
            inherited: true,
            ..parts()
        };
        assert!(reason(&own).ends_with("as did something it calls"));
    }
}

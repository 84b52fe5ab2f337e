//! Series of the calls that cross a service boundary (a span whose parent span is in another
//! service), on the callee, one definition for every reader of spans (`funnel attach traces`,
//! and `funnel import nezha`, which uses [`CallGaps`] from here):
//! - `call_gap_ms`: the parent's duration minus the callee's span, the time the call spends
//!   outside the callee's own handling (the network and proxies on the way to it and back): a
//!   delay injected on a pod's network shows here while its own spans stay normal;
//! - `call_start_gap_ms`: how long after the parent span the callee's span starts, until the
//!   callee gets to handle the call: a starved CPU shows here.
//!
//! Why on the callee: a delay on one pod's network, or a starved CPU, shows in every call into
//! it, whoever the caller. Each bucket's value is its middle sample (not the p99): one slow
//! call among hundreds says nothing about the path into a service.
//!
//! Attached spans are bucketed by the callee span's start; span kinds are not needed: the parent
//! link across services is the call.

use std::collections::BTreeMap;

use crate::archive::traces::Span;
use crate::model::MetricRow;
use crate::stats;

/// The time a call spends outside the callee's own handling.
pub const CALL_GAP: &str = "call_gap_ms";
/// How long after its caller's span the callee's span starts.
pub const CALL_START_GAP: &str = "call_start_gap_ms";

/// Call gaps gathered call by call: per callee (looked up without an allocation per call),
/// per series and time bucket.
#[derive(Debug, Default)]
pub struct CallGaps {
    acc: BTreeMap<String, BTreeMap<(&'static str, i64), Vec<f64>>>,
}

impl CallGaps {
    /// One call into `callee`, in the bucket stamped `ts`: the parent span's duration minus
    /// the callee span's, and the delay between their starts, in ms (each reader subtracts in
    /// its spans' own unit).
    pub fn add(&mut self, callee: &str, ts: i64, gap_ms: f64, start_gap_ms: f64) {
        let series = match self.acc.get_mut(callee) {
            Some(series) => series,
            None => self.acc.entry(callee.to_string()).or_default(),
        };
        series.entry((CALL_GAP, ts)).or_default().push(gap_ms);
        series
            .entry((CALL_START_GAP, ts))
            .or_default()
            .push(start_gap_ms);
    }

    /// One row per callee, series and bucket, sorted by callee, series and time, with
    /// `source` (the collector) when given.
    #[must_use]
    pub fn rows(self, source: Option<&str>) -> Vec<MetricRow> {
        let mut out = Vec::new();
        for (callee, series) in self.acc {
            for ((metric, ts), v) in series {
                if let Some(mid) = stats::middle(&v) {
                    let mut r = MetricRow::new(ts, &callee, metric, mid);
                    r.source = source.map(str::to_string);
                    out.push(r);
                }
            }
        }
        out
    }
}

/// The rows of both series, `step_ms` buckets by the callee span's start, with `source`.
pub(super) fn call_gaps(
    spans: &[Span],
    parent: &[Option<usize>],
    step_ms: i64,
    source: &str,
) -> Vec<MetricRow> {
    let mut gaps = CallGaps::default();
    for (i, p) in parent.iter().enumerate() {
        let Some(p) = *p else { continue };
        let (s, ps) = (&spans[i], &spans[p]);
        if ps.service == s.service {
            continue;
        }
        let ts = s.start_ms().div_euclid(step_ms) * step_ms;
        let ms = |ns: i64| ns as f64 / 1e6;
        let gap = ms(ps.duration_ns - s.duration_ns);
        gaps.add(&s.service, ts, gap, ms(s.start_ns - ps.start_ns));
    }
    gaps.rows(Some(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, service: &str, start_ms: i64, dur_ms: i64) -> Span {
        Span {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_id: None,
            service: service.into(),
            name: "op".into(),
            kind: "unspecified".into(),
            start_ns: start_ms * 1_000_000,
            duration_ns: dur_ms * 1_000_000,
            error: false,
            peer: None,
            pod: None,
        }
    }

    #[test]
    fn gaps_go_on_the_callee_as_medians() {
        // web calls api three times (gaps 2, 3 and 500 ms) and itself once.
        let spans = vec![
            span("a", "web", 0, 100),
            span("b", "api", 1, 98),
            span("c", "web", 0, 100),
            span("d", "api", 2, 97),
            span("e", "web", 0, 600),
            span("f", "api", 250, 100),
            span("g", "web", 0, 50),
            span("h", "web", 1, 10),
        ];
        let parent = [None, Some(0), None, Some(2), None, Some(4), None, Some(6)];
        let rows = call_gaps(&spans, &parent, 60_000, "traces");
        let get = |m: &str| rows.iter().find(|r| r.metric == m).map(|r| r.value);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.entity == "api" && r.ts_ms == 0));
        assert_eq!(get("call_gap_ms"), Some(3.0));
        assert_eq!(get("call_start_gap_ms"), Some(2.0));
    }
}

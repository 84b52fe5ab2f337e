//! Series of the calls that cross a service boundary (a span whose parent span is in another
//! service), on the callee, one definition for every reader of spans (`funnel attach traces`,
//! `funnel import nezha`):
//! - `call_gap_ms`: the parent's duration minus the callee's span, the time the call spends
//!   outside the callee's own handling (the network and proxies on the way to it and back): a
//!   delay injected on a pod's network shows here while its own spans stay normal;
//! - `call_start_gap_ms`: how long after the parent span the callee's span starts, until the
//!   callee gets to handle the call: a starved CPU shows here.
//!
//! Why on the callee: a delay on one pod's network, or a starved CPU, shows in every call into
//! it, whoever the caller. Each bucket's value is its middle sample (not the p99): one slow
//! call among hundreds says nothing about the path into a service.

use std::collections::BTreeMap;

use super::MetricRow;
use crate::detect::stats;

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

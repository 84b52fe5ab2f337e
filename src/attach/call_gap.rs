//! Per-callee series of the calls that cross a service boundary (a span whose parent span is
//! in another service), on the callee:
//! - `call_gap_ms`: the parent's duration minus the callee's span, the time the call spends
//!   outside the callee's own handling (the network and proxies on the way to it and back);
//! - `call_start_gap_ms`: how long after the parent span the callee's span starts, until the
//!   callee gets to handle the call.
//!
//! Why on the callee: a delay injected on one pod's network, or a starved CPU, shows in every
//! call into it, whoever the caller; the per-edge `dep_hop_ms` puts the same time on each
//! caller, so a callee with one caller would make that caller stand out. The median per bucket
//! (not the p99): one slow call among hundreds says nothing about the path into a service.
//! Same definition as `funnel import nezha`'s series of these names, so an archive attached
//! from spans and one imported from the same spans agree. Span kinds are not needed: the
//! parent link across services is the call.

use std::collections::BTreeMap;

use crate::archive::traces::Span;
use crate::model::MetricRow;

/// The rows of both series, `step_ms` buckets by the callee span's start, with `source`.
pub(super) fn call_gaps(
    spans: &[Span],
    parent: &[Option<usize>],
    step_ms: i64,
    source: &str,
) -> Vec<MetricRow> {
    let mut acc: BTreeMap<(&str, &'static str, i64), Vec<f64>> = BTreeMap::new();
    for (i, p) in parent.iter().enumerate() {
        let Some(p) = *p else { continue };
        let (s, ps) = (&spans[i], &spans[p]);
        if ps.service == s.service {
            continue;
        }
        let ts = s.start_ms().div_euclid(step_ms) * step_ms;
        let gap = (ps.duration_ns - s.duration_ns) as f64 / 1e6;
        let start_gap = (s.start_ns - ps.start_ns) as f64 / 1e6;
        let svc = s.service.as_str();
        acc.entry((svc, "call_gap_ms", ts)).or_default().push(gap);
        acc.entry((svc, "call_start_gap_ms", ts))
            .or_default()
            .push(start_gap);
    }
    acc.into_iter()
        .map(|((svc, metric, ts), mut v)| {
            v.sort_by(f64::total_cmp);
            let mut r = MetricRow::new(ts, svc, metric, v[v.len() / 2]);
            r.source = Some(source.to_string());
            r
        })
        .collect()
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

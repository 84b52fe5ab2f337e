//! The call-gap series of attached spans (see [`crate::model::calls`]), bucketed by the callee
//! span's start. Span kinds are not needed: the parent link across services is the call.

use crate::archive::traces::Span;
use crate::model::MetricRow;
use crate::model::calls::CallGaps;

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

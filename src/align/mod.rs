//! Align: every series on one time grid, with the baseline and incident windows as index ranges.
//!
//! Samples are averaged per grid bucket (which also averages duplicate `(ts, series)` rows, as the
//! spec requires); an empty bucket stays NaN, because a missing sample is not a zero.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::model::{RawSeries, SeriesKey, Windows, step_ms};

/// A regular time grid: bucket `i` covers `[t0 + i·step, t0 + (i+1)·step)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Start, epoch ms.
    pub t0: i64,
    /// Step, ms.
    pub step: i64,
    /// Number of buckets.
    pub len: usize,
}

impl Grid {
    /// The bucket holding `ts`, if inside the grid.
    #[must_use]
    pub fn index(&self, ts: i64) -> Option<usize> {
        if ts < self.t0 {
            return None;
        }
        let i = usize::try_from((ts - self.t0) / self.step).ok()?;
        (i < self.len).then_some(i)
    }

    /// The start time of bucket `i`.
    #[must_use]
    pub fn time(&self, i: usize) -> i64 {
        self.t0 + self.step * i64::try_from(i).unwrap_or(i64::MAX / self.step.max(1))
    }

    /// The bucket holding `ts`, clamped to the grid (`len` past its end).
    #[must_use]
    pub fn floor_index(&self, ts: i64) -> usize {
        if ts <= self.t0 {
            return 0;
        }
        usize::try_from((ts - self.t0) / self.step)
            .unwrap_or(usize::MAX)
            .min(self.len)
    }

    /// The first bucket starting at or after `ts`, clamped to the grid.
    #[must_use]
    pub fn ceil_index(&self, ts: i64) -> usize {
        if ts <= self.t0 {
            return 0;
        }
        let i = (ts - self.t0 + self.step - 1) / self.step;
        usize::try_from(i).unwrap_or(usize::MAX).min(self.len)
    }
}

/// One series on the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Identity.
    pub key: SeriesKey,
    /// One value per bucket; NaN is a gap.
    pub values: Vec<f64>,
}

/// Every series on one grid, sorted by key.
#[derive(Debug, Clone)]
pub struct Aligned {
    /// The common time grid every series below is resampled onto.
    pub grid: Grid,
    /// Baseline buckets.
    pub baseline: Range<usize>,
    /// Incident buckets.
    pub incident: Range<usize>,
    /// The bucket the alert fired in (clamped into the incident window).
    pub alert: usize,
    /// Series sorted by key.
    pub series: Vec<Series>,
}

/// The median interval between consecutive distinct samples, over all series (ms, ≥ 1 s).
#[must_use]
pub fn median_interval(series: &[RawSeries]) -> Option<i64> {
    let per_series = series
        .iter()
        .filter_map(|s| step_ms(s.ts.iter().copied()))
        .collect();
    crate::stats::middle_of(per_series).map(|step| step.max(1000))
}

/// Puts raw series on a grid spanning the baseline start to the incident end.
///
/// `step` overrides the median sampling interval. The grid never has fewer than two buckets in
/// each window, so a coarse step on a short window still leaves something to compare.
#[must_use]
pub fn align(raw: &[RawSeries], windows: &Windows, step: Option<i64>) -> Aligned {
    let span = windows.end - windows.baseline_start;
    let longest_allowed =
        ((windows.end - windows.start).min(windows.baseline_end - windows.baseline_start) / 2)
            .max(1000);
    let step = step
        .or_else(|| median_interval(raw))
        .unwrap_or(60_000)
        .clamp(1000, longest_allowed.max(1000));
    let len = usize::try_from((span + step - 1) / step)
        .unwrap_or(0)
        .max(1);
    let grid = Grid {
        t0: windows.baseline_start,
        step,
        len,
    };
    let series = raw
        .iter()
        .map(|s| {
            let mut sum = vec![0.0; len];
            let mut n = vec![0u32; len];
            for (&t, &v) in s.ts.iter().zip(&s.values) {
                if let Some(i) = grid.index(t) {
                    if v.is_finite() {
                        sum[i] += v;
                        n[i] += 1;
                    }
                }
            }
            let values = sum
                .iter()
                .zip(&n)
                .map(|(s, &k)| if k == 0 { f64::NAN } else { s / f64::from(k) })
                .collect();
            Series {
                key: s.key.clone(),
                values,
            }
        })
        .collect();
    let baseline = grid.ceil_index(windows.baseline_start)..grid.ceil_index(windows.baseline_end);
    let incident = grid.ceil_index(windows.start)..grid.ceil_index(windows.end);
    let alert = grid
        .index(windows.fired_at)
        .unwrap_or(incident.start)
        .clamp(
            incident.start,
            incident.end.saturating_sub(1).max(incident.start),
        );
    Aligned {
        grid,
        baseline,
        incident,
        alert,
        series,
    }
}

/// Metrics that add up across pods (rates and counts); the others are averaged.
#[must_use]
pub fn sums_across_pods(metric: &str) -> bool {
    matches!(
        metric,
        "requests_per_s"
            | "errors_per_s"
            | "dep_errors_per_s"
            | "goroutines"
            | "restarts"
            | "connections"
            | "slow_queries_per_s"
    )
}

/// Adds an entity-level series for every pod-level family that has none, so rules can always
/// ask for `(entity, metric)`. Rates and counts are summed, the rest averaged, bucket by bucket
/// over the pods that reported.
pub fn add_entity_rollups(aligned: &mut Aligned) {
    let mut have: std::collections::BTreeSet<SeriesKey> = std::collections::BTreeSet::new();
    let mut fams: BTreeMap<SeriesKey, Vec<usize>> = BTreeMap::new();
    for (i, s) in aligned.series.iter().enumerate() {
        let mut k = s.key.clone();
        if k.pod.is_none() {
            have.insert(k);
        } else {
            k.pod = None;
            fams.entry(k).or_default().push(i);
        }
    }
    let len = aligned.grid.len;
    let mut added = Vec::new();
    for (key, members) in fams {
        if have.contains(&key) {
            continue;
        }
        let sum = sums_across_pods(&key.metric);
        let mut values = vec![f64::NAN; len];
        for (b, slot) in values.iter_mut().enumerate() {
            let (mut acc, mut n) = (0.0, 0u32);
            for &m in &members {
                let v = aligned.series[m].values[b];
                if v.is_finite() {
                    acc += v;
                    n += 1;
                }
            }
            if n > 0 {
                *slot = if sum { acc } else { acc / f64::from(n) };
            }
        }
        added.push(Series { key, values });
    }
    aligned.series.extend(added);
    aligned.series.sort_by(|a, b| a.key.cmp(&b.key));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(ts: &[i64], v: &[f64]) -> RawSeries {
        RawSeries {
            key: SeriesKey::entity("a", "latency_p99_ms"),
            ts: ts.to_vec(),
            values: v.to_vec(),
        }
    }

    fn windows() -> Windows {
        Windows {
            baseline_start: 0,
            baseline_end: 60_000,
            start: 60_000,
            end: 120_000,
            fired_at: 90_000,
        }
    }

    #[test]
    fn step_is_the_median_interval() {
        let s = raw(&[0, 10_000, 20_000, 30_000, 45_000], &[1.0; 5]);
        assert_eq!(median_interval(&[s]), Some(10_000));
    }

    #[test]
    fn duplicates_average_and_gaps_stay_gaps() {
        let s = raw(&[0, 0, 10_000, 30_000], &[1.0, 3.0, 5.0, 7.0]);
        let a = align(&[s], &windows(), Some(10_000));
        assert_eq!(a.grid.len, 12);
        assert_eq!(a.series[0].values[0], 2.0);
        assert!(a.series[0].values[2].is_nan(), "missing is not zero");
        assert_eq!(a.baseline, 0..6);
        assert_eq!(a.incident, 6..12);
        assert_eq!(a.alert, 9);
    }

    #[test]
    fn rollups_sum_rates_and_average_latencies() {
        let mut a = align(&[], &windows(), Some(60_000));
        let mk = |pod: &str, metric: &str, v: f64| Series {
            key: SeriesKey {
                pod: Some(pod.into()),
                ..SeriesKey::entity("svc", metric)
            },
            values: vec![v; a.grid.len],
        };
        a.series = vec![
            mk("p1", "requests_per_s", 10.0),
            mk("p2", "requests_per_s", 30.0),
            mk("p1", "latency_avg_ms", 10.0),
            mk("p2", "latency_avg_ms", 30.0),
        ];
        add_entity_rollups(&mut a);
        let get = |m: &str| {
            a.series
                .iter()
                .find(|s| s.key == SeriesKey::entity("svc", m))
                .unwrap()
                .values[0]
        };
        assert_eq!(get("requests_per_s"), 40.0);
        assert_eq!(get("latency_avg_ms"), 20.0);
    }
}

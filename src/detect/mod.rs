//! Detect: a robust anomaly score for every aligned series against its own baseline.
//!
//! Baseline level is the median, its spread the MAD (scaled to σ), floored so a flat baseline
//! does not turn a 0.1 % wobble into a huge z. The onset is the first incident bucket from which
//! the series stays beyond 3σ for most of the next couple of minutes (or, when the run creeps
//! just past that before the series jumps, the jump; when a blip a tenth its size came and went
//! before it, the move's own run); the incident level is the median of that anomalous run, so
//! a short fault inside a long window is not diluted.

use rayon::prelude::*;

use crate::align::Aligned;
use crate::model::{MINUTE_MS, buckets};
use crate::stats;

/// Robust z beyond which a bucket counts as anomalous.
pub const Z: f64 = 3.0;

/// Which way a series moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Above baseline.
    Up,
    /// Below baseline.
    Down,
    /// No sustained move.
    Flat,
}

/// Whether a metric's name says that lower is worse (availability, success rate, uptime).
#[must_use]
pub fn lower_is_worse(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    ["availab", "success", "uptime"]
        .iter()
        .any(|w| m.contains(w))
}

/// Whether a metric's name says it measures what users feel: latency, errors, failures, or
/// an availability or success rate.
#[must_use]
pub fn symptom_metric(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    ["lat", "duration", "error", "err_", "fail"]
        .iter()
        .any(|w| m.contains(w))
        || lower_is_worse(&m)
}

/// Whether a move in `direction` on `metric` is a symptom: latency, errors and any other
/// series rising, or an availability or success rate falling. A latency or error rate that
/// fell is the service doing better, whatever else changed (a quieter recording, a cache
/// warming up), and nothing a fault has to explain.
#[must_use]
pub fn worsened(metric: &str, direction: Direction) -> bool {
    match direction {
        Direction::Up => !lower_is_worse(metric),
        Direction::Down => lower_is_worse(metric),
        Direction::Flat => false,
    }
}

/// The anomaly score of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Baseline median.
    pub base: f64,
    /// Robust σ of the baseline (floored).
    pub sigma: f64,
    /// Finite baseline buckets.
    pub base_n: usize,
    /// Finite incident buckets.
    pub inc_n: usize,
    /// Incident level: median of the anomalous run, or of the whole window when there is none.
    pub level: f64,
    /// The 95th (up) or 5th (down) percentile of the incident window.
    pub peak: f64,
    /// (level − base) / σ.
    pub z: f64,
    /// level / base − 1; ±inf when the baseline is zero and the level is not.
    pub rel: f64,
    /// Sustained direction.
    pub direction: Direction,
    /// First bucket of the anomalous run.
    pub onset: Option<usize>,
    /// Last bucket of the anomalous run.
    pub run_end: Option<usize>,
}

impl Score {
    /// Enough data on both sides to say anything.
    #[must_use]
    pub fn testable(&self) -> bool {
        self.base_n >= 3 && self.inc_n >= 2
    }

    /// A sustained rise of at least `min_rel` (0.3 = +30 %).
    #[must_use]
    pub fn up(&self, min_rel: f64) -> bool {
        self.testable() && self.direction == Direction::Up && self.z >= Z && self.rel >= min_rel
    }

    /// A sustained fall of at least `min_rel` (0.3 = −30 %).
    #[must_use]
    pub fn down(&self, min_rel: f64) -> bool {
        self.testable() && self.direction == Direction::Down && self.z <= -Z && self.rel <= -min_rel
    }

    /// Whether `v` lies beyond the baseline (|z| ≥ [`Z`]) in the direction this series moved;
    /// false for a series that did not move.
    #[must_use]
    pub fn beyond(&self, v: f64) -> bool {
        let z = (v - self.base) / self.sigma;
        v.is_finite()
            && match self.direction {
                Direction::Up => z >= Z,
                Direction::Down => z <= -Z,
                Direction::Flat => false,
            }
    }

    /// Testable and not moved by `min_rel` either way.
    #[must_use]
    pub fn normal(&self, min_rel: f64) -> bool {
        self.testable() && !self.up(min_rel) && !self.down(min_rel)
    }

    /// Signed change in percent, for evidence text.
    #[must_use]
    pub fn pct(&self) -> String {
        if self.rel.is_infinite() {
            return "from zero".into();
        }
        let pct = (self.rel * 100.0).round();
        if pct == 0.0 {
            "±0%".into()
        } else {
            format!("{pct:+.0}%")
        }
    }
}

/// Scores one series.
#[must_use]
pub fn score(
    values: &[f64],
    baseline: std::ops::Range<usize>,
    incident: std::ops::Range<usize>,
    step_ms: i64,
) -> Score {
    let b = &values[baseline.start.min(values.len())..baseline.end.min(values.len())];
    let inc_range = incident.start.min(values.len())..incident.end.min(values.len());
    let inc = &values[inc_range.clone()];
    let base_n = b.iter().filter(|x| x.is_finite()).count();
    let inc_n = inc.iter().filter(|x| x.is_finite()).count();
    let base = stats::median(b).unwrap_or(f64::NAN);
    let mad = stats::mad_sigma(b, base).unwrap_or(0.0);
    let sd = stats::std_dev(b).unwrap_or(0.0);
    // Floors: a quarter σ of the raw spread (MAD is 0 on mostly-constant baselines with
    // spikes), 1 % of the level (limits and gauges are flat), and an absolute epsilon.
    let sigma = mad.max(0.25 * sd).max(0.01 * base.abs()).max(1e-9);
    let z_at = |v: f64| (v - base) / sigma;
    let window = buckets(2 * MINUTE_MS, step_ms).clamp(2, 8);

    let coarse = step_ms >= 2 * MINUTE_MS;
    let run = |sign: f64| {
        let hit = |i: usize| values[i].is_finite() && sign * z_at(values[i]) >= Z;
        let r = sustained_run(values, &inc_range, &hit, window, coarse)?;
        let dev = |i: usize| {
            if values[i].is_finite() {
                sign * (values[i] - base)
            } else {
                f64::MIN
            }
        };
        let r = past_blips(values, r, inc_range.end, &hit, &dev, window, coarse);
        Some(to_the_jump(values, r, base, sign, window, coarse))
    };
    let level_of = |r: Option<(usize, usize)>| {
        r.map_or_else(
            || stats::median(inc).unwrap_or(f64::NAN),
            |(s, e)| stats::median(&values[s..=e]).unwrap_or(f64::NAN),
        )
    };
    let (up, down) = (run(1.0), run(-1.0));
    let (lu, ld) = (level_of(up), level_of(down));
    let (direction, onset_run, level) = match (up, down) {
        (Some(_), Some(_)) if z_at(lu).abs() >= z_at(ld).abs() => (Direction::Up, up, lu),
        (Some(_), Some(_)) | (None, Some(_)) => (Direction::Down, down, ld),
        (Some(_), None) => (Direction::Up, up, lu),
        (None, None) => (Direction::Flat, None, level_of(None)),
    };
    let peak = match direction {
        Direction::Down => stats::quantile(inc, 0.05),
        _ => stats::quantile(inc, 0.95),
    }
    .unwrap_or(f64::NAN);
    let rel = relative_change(level, base);
    Score {
        base,
        sigma,
        base_n,
        inc_n,
        level,
        peak,
        z: z_at(level),
        rel,
        direction,
        onset: onset_run.map(|r| r.0),
        run_end: onset_run.map(|r| r.1),
    }
}

/// How many times larger than everything before it a move must be for an earlier run that
/// came back to the baseline to count as a blip, not as the move's onset.
const BLIP: f64 = 10.0;

/// A run that came back within the baseline for a sustained stretch (twice the run window)
/// before a move [`BLIP`] times its size is a blip: the onset is the start of the move's own
/// run. Runs of a like size (an OOM kill, a restart, degrading again) keep the first onset.
/// `dev` is a sample's deviation from the baseline the bad way (`f64::MIN` for a gap).
fn past_blips(
    values: &[f64],
    (start, end): (usize, usize),
    inc_end: usize,
    hit: &impl Fn(usize) -> bool,
    dev: &impl Fn(usize) -> f64,
    window: usize,
    coarse: bool,
) -> (usize, usize) {
    let Some(peak) = (start..=end).max_by(|&a, &b| dev(a).total_cmp(&dev(b))) else {
        return (start, end);
    };
    let (mut quiet, mut back) = (0, None);
    for i in (start..peak).filter(|&i| values[i].is_finite()) {
        quiet = if hit(i) { 0 } else { quiet + 1 };
        if quiet >= 2 * window {
            back = Some(i);
        }
    }
    let Some(back) = back else {
        return (start, end);
    };
    let early = (start..=back).map(dev).fold(f64::MIN, f64::max);
    if early * BLIP > dev(peak) {
        return (start, end);
    }
    sustained_run(values, &(back + 1..inc_end), hit, window, coarse).unwrap_or((start, end))
}

/// A run that creeps just past the threshold before its series jumps (noise on a tight
/// baseline, a mild drift) begins at the jump: the first sustained sample at least half-way to
/// the run's level, when what came before it stayed within a twentieth of the shift. A ramp keeps
/// its start: its early part is a fair share of the way up already.
fn to_the_jump(
    values: &[f64],
    (start, end): (usize, usize),
    base: f64,
    sign: f64,
    window: usize,
    coarse: bool,
) -> (usize, usize) {
    let Some(level) = stats::median(&values[start..=end]) else {
        return (start, end);
    };
    let shift = sign * (level - base);
    if shift <= 0.0 {
        return (start, end);
    }
    let halfway = |i: usize| values[i].is_finite() && sign * (values[i] - base) >= 0.5 * shift;
    let Some((jump, _)) = sustained_run(values, &(start..end + 1), &halfway, window, coarse) else {
        return (start, end);
    };
    let before = stats::median(&values[start..jump]).map(|m| sign * (m - base));
    if jump > start && before.is_some_and(|b| b < shift / 20.0) {
        (jump, end)
    } else {
        (start, end)
    }
}

/// The first sustained run of samples that `hit` inside `inc`: (its first sample, its last
/// sample that hits).
fn sustained_run(
    values: &[f64],
    inc: &std::ops::Range<usize>,
    hit: &impl Fn(usize) -> bool,
    window: usize,
    coarse: bool,
) -> Option<(usize, usize)> {
    let start = inc.clone().find(|&i| {
        if !hit(i) {
            return false;
        }
        // The next `window` samples, not buckets: a gap in the sampling must not turn
        // one spike followed by missing data into a sustained run. A single sample left
        // at the end of the window counts only when it spans minutes itself (a 5-minute
        // aggregate); a 15-second one there is as likely a blip as an onset. The search
        // stops after four windows' worth of buckets: a gap that long ends the run.
        let (mut ahead, mut hits) = (0usize, 0usize);
        for (j, v) in values
            .iter()
            .enumerate()
            .take(inc.end)
            .skip(i)
            .take(4 * window)
        {
            if v.is_finite() {
                ahead += 1;
                hits += usize::from(hit(j));
                if ahead == window {
                    break;
                }
            }
        }
        (hits >= 2 || (ahead == 1 && coarse)) && hits as f64 >= 0.6 * ahead as f64
    })?;
    let end = (start..inc.end).rev().find(|&i| hit(i)).unwrap_or(start);
    Some((start, end))
}

/// `level` against `base` as a fraction (0.5 = +50 %); ±∞ from a zero baseline.
fn relative_change(level: f64, base: f64) -> f64 {
    if base.abs() > 1e-12 {
        level / base - 1.0
    } else if level.abs() > 1e-12 {
        f64::INFINITY.copysign(level)
    } else {
        0.0
    }
}

/// Scores every series of an aligned set, in parallel; the result is indexed like `series`.
#[must_use]
pub fn score_all(aligned: &Aligned) -> Vec<Score> {
    aligned
        .series
        .par_iter()
        .map(|s| {
            score(
                &s.values,
                aligned.baseline.clone(),
                aligned.incident.clone(),
                aligned.grid.step,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(n: usize, level: f64) -> Vec<f64> {
        (0..n)
            .map(|i| level * (1.0 + 0.02 * ((i * 7 % 5) as f64 - 2.0)))
            .collect()
    }

    #[test]
    fn only_a_move_the_bad_way_is_a_symptom() {
        assert!(worsened("latency_p99_ms", Direction::Up));
        assert!(!worsened("latency_p99_ms", Direction::Down));
        assert!(!worsened("errors_per_s", Direction::Flat));
        assert!(worsened("availability", Direction::Down));
        assert!(!worsened("success_rate", Direction::Up));
    }

    #[test]
    fn flat_series_is_normal() {
        let v = noisy(40, 100.0);
        let s = score(&v, 0..20, 20..40, 15_000);
        assert_eq!(s.direction, Direction::Flat);
        assert!(s.normal(0.2));
    }

    #[test]
    fn a_run_that_creeps_before_it_jumps_begins_at_the_jump() {
        // 100 at baseline, 104 (past 3σ of a tight baseline) from 20, 500 from 30.
        let mut v = noisy(20, 100.0);
        v.extend(std::iter::repeat_n(104.0, 10));
        v.extend(noisy(10, 500.0));
        assert_eq!(score(&v, 0..20, 20..40, 60_000).onset, Some(30));
        // A ramp keeps its start.
        let mut ramp = noisy(20, 100.0);
        ramp.extend((1..=20).map(|i| 100.0 + 20.0 * i as f64));
        assert_eq!(score(&ramp, 0..20, 20..40, 60_000).onset, Some(20));
    }

    #[test]
    fn a_blip_that_came_and_went_before_a_move_ten_times_its_size_is_not_its_onset() {
        // 100 at baseline, 150 for 4 minutes from 20, back for 10, then 2000 from 34.
        let mut v = noisy(20, 100.0);
        v.extend(std::iter::repeat_n(150.0, 4));
        v.extend(noisy(10, 100.0));
        v.extend(noisy(6, 2000.0));
        assert_eq!(score(&v, 0..20, 20..40, 60_000).onset, Some(34));
        // A second run of a like size (a restart, then degrading again) keeps the first onset.
        let mut again = noisy(20, 100.0);
        again.extend(std::iter::repeat_n(1500.0, 4));
        again.extend(noisy(10, 100.0));
        again.extend(noisy(6, 2000.0));
        assert_eq!(score(&again, 0..20, 20..40, 60_000).onset, Some(20));
    }

    #[test]
    fn step_up_has_onset_and_level() {
        let mut v = noisy(40, 100.0);
        for x in &mut v[30..] {
            *x *= 3.0;
        }
        let s = score(&v, 0..20, 20..40, 15_000);
        assert_eq!(s.direction, Direction::Up);
        assert_eq!(s.onset, Some(30));
        assert!(s.up(0.5) && s.rel > 1.8, "{s:?}");
    }

    #[test]
    fn a_single_spike_is_not_sustained() {
        let mut v = noisy(40, 100.0);
        v[25] = 1000.0;
        let s = score(&v, 0..20, 20..40, 15_000);
        assert_eq!(s.onset, None);
    }

    #[test]
    fn a_spike_before_a_gap_or_at_the_end_is_not_sustained() {
        // One sample out of line, then no data for a while: still one sample.
        let mut v = noisy(40, 100.0);
        v[25] = 1000.0;
        for x in &mut v[26..30] {
            *x = f64::NAN;
        }
        assert_eq!(score(&v, 0..20, 20..40, 15_000).onset, None);
        // The last sample of the window alone: a blip as likely as an onset ...
        let mut v = noisy(40, 100.0);
        v[39] = 1000.0;
        assert_eq!(score(&v, 0..20, 20..40, 60_000).onset, None);
        // ... unless it is itself a five-minute aggregate.
        assert_eq!(score(&v, 0..20, 20..40, 300_000).onset, Some(39));
    }

    #[test]
    fn short_fault_inside_a_long_window_keeps_its_level() {
        let mut v = noisy(60, 10.0);
        for x in &mut v[40..46] {
            *x = 50.0;
        }
        let s = score(&v, 0..20, 20..60, 15_000);
        assert_eq!((s.onset, s.run_end), (Some(40), Some(45)));
        assert!((s.level - 50.0).abs() < 1e-9);
    }

    #[test]
    fn gaps_do_not_count_as_zero() {
        let mut v = noisy(40, 100.0);
        for x in v.iter_mut().skip(21).step_by(2) {
            *x = f64::NAN;
        }
        let s = score(&v, 0..20, 20..40, 15_000);
        assert!(s.normal(0.2), "{s:?}");
    }

    #[test]
    fn no_baseline_is_not_testable() {
        let mut v = vec![f64::NAN; 40];
        v[30] = 5.0;
        v[31] = 5.0;
        assert!(!score(&v, 0..20, 20..40, 15_000).testable());
    }
}

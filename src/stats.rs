//! Small robust statistics over slices that may hold NaN gaps: the one place every stage
//! (alignment, detection, evidence, ranking, reports, mining) takes its medians and spreads from.

use std::cmp::Ordering;

/// The finite values of a slice.
#[must_use]
pub fn finite(v: &[f64]) -> Vec<f64> {
    v.iter().copied().filter(|x| x.is_finite()).collect()
}

/// The q-quantile (0..=1, linear interpolation) of finite values; None when there are none.
#[must_use]
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    let mut f = finite(v);
    if f.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (f.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    // Selection instead of a sort: the two order statistics are all that is needed, and
    // medians over every series of an archive are a large share of scoring.
    let (_, &mut at_lo, above) = f.select_nth_unstable_by(lo, f64::total_cmp);
    let at_hi = if hi == lo {
        at_lo
    } else {
        above
            .iter()
            .copied()
            .min_by(f64::total_cmp)
            .unwrap_or(at_lo)
    };
    Some(at_lo + (at_hi - at_lo) * (pos - lo as f64))
}

/// The median of the finite values.
#[must_use]
pub fn median(v: &[f64]) -> Option<f64> {
    quantile(v, 0.5)
}

/// The middle of the finite values, the upper of the two for an even count. Unlike
/// [`median`] it is always one of the values: a sample that happened, where a series is built
/// from samples (call gaps) or values are checked against one of their own.
#[must_use]
pub fn middle(v: &[f64]) -> Option<f64> {
    upper_middle(finite(v), f64::total_cmp)
}

/// [`middle`] of ordered values (durations, times): a sampling step is the middle of its gaps.
#[must_use]
pub fn middle_of<T: Ord + Copy>(v: Vec<T>) -> Option<T> {
    upper_middle(v, T::cmp)
}

fn upper_middle<T: Copy>(mut v: Vec<T>, cmp: impl FnMut(&T, &T) -> Ordering) -> Option<T> {
    if v.is_empty() {
        return None;
    }
    let at = v.len() / 2;
    Some(*v.select_nth_unstable_by(at, cmp).1)
}

/// The largest finite value.
#[must_use]
pub fn max(v: &[f64]) -> Option<f64> {
    v.iter().copied().filter(|x| x.is_finite()).reduce(f64::max)
}

/// The mean of the finite values.
#[must_use]
pub fn mean(v: &[f64]) -> Option<f64> {
    let f = finite(v);
    (!f.is_empty()).then(|| f.iter().sum::<f64>() / f.len() as f64)
}

/// Median absolute deviation around `m`, scaled by 1.4826 to estimate σ under normal noise.
#[must_use]
pub fn mad_sigma(v: &[f64], m: f64) -> Option<f64> {
    let dev: Vec<f64> = v
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| (x - m).abs())
        .collect();
    median(&dev).map(|d| d * 1.4826)
}

/// The standard deviation of the finite values (population).
#[must_use]
pub fn std_dev(v: &[f64]) -> Option<f64> {
    let f = finite(v);
    let m = mean(&f)?;
    Some((f.iter().map(|x| (x - m).powi(2)).sum::<f64>() / f.len() as f64).sqrt())
}

/// Pearson correlation over the buckets where both are finite; None with fewer than 4 pairs
/// or a constant side.
#[must_use]
pub fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .collect();
    if pairs.len() < 4 {
        return None;
    }
    let n = pairs.len() as f64;
    let (ma, mb) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_middle_is_a_value_the_upper_one_of_an_even_count() {
        assert_eq!(middle(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(middle(&[4.0, 1.0, 3.0, 2.0]), Some(3.0));
        assert_eq!(middle(&[f64::NAN, 5.0]), Some(5.0));
        assert_eq!(middle(&[f64::NAN]), None);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn quantiles_match_the_sorted_definition() {
        let reference = |v: &[f64], q: f64| {
            let mut f = finite(v);
            f.sort_by(f64::total_cmp);
            let pos = q * (f.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            f[lo] + (f[hi] - f[lo]) * (pos - lo as f64)
        };
        let mut x = 7u64;
        for n in [1, 2, 3, 10, 101, 500] {
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    match i % 9 {
                        0 => f64::NAN,
                        1 => 5.0, // ties
                        _ => (x >> 40) as f64 / 1e3 - 3.0,
                    }
                })
                .collect();
            if finite(&v).is_empty() {
                continue;
            }
            for q in [0.0, 0.05, 0.25, 0.5, 0.9, 0.95, 1.0] {
                assert_eq!(quantile(&v, q), Some(reference(&v, q)), "n={n} q={q}");
            }
        }
    }

    #[test]
    fn ignores_gaps() {
        let v = [1.0, f64::NAN, 3.0, 2.0];
        assert_eq!(median(&v), Some(2.0));
        assert_eq!(mean(&v), Some(2.0));
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn mad_estimates_sigma_and_resists_outliers() {
        let v = [10.0, 11.0, 9.0, 10.0, 1000.0];
        let s = mad_sigma(&v, median(&v).unwrap()).unwrap();
        assert!(s < 2.0, "{s}");
    }

    #[test]
    fn correlation_of_proportional_series_is_one() {
        let a = [1.0, 2.0, 3.0, 4.0, f64::NAN];
        let b = [2.0, 4.0, 6.0, 8.0, 1.0];
        assert!((correlation(&a, &b).unwrap() - 1.0).abs() < 1e-12);
    }
}

//! From clean physical values to what a scrape pipeline stores: measurement noise, rare
//! outlier samples, lost samples (NaN or a missing row) and whole-pod scrape gaps.
//!
//! Noise is drawn from one stream in emission order, so a run is reproducible; shapes and
//! magnitudes are chosen to look like Prometheus data, not like a textbook curve.

use crate::model::MetricRow;

use super::rng::Rng;

/// How a value is measured, which decides its noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// Multiplicative lognormal noise with this sigma, plus a rare outlier sample.
    Gauge(f64),
    /// An event rate: counts in a scrape interval are Poisson, so small rates are lumpy.
    Rate,
    /// A 0..1 utilisation with additive noise of this sigma.
    Ratio(f64),
    /// Configured or counted values (limits, restart counters): exact.
    Exact,
}

/// Labels of one series (all but the timestamp and value).
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    /// Entity id.
    pub entity: &'a str,
    /// Pod, or None for entity level.
    pub pod: Option<&'a str>,
    /// Node of the pod.
    pub node: Option<&'a str>,
    /// `app`/`sidecar`, None for non-container series.
    pub container: Option<&'a str>,
    /// Dependency called.
    pub target: Option<&'a str>,
    /// Collector.
    pub source: Option<&'a str>,
}

impl<'a> Labels<'a> {
    /// Entity-level labels.
    #[must_use]
    pub fn entity(entity: &'a str) -> Labels<'a> {
        Labels {
            entity,
            pod: None,
            node: None,
            container: None,
            target: None,
            source: None,
        }
    }
    /// Pod-level labels.
    #[must_use]
    pub fn pod(entity: &'a str, pod: &'a str, node: &'a str) -> Labels<'a> {
        Labels {
            entity,
            pod: Some(pod),
            node: Some(node),
            container: None,
            target: None,
            source: None,
        }
    }
    /// With a container.
    #[must_use]
    pub fn container(mut self, c: &'a str) -> Labels<'a> {
        self.container = Some(c);
        self
    }
    /// With a dependency target.
    #[must_use]
    pub fn target(mut self, t: &'a str) -> Labels<'a> {
        self.target = Some(t);
        self
    }
    /// With a source.
    #[must_use]
    pub fn source(mut self, s: &'a str) -> Labels<'a> {
        self.source = Some(s);
        self
    }
}

/// A span of samples a pod's scrape target was unreachable (all its series are absent).
#[derive(Debug, Clone)]
pub struct Gap {
    /// Pod name.
    pub pod: String,
    /// First missing step.
    pub from: usize,
    /// Last missing step (inclusive).
    pub to: usize,
}

/// Collects metric rows, applying noise and losses.
#[derive(Debug)]
pub struct Emitter {
    rng: Rng,
    step_s: f64,
    /// Probability that any one sample is lost.
    pub loss: f64,
    /// Probability that any one gauge sample is an outlier.
    pub outlier: f64,
    gaps: Vec<Gap>,
    /// Rows emitted so far.
    pub rows: Vec<MetricRow>,
}

impl Emitter {
    /// A new emitter; `step_ms` scales Poisson noise on rates.
    #[must_use]
    pub fn new(rng: Rng, step_ms: i64, gaps: Vec<Gap>) -> Emitter {
        Emitter {
            rng,
            step_s: step_ms as f64 / 1000.0,
            loss: 0.003,
            outlier: 0.002,
            gaps,
            rows: Vec::new(),
        }
    }

    /// The noisy value a collector would report for `v`.
    pub fn measure(&mut self, v: f64, noise: Noise) -> f64 {
        match noise {
            Noise::Exact => v,
            Noise::Gauge(sigma) => {
                let mut x = v * (sigma * self.rng.normal()).exp();
                if self.rng.chance(self.outlier) {
                    x *= self.rng.range(1.4, 2.6);
                }
                x
            }
            Noise::Rate => {
                let n = v * self.step_s;
                if n < 200.0 {
                    self.rng.poisson(n) as f64 / self.step_s
                } else {
                    v * (0.02 * self.rng.normal()).exp()
                }
            }
            Noise::Ratio(sigma) => (v + sigma * self.rng.normal()).clamp(0.0, 1.0),
        }
    }

    /// Emits one sample of one series at step `k` (timestamp `ts`).
    pub fn emit(&mut self, k: usize, ts: i64, metric: &str, l: Labels<'_>, v: f64, noise: Noise) {
        if let Some(p) = l.pod {
            if self
                .gaps
                .iter()
                .any(|g| g.pod == p && (g.from..=g.to).contains(&k))
            {
                return;
            }
        }
        let mut value = self.measure(v, noise);
        if noise != Noise::Exact && self.rng.chance(self.loss) {
            // Half the losses leave a NaN row (exporter wrote nothing), half drop the row.
            if self.rng.chance(0.5) {
                return;
            }
            value = f64::NAN;
        }
        self.rows.push(MetricRow {
            ts_ms: ts,
            entity: l.entity.to_string(),
            metric: metric.to_string(),
            value,
            pod: l.pod.map(str::to_string),
            node: l.node.map(str::to_string),
            container: l.container.map(str::to_string),
            target: l.target.map(str::to_string),
            source: l.source.map(str::to_string),
        });
    }
}

/// Queueing multiplier of a resource at utilisation `rho` (demand / capacity): M/M/1 below
/// 90 %, then a steep linear climb standing in for a backlog that only timeouts bound.
#[must_use]
pub fn queue(rho: f64, overload_slope: f64) -> f64 {
    let rho = rho.max(0.0);
    if rho <= 0.9 {
        1.0 / (1.0 - rho)
    } else {
        10.0 + (rho - 0.9) * overload_slope
    }
}

/// Share of calls slower than `timeout_ms` when latency is lognormal with mean `mean_ms` and
/// log-sigma `sigma` (0.6 for a healthy call; queueing widens it): how slowness becomes
/// timeouts and errors without a hand-set threshold.
#[must_use]
pub fn timeout_share(mean_ms: f64, timeout_ms: f64, sigma: f64) -> f64 {
    if mean_ms <= 0.0 {
        return 0.0;
    }
    let median = mean_ms / (sigma * sigma / 2.0).exp();
    let z = (timeout_ms / median).ln() / (sigma * std::f64::consts::SQRT_2);
    0.5 * erfc(z)
}

/// Complementary error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let r = poly * (-z * z).exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queueing_grows_past_saturation() {
        assert!((queue(0.5, 100.0) - 2.0).abs() < 1e-9);
        assert!(queue(1.2, 100.0) > 3.0 * queue(0.6, 100.0));
    }

    #[test]
    fn timeouts_follow_the_tail() {
        assert!(timeout_share(10.0, 1000.0, 0.6) < 1e-6);
        let half = timeout_share(100.0, 100.0 / (0.18f64).exp(), 0.6);
        assert!((half - 0.5).abs() < 1e-3, "{half}");
        assert!(timeout_share(400.0, 300.0, 0.6) > 0.5);
    }

    #[test]
    fn gaps_and_losses_remove_samples() {
        let gaps = vec![Gap {
            pod: "p".into(),
            from: 2,
            to: 3,
        }];
        let mut e = Emitter::new(Rng::new(1), 15_000, gaps);
        for k in 0..5 {
            e.emit(
                k,
                k as i64,
                "cpu_cores",
                Labels::pod("s", "p", "n"),
                1.0,
                Noise::Exact,
            );
        }
        assert_eq!(e.rows.len(), 3);
    }
}

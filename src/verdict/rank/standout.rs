//! Peer standout: a fault acts first on one entity, and what it does there shows on that entity
//! alone — the CPU of a contended container, the network time of calls into a delayed pod, the
//! mix of log statements of code that now takes another path — while the symptoms it causes
//! (latency, errors, retries) spread to every caller. So per signal (a metric name, or the log
//! template mix), compared across the entities that carry it, the most anomalous entity stands
//! out by its margin over the runner-up. A signal every caller shows has no margin and says
//! nothing about the origin; a signal one entity shows points at it.

use std::collections::BTreeMap;

use super::signals::capped_strength;
use crate::evidence::Context;

/// A signal is a peer comparison only when this many entities carry it: one entity's unique
/// metric (the front end's own latency) has no peers to stand out from.
pub const MIN_PEERS: usize = 3;

/// Name of the log template mix signal in [`Standout::signal`].
pub const LOG_MIX: &str = "log template mix";

/// One entity's best margin over its peers.
#[derive(Debug, Clone, PartialEq)]
pub struct Standout {
    /// Its strength minus the runner-up's on the same signal, 0..1.
    pub margin: f64,
    /// The signal (metric name or [`LOG_MIX`]).
    pub signal: String,
}

/// Per signal, the top entity's margin over the runner-up; per entity, its best signal.
/// `signals` maps a signal to each entity's strength on it (0..1).
#[must_use]
pub fn margins(signals: &BTreeMap<String, BTreeMap<String, f64>>) -> BTreeMap<String, Standout> {
    let mut out: BTreeMap<String, Standout> = BTreeMap::new();
    for (signal, per) in signals {
        if per.len() < MIN_PEERS {
            continue;
        }
        let mut v: Vec<(&String, f64)> = per.iter().map(|(e, s)| (e, *s)).collect();
        // Ties by name keep the choice deterministic; a tie has no margin anyway.
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let margin = v[0].1 - v[1].1;
        if margin <= 0.0 {
            continue;
        }
        let better = out.get(v[0].0).is_none_or(|s| margin > s.margin);
        if better {
            out.insert(
                v[0].0.clone(),
                Standout {
                    margin,
                    signal: signal.clone(),
                },
            );
        }
    }
    out
}

/// Every trusted series' strength times the `magnitude` of its move, per metric name and
/// entity (the strongest of its pods and containers), but load metrics (`is_load`) and the
/// alert metric of the alert entity, plus the log template mix of entities with logs.
#[must_use]
pub fn signals(ctx: &Context) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    // The alert's own series moved by definition; that it moved more than its peers is the
    // premise of the incident, not evidence of where it started.
    let alert = ctx.alert_key();
    for v in ctx.find(|k| (k.entity.as_str(), k.metric.as_str()) != alert && !is_load(&k.metric)) {
        let s = capped_strength(ctx, &v) * magnitude(v.score);
        let e = out
            .entry(v.key.metric.clone())
            .or_default()
            .entry(v.key.entity.clone())
            .or_insert(0.0);
        *e = e.max(s);
    }
    let mix = log_mix(ctx);
    if !mix.is_empty() {
        out.insert(LOG_MIX.to_string(), mix);
    }
    out
}

/// Whether a metric measures the load put on an entity (requests, workload, throughput). Its
/// callers decide it, not the entity: a fault shows in what an entity does with its work, and
/// one lambda's invocations doubling says nothing about where a fault started.
fn is_load(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    ["request", "workload", "throughput", "invocation"]
        .iter()
        .any(|w| m.contains(w))
}

/// How large a move is, 0..1: |log(level / baseline)| with a tenfold change in full. Peers on
/// one metric share its nature and unit, so the size of their moves compares directly, where
/// z-scores also reflect how noisy each baseline was: a fault's first effect is large (calls
/// into a delayed pod take 500× longer) while what spreads or jitters is not.
fn magnitude(s: &crate::detect::Score) -> f64 {
    if !s.rel.is_finite() {
        return 1.0;
    }
    ((1.0 + s.rel).abs().max(1e-9).ln().abs() / 10f64.ln()).min(1.0)
}

/// Lines an entity must have logged, in the baseline and in the incident, for its template
/// mix to be compared: a handful of lines has no stable mix.
const MIN_LINES: (usize, usize) = (30, 10);
/// Deviation (in Poisson σ) from which a template's count counts as shifted, and at which the
/// shift is full strength (log scale between).
const MIX_FROM: f64 = 3.0;
const MIX_FULL: f64 = 40.0;

/// How far an entity's incident log lines depart from its baseline mix of templates, 0..1,
/// whatever their level: code that returns early stops logging what it logged after the
/// return point, code that throws logs another path, and neither needs an error line. Per
/// template, the incident count against the count the baseline share predicts, in Poisson σ;
/// the entity's largest.
#[must_use]
pub fn log_mix(ctx: &Context) -> BTreeMap<String, f64> {
    let mut dev: BTreeMap<&str, f64> = BTreeMap::new();
    for t in &ctx.logs.templates {
        let Some(&(nb, ni)) = ctx.logs.lines.get(&t.entity) else {
            continue;
        };
        if nb < MIN_LINES.0 || ni < MIN_LINES.1 {
            continue;
        }
        let expected = t.baseline as f64 * ni as f64 / nb as f64;
        let d = (t.incident as f64 - expected).abs() / (expected + 1.0).sqrt();
        let e = dev.entry(t.entity.as_str()).or_insert(0.0);
        *e = e.max(d);
    }
    dev.into_iter()
        .map(|(e, d)| {
            let s = if d < MIX_FROM {
                0.0
            } else {
                ((1.0 + d - MIX_FROM).ln() / (1.0 + MIX_FULL - MIX_FROM).ln()).min(1.0)
            };
            (e.to_string(), s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(rows: &[(&str, &str, f64)]) -> BTreeMap<String, BTreeMap<String, f64>> {
        let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for (m, e, s) in rows {
            out.entry((*m).to_string())
                .or_default()
                .insert((*e).to_string(), *s);
        }
        out
    }

    #[test]
    fn a_signal_one_entity_shows_points_at_it() {
        let m = margins(&sig(&[
            ("cpu", "a", 0.9),
            ("cpu", "b", 0.1),
            ("cpu", "c", 0.0),
            // Latency everywhere: no margin, no standout.
            ("lat", "a", 0.8),
            ("lat", "b", 0.8),
            ("lat", "c", 0.7),
        ]));
        assert_eq!(m.len(), 1, "{m:?}");
        let a = &m["a"];
        assert!((a.margin - 0.8).abs() < 1e-9 && a.signal == "cpu", "{a:?}");
    }

    #[test]
    fn a_signal_without_peers_says_nothing() {
        let m = margins(&sig(&[("p50", "front", 1.0), ("p50", "x", 0.0)]));
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn each_entity_keeps_its_best_signal() {
        let m = margins(&sig(&[
            ("cpu", "a", 0.5),
            ("cpu", "b", 0.2),
            ("cpu", "c", 0.0),
            ("gap", "a", 1.0),
            ("gap", "b", 0.1),
            ("gap", "c", 0.0),
        ]));
        assert_eq!(m["a"].signal, "gap");
        assert!((m["a"].margin - 0.9).abs() < 1e-9);
    }

    #[test]
    fn load_metrics_are_not_a_fault_signal() {
        assert!(is_load("requests_per_s"));
        assert!(is_load("PodWorkload(Ops)"));
        assert!(!is_load("cpu_cores"));
        assert!(!is_load("call_gap_ms"));
    }
}

//! Peer standout: a fault acts first on one entity, and what it does there shows on that entity
//! alone — the CPU of a contended container, the network time of calls into a delayed pod, the
//! mix of log statements of code that now takes another path — while the symptoms it causes
//! (latency, errors, retries) spread to every caller. So per signal (a metric name, or the log
//! template mix), compared across the entities that carry it, the most anomalous entity stands
//! out by its margin over the runner-up. A signal every caller shows has no margin and says
//! nothing about the origin; a signal one entity shows points at it. Where a series' own past
//! cannot say how anomalous it is (no baseline, or the same fault minutes earlier), a level
//! orders of magnitude outside what its peers read counts instead (see `peer_levels`).

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
        if super::signals::wrong_way(&v.key.metric, v.score.direction) {
            continue;
        }
        let s = capped_strength(ctx, &v)
            * magnitude(v.score)
            * super::signals::way_weight(&v.key.metric, v.score.direction);
        let e = out
            .entry(v.key.metric.clone())
            .or_default()
            .entry(v.key.entity.clone())
            .or_insert(0.0);
        *e = e.max(s);
    }
    for (metric, per) in peer_levels(ctx) {
        let m = out.entry(metric).or_default();
        for (e, s) in per {
            let x = m.entry(e).or_insert(0.0);
            *x = x.max(s);
        }
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

/// Orders of magnitude (log10) beyond its peers' spread at which a level counts in full.
const LEVEL_FULL: f64 = 2.0;

/// A level far outside what the same metric reads on every other entity, judged without the
/// series' own baseline spread. A metric shared by many entities often has a common level: the
/// network time of calls is a few milliseconds into every service, so one service's calls
/// taking two seconds stand out among its peers whatever its own past holds. That past may hold
/// nothing (a series measured only while something happens: spans sampled around events, a
/// pod that just started) or the same fault minutes earlier (a fault that recurs), which
/// makes the move look ordinary against its own baseline. Per entity: how far its incident
/// level sits above its peers' incident medians and its own baseline median (log10, less
/// three of the peers' robust spreads), a tenfold excess over that in full; below them when
/// lower is worse. Counted for a series with a sustained move its detector saw, or too short
/// a baseline to have one; needs `MIN_PEERS` other entities with the metric.
fn peer_levels(ctx: &Context) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for (metric, per) in levels(ctx) {
        if per.len() <= MIN_PEERS {
            continue;
        }
        for (e, s) in level_margins(metric, &per) {
            out.entry(metric.to_string())
                .or_default()
                .insert(e.to_string(), s);
        }
    }
    out
}

/// Per entity with a metric: (log10 incident median, candidate: (log10 level, log10 own
/// baseline, log10 incident samples)).
type Level = (f64, Option<(f64, Option<f64>, Vec<f64>)>);

/// metric → entity → [`Level`], over every series but the alert's own and load metrics.
fn levels(ctx: &Context) -> BTreeMap<&str, BTreeMap<&str, Level>> {
    use crate::detect::{Direction, Z};
    use crate::stats;
    let alert = ctx.alert_key();
    let mut levels: BTreeMap<&str, BTreeMap<&str, Level>> = BTreeMap::new();
    let inc = ctx.aligned.incident.clone();
    for v in ctx.find(|k| (k.entity.as_str(), k.metric.as_str()) != alert && !is_load(&k.metric)) {
        let x = &v.values[inc.start.min(v.values.len())..inc.end.min(v.values.len())];
        let Some(median) = stats::median(x).filter(|l| *l > 0.0) else {
            continue;
        };
        let want = if super::signals::lower_is_worse(&v.key.metric) {
            Direction::Down
        } else {
            Direction::Up
        };
        let s = v.score;
        let samples = || x.iter().filter(|x| **x > 0.0).map(|x| x.log10()).collect();
        let candidate = if s.base_n < 3 && s.inc_n >= 2 {
            Some((median.log10(), None, samples()))
        } else if s.testable() && s.direction == want && s.z.abs() >= Z && s.level > 0.0 {
            Some((
                s.level.log10(),
                (s.base > 0.0).then(|| s.base.log10()),
                samples(),
            ))
        } else {
            None
        };
        let e = levels
            .entry(v.key.metric.as_str())
            .or_default()
            .entry(v.key.entity.as_str())
            .or_insert((f64::NEG_INFINITY, None));
        e.0 = e.0.max(median.log10());
        if let Some(c) = candidate {
            // The entity's most extreme candidate series (of its pods) speaks for it.
            let better = e.1.as_ref().is_none_or(|(old, ..)| {
                if want == Direction::Up {
                    c.0 > *old
                } else {
                    c.0 < *old
                }
            });
            if better {
                e.1 = Some(c);
            }
        }
    }
    levels
}

/// Each candidate entity's margin over its peers on `metric`, 0..1 (only those above 0).
fn level_margins<'a>(metric: &str, per: &BTreeMap<&'a str, Level>) -> Vec<(&'a str, f64)> {
    use crate::stats;
    let sign = if super::signals::lower_is_worse(metric) {
        -1.0
    } else {
        1.0
    };
    let mut out = Vec::new();
    for (e, (_, candidate)) in per {
        let Some((level, own, samples)) = candidate else {
            continue;
        };
        let peers: Vec<f64> = per
            .iter()
            .filter(|(p, _)| *p != e)
            .map(|(_, x)| x.0)
            .collect();
        let Some(mid) = stats::median(&peers) else {
            continue;
        };
        let spread = stats::mad_sigma(&peers, mid).unwrap_or(0.0).max(0.1);
        let reference = own.map_or(mid, |b| if sign > 0.0 { mid.max(b) } else { mid.min(b) });
        let excess = |l: f64| sign * (l - reference) - 3.0 * spread;
        // One sample out of line is a blip (a minute's few slow calls); two make a state.
        let support = samples.iter().filter(|l| excess(**l) > 0.0).count().min(2) as f64 / 2.0;
        let s = (excess(*level) / LEVEL_FULL).clamp(0.0, 1.0) * support;
        if s > 0.0 {
            out.push((*e, s));
        }
    }
    out
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

    use crate::evidence::testing::{Fixture, ONSET, k};

    /// Four services whose calls spend ~3 ms on the network, before and during the incident.
    fn gap_peers() -> Fixture {
        ["a", "b", "c", "d"]
            .iter()
            .zip([2.5, 3.0, 3.5, 4.0])
            .fold(Fixture::new("a"), |f, (e, v)| {
                f.flat(k(e, "call_gap_ms"), v)
            })
    }

    fn level(ctx: &Context, entity: &str) -> f64 {
        peer_levels(ctx)
            .get("call_gap_ms")
            .and_then(|m| m.get(entity))
            .copied()
            .unwrap_or(0.0)
    }

    #[test]
    fn a_series_without_a_past_stands_out_among_its_peers() {
        // Measured only from the onset: no baseline to score against, but 2 s against 3 ms.
        let ctx = gap_peers()
            .step(k("e", "call_gap_ms"), f64::NAN, 2000.0)
            .build();
        assert!(level(&ctx, "e") > 0.9, "{:?}", peer_levels(&ctx));
        assert!(["a", "b", "c", "d"].iter().all(|p| level(&ctx, p) == 0.0));
        assert_eq!(margins(&signals(&ctx))["e"].signal, "call_gap_ms");
    }

    #[test]
    fn a_fault_that_recurs_stands_out_though_its_baseline_saw_it() {
        // The same delay, a little worse, a few minutes before the window: against its own
        // baseline the move is nothing new, against its peers it is three orders of magnitude.
        let ctx = gap_peers()
            .shaped(k("e", "call_gap_ms"), |i| {
                if i >= ONSET {
                    2000.0
                } else if (12..15).contains(&i) {
                    2200.0
                } else {
                    3.0
                }
            })
            .build();
        let v = &ctx.find(|key| key.entity == "e")[0];
        assert_eq!(super::super::signals::capped_strength(&ctx, v), 0.0);
        assert!(level(&ctx, "e") > 0.9, "{:?}", peer_levels(&ctx));
    }

    #[test]
    fn a_level_shared_or_always_held_is_no_standout() {
        // Everyone slowed alike: the network, not one service.
        let all = ["a", "b", "c", "d", "e"]
            .iter()
            .fold(Fixture::new("a"), |f, e| {
                f.step(k(e, "call_gap_ms"), 3.0, 2000.0)
            })
            .build();
        assert!(peer_levels(&all).is_empty(), "{:?}", peer_levels(&all));
        // A service always far above its peers that moved by half: its own level, not news.
        let heavy = gap_peers()
            .step(k("e", "call_gap_ms"), 500.0, 750.0)
            .build();
        assert_eq!(level(&heavy, "e"), 0.0);
        // One minute out of line is a blip: half the strength of a sustained level.
        let blip = gap_peers()
            .shaped(k("e", "call_gap_ms"), |i| {
                if i < 20 {
                    f64::NAN
                } else if i == 30 {
                    2000.0
                } else {
                    3.0
                }
            })
            .build();
        assert!(level(&blip, "e") <= 0.5, "{:?}", peer_levels(&blip));
    }

    #[test]
    fn load_metrics_are_not_a_fault_signal() {
        assert!(is_load("requests_per_s"));
        assert!(is_load("PodWorkload(Ops)"));
        assert!(!is_load("cpu_cores"));
        assert!(!is_load("call_gap_ms"));
    }
}

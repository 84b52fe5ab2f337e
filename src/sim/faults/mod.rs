//! The scenario library: for each root-cause kind, a random cluster, a culprit, the cause
//! as engine effects, change events, confounders, and the entities the alert may fire on.
//!
//! Causes are mechanisms, never symptoms: a slow Redis is a slower server; who suffers is
//! decided by the engine from who calls it. Confounders (an unrelated deploy, a small blip,
//! a second collector, scrape gaps) are drawn for every kind alike so none of them is a hint.

use crate::model::{Alert, EventRow, Expected, IncidentSpec, Instant, Kind, MetricRow};

use super::cluster::{Cluster, Target};
use super::effects::{Effects, Fx, Misreport, Ramp};
use super::rng::Rng;
use super::signals::Gap;
use super::topology::{fit_nodes, random, users};
use super::{MIN, Scenario};

mod causes;

use causes::Draft;

/// Chooses, after the run, which symptomatic entity and metric the alert fired on.
#[derive(Debug, Clone)]
pub struct AlertPick {
    candidates: Vec<String>,
    fired_at: i64,
    baseline_end: i64,
}

impl AlertPick {
    /// An entity-level latency p99 or error rate of a candidate that clearly moved at the
    /// alert time (random among those that did; the most moved one otherwise).
    pub fn choose(&self, rows: &[MetricRow], rng: &mut Rng) -> (String, String) {
        let mut scored: Vec<(String, &'static str, f64)> = Vec::new();
        // One pass to keep only the entity-level alertable series of the candidates.
        let rows: Vec<&MetricRow> = rows
            .iter()
            .filter(|r| {
                r.pod.is_none()
                    && r.target.is_none()
                    && (r.metric == "latency_p99_ms" || r.metric == "errors_per_s")
                    && self.candidates.contains(&r.entity)
            })
            .collect();
        for e in &self.candidates {
            for metric in ["latency_p99_ms", "errors_per_s"] {
                let (mut b, mut nb, mut i, mut ni) = (0.0, 0.0, 0.0, 0.0);
                for r in rows
                    .iter()
                    .filter(|r| r.metric == metric && &r.entity == e && !r.value.is_nan())
                {
                    if r.ts_ms < self.baseline_end {
                        b += r.value;
                        nb += 1.0;
                    } else if r.ts_ms >= self.fired_at - MIN && r.ts_ms <= self.fired_at + 3 * MIN {
                        i += r.value;
                        ni += 1.0;
                    }
                }
                if nb == 0.0 || ni == 0.0 {
                    continue;
                }
                let (b, i) = (b / nb, i / ni);
                let score = if metric == "errors_per_s" {
                    (i + 0.5) / (b + 0.5) / 2.0
                } else {
                    i / b.max(1e-9)
                };
                scored.push((e.clone(), metric, score));
            }
        }
        let ok: Vec<&(String, &str, f64)> = scored.iter().filter(|s| s.2 >= 1.8).collect();
        let best = if ok.is_empty() {
            scored.iter().max_by(|a, b| a.2.total_cmp(&b.2))
        } else {
            Some(ok[rng.below(ok.len())])
        };
        best.map_or_else(
            || (self.candidates[0].clone(), "latency_p99_ms".into()),
            |s| (s.0.clone(), s.1.to_string()),
        )
    }
}

fn version(rng: &mut Rng, entity: &str) -> (String, String) {
    let (a, b, c) = (rng.int(1, 4), rng.int(0, 30), rng.int(0, 12));
    if rng.chance(0.3) {
        let h1 = rng.hex(7);
        (
            format!("image registry.internal/{entity}:git-{h1}"),
            format!("registry.internal/{entity}:git-{}", rng.hex(7)),
        )
    } else {
        (format!("image v{a}.{b}.{c}"), format!("v{a}.{b}.{}", c + 1))
    }
}

fn deploy(rng: &mut Rng, ts: i64, entity: &str) -> EventRow {
    let (from, to) = version(rng, entity);
    EventRow {
        ts_ms: ts,
        entity: entity.into(),
        kind: "deploy".into(),
        detail: Some(format!("{from} -> {to}")),
    }
}

fn names(c: &Cluster, idx: &[usize]) -> Vec<String> {
    idx.iter().map(|&i| c.services[i].name.clone()).collect()
}

/// A service and everything that calls it, transitively.
fn with_upstream(c: &Cluster, s: usize) -> Vec<usize> {
    let mut v = vec![s];
    v.extend(c.upstream_of(&c.services[s].name));
    v
}

/// Users of an entity and their callers.
fn users_up(c: &Cluster, t: Target) -> Vec<usize> {
    let mut v = Vec::new();
    for u in users(c, t) {
        for x in with_upstream(c, u) {
            if !v.contains(&x) {
                v.push(x);
            }
        }
    }
    v
}

/// Builds the scenario for `kind` from `seed`.
///
/// # Errors
/// Never in practice; kept for a scenario that cannot be drawn.
pub fn scenario(kind: Kind, seed: u64) -> Result<(Scenario, AlertPick), String> {
    let mut rng = Rng::new(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (kind as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407),
    );
    // A weekday-agnostic instant in 2024–2025, on a whole minute.
    let fired = 1_704_067_200_000 + rng.int(0, 700) * 86_400_000 + rng.int(0, 1439) * MIN;
    let c = random(&mut rng, fired - 75 * MIN, fired + 15 * MIN);
    let onset = fired - rng.int(3 * 60, 10 * 60) * 1000;
    let rise = rng.int(40, 240) * 1000;
    let ramp = Ramp::from(onset, rise);
    let n = c.services.len();
    let svc = rng.below(n);
    let ext: Vec<f64> = c.services.iter().map(|s| s.ext_rps).collect();
    let mut d = Draft {
        rng,
        c,
        fx: Effects::default(),
        events: Vec::new(),
        fired,
        onset,
        ramp,
        svc,
        ext,
    };
    let (culprit, affected) = d.cause(kind)?;
    let Draft {
        mut rng,
        mut c,
        mut fx,
        mut events,
        ..
    } = d;

    let candidates = alert_candidates(&mut rng, &c, kind, &culprit, &affected);
    confounders(&mut rng, &c, &mut fx, &mut events, &affected, fired, kind);
    fit_nodes(&mut c);
    let gaps = scrape_gaps(&mut rng, &c);
    let spec = spec(kind, seed, &c, &candidates[0], fired, culprit);
    let pick = AlertPick {
        candidates,
        fired_at: fired,
        baseline_end: fired - 15 * MIN,
    };
    let scenario = Scenario {
        cluster: c,
        effects: fx,
        gaps,
        events,
        spec,
        rng,
    };
    Ok((scenario, pick))
}

/// Symptomatic entities the alert may fire on; the culprit is one only when it can alert
/// (an ingress, or a gateway in front of a surging service, sometimes).
fn alert_candidates(
    rng: &mut Rng,
    c: &Cluster,
    kind: Kind,
    culprit: &str,
    affected: &[usize],
) -> Vec<String> {
    let mut candidates = names(c, affected);
    if kind == Kind::Ingress || (kind == Kind::TrafficSpike && rng.chance(0.2)) {
        let gw: Vec<String> = c
            .services
            .iter()
            .find(|s| s.name == culprit)
            .map_or_else(|| vec![culprit.to_string()], |s| s.entry.clone());
        candidates.extend(gw);
    }
    if candidates.is_empty() {
        candidates.push(c.services[0].name.clone());
    }
    candidates
}

/// One to three short scrape gaps on random pods, for every kind alike.
fn scrape_gaps(rng: &mut Rng, c: &Cluster) -> Vec<Gap> {
    (0..rng.int(1, 3))
        .map(|_| {
            let s = rng.below(c.services.len());
            let p = rng.below(c.services[s].pods.len());
            let from = rng.below(c.steps() - 8);
            Gap {
                pod: c.services[s].pods[p].name.clone(),
                from,
                to: from + rng.int(1, 5) as usize,
            }
        })
        .collect()
}

fn spec(
    kind: Kind,
    seed: u64,
    c: &Cluster,
    alerted: &str,
    fired: i64,
    culprit: String,
) -> IncidentSpec {
    IncidentSpec {
        id: Some(format!("{}-{seed}", kind.as_str())),
        title: Some(format!("Simulated {} incident (seed {seed})", kind.layer())),
        description: Some(format!(
            "Generated by `funnel simulate {} --seed {seed}`.",
            kind.as_str()
        )),
        alert: Alert {
            entity: alerted.to_string(),
            metric: "latency_p99_ms".into(),
            fired_at: Instant(fired),
        },
        window: None,
        metric_aliases: Default::default(),
        expected: Some(Expected {
            kind: kind.as_str().into(),
            culprit,
        }),
        entities: c.topology(),
        postmortem: None,
    }
}

/// Per-pod baseline requests/s of service `s`.
fn ext_rps_pod(c: &Cluster, ext: &[f64], s: usize) -> f64 {
    super::engine::traffic(c, ext)[s] / c.services[s].pods.len() as f64
}

/// How much service `s`'s traffic grows from `base` to `peak` arrivals.
fn traffic_ratio(c: &Cluster, base: &[f64], peak: &[f64], s: usize) -> f64 {
    super::engine::traffic(c, peak)[s] / super::engine::traffic(c, base)[s].max(1e-9)
}

/// Harmless noise every kind gets alike: an old deploy and config change elsewhere, a short
/// latency blip on an unaffected service, mesh-dashboard on every sidecar, a node CPU second
/// source with another denominator.
fn confounders(
    rng: &mut Rng,
    c: &Cluster,
    fx: &mut Effects,
    events: &mut Vec<EventRow>,
    affected: &[usize],
    fired: i64,
    kind: Kind,
) {
    let n = c.services.len();
    let calm: Vec<usize> = (0..n).filter(|i| !affected.contains(i)).collect();
    let pool = if calm.is_empty() {
        (0..n).collect()
    } else {
        calm.clone()
    };
    let s = *rng.pick(&pool);
    let at = fired - rng.int(25, 140) * MIN - rng.int(0, 59) * 1000;
    events.push(deploy(rng, at, &c.services[s].name));
    if rng.chance(0.5) {
        let s = rng.below(n);
        let r = rng.int(2, 10);
        events.push(EventRow {
            ts_ms: fired - rng.int(2, 20) * 24 * 60 * MIN,
            entity: c.services[s].name.clone(),
            kind: "scale".into(),
            detail: Some(format!(
                "replicas {} -> {}",
                c.services[s].pods.len() + r as usize,
                c.services[s].pods.len()
            )),
        });
    }
    if !calm.is_empty() && rng.chance(0.6) {
        let s = *rng.pick(&calm);
        let at = fired + rng.int(-12 * 60, 8 * 60) * 1000;
        fx.blip.push((
            s,
            Fx::new(
                Ramp::pulse(at, 15_000, at + rng.int(20, 60) * 1000, 15_000),
                rng.range(1.4, 2.0),
            ),
        ));
    }
    if c.mesh_dashboard {
        for i in 0..n {
            if !fx
                .misreport
                .iter()
                .any(|m| matches!(m, Misreport::SidecarCapped(j) if *j == i))
            {
                fx.misreport.push(Misreport::SidecarCapped(i));
            }
        }
    }
    if rng.chance(0.3) && kind != Kind::Node {
        let nd = rng.below(c.nodes.len());
        fx.misreport.push(Misreport::NodeCpuScaled {
            node: nd,
            source: "node-exporter",
            factor: rng.range(1.2, 1.6),
        });
    }
}

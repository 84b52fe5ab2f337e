//! The incident simulator behind `funnel simulate`: deterministic archives with a known root
//! cause, for the bundled seed incident, the scenario library and regression corpora.
//!
//! Layout: `rng` (own PRNG, so archives never change with a dependency), `cluster` (structure),
//! `topology` (random clusters), `effects` (fault causes as time profiles), `faults` (one
//! constructor per root-cause kind), `engine` (the physics that turns causes into symptoms),
//! `signals` (noise, losses, queueing), `logs` (log lines), `live_rt_jitter` (the seed).
//!
//! Scenarios only choose a cluster, a cause, an alert and events; every symptom comes out of
//! the engine, so propagation is the same mechanism in every scenario.

pub mod attach_files;
mod cluster;
mod effects;
mod engine;
mod faults;
mod live_rt_jitter;
mod logs;
pub mod openmetrics;
mod rng;
mod signals;
mod topology;

#[cfg(test)]
mod tests;

use crate::model::{ArchiveData, EventRow, IncidentSpec, Kind};

use cluster::Cluster;
use effects::Effects;
use rng::Rng;
use signals::Gap;

/// One minute in ms.
pub(crate) const MIN: i64 = 60_000;

/// Everything a scenario decides before the engine runs.
#[derive(Debug)]
pub(crate) struct Scenario {
    /// The cluster simulated: services, stores, nodes and the time range.
    pub cluster: Cluster,
    /// The causes.
    pub effects: Effects,
    /// Whole-pod scrape gaps.
    pub gaps: Vec<Gap>,
    /// Change events.
    pub events: Vec<EventRow>,
    /// incident.toml (the alert may be refined after the run by the scenario).
    pub spec: IncidentSpec,
    /// The scenario's stream, handed on to the engine for noise and logs.
    pub rng: Rng,
}

/// Scenario names: "live-rt-jitter" then the 13 root-cause kinds of the spec, by their kebab names.
#[must_use]
pub fn scenario_names() -> Vec<&'static str> {
    let mut v = vec!["live-rt-jitter"];
    v.extend(Kind::ALL.iter().map(|k| k.as_str()));
    v
}

/// Deterministic: same (scenario, seed) -> identical ArchiveData. Err(String) for an unknown name.
///
/// # Errors
/// An unknown scenario name, with the known ones listed.
pub fn simulate(scenario: &str, seed: u64) -> Result<ArchiveData, String> {
    if scenario == "live-rt-jitter" {
        let sc = live_rt_jitter::scenario(seed);
        return Ok(run(sc, None));
    }
    let Some(kind) = Kind::parse(scenario) else {
        return Err(format!(
            "unknown scenario `{scenario}` (expected one of: {})",
            scenario_names().join(", ")
        ));
    };
    let (sc, alert) = faults::scenario(kind, seed)?;
    Ok(run(sc, Some(alert)))
}

/// Runs the engine; random scenarios then pick their alert among symptomatic candidates.
fn run(mut sc: Scenario, alert: Option<faults::AlertPick>) -> ArchiveData {
    let out = engine::run(&sc.cluster, &sc.effects, &mut sc.rng, sc.gaps.clone());
    if let Some(pick) = alert {
        let (entity, metric) = pick.choose(&out.metrics, &mut sc.rng);
        sc.spec.alert.entity = entity;
        sc.spec.alert.metric = metric;
    }
    let mut events = sc.events;
    events.sort_by_key(|e| e.ts_ms);
    ArchiveData {
        spec: sc.spec,
        metrics: out.metrics,
        logs: out.logs,
        events,
    }
}

//! Scope: which services, gateways and pods are degraded, which are demonstrably healthy, and
//! which cannot be told. "Healthy" needs data: an entity with no symptom series is untested,
//! never silently healthy.

use std::collections::BTreeMap;

use super::{Context, View, resources};
use crate::model::{APP, EntityKind};

/// The health of one entity or pod.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    /// At least one symptom series is testable.
    pub testable: bool,
    /// At least one symptom moved.
    pub affected: bool,
    /// The symptoms that moved, as evidence text (`p99 latency +480% (120 ms → 690 ms)`).
    pub symptoms: Vec<String>,
    /// Earliest onset bucket among its symptoms.
    pub onset: Option<usize>,
    /// How hard it was hit: the largest relative rise among its own latency and error
    /// symptoms (client-side dependency symptoms count half), capped at 100× (errors at 2×),
    /// or its container restarts (see [`add_restarts`]).
    pub severity: f64,
    /// How much of its traffic it stopped serving: the rise of its own errors as a share of
    /// its requests, 1 when its containers restarted [`CRASH_LOOP`] times or more.
    pub failed_share: f64,
    /// The largest relative rise of its own latency, whether or not it counted as a symptom:
    /// how far a "healthy" pod moved all the same.
    pub latency_rise: f64,
    /// Container restarts in the window.
    pub restarts: f64,
    /// Whether restarts are its only symptom: no latency or error series moved.
    pub restarts_only: bool,
}

impl Health {
    /// Down rather than slow: failing at least [`FAILING_SHARE`] of its traffic.
    #[must_use]
    pub fn failing(&self) -> bool {
        self.failed_share >= FAILING_SHARE
    }

    /// Degraded by fewer restarts than a crash loop alone, its latency and errors unmoved (or
    /// unmeasured): a restart its replicas absorbed, connected to no symptom of its own.
    #[must_use]
    pub fn merely_restarted(&self) -> bool {
        self.restarts_only && self.restarts < CRASH_LOOP
    }

    /// Down while every one of `others` fails at most a quarter as much of its traffic: they
    /// are slower, if at all, from the load it sheds, not down with it.
    #[must_use]
    pub fn alone_down<'a>(&self, others: impl IntoIterator<Item = &'a Health>) -> bool {
        let mut others = others.into_iter().peekable();
        self.failing()
            && others.peek().is_some()
            && others.all(|h| h.failed_share * 4.0 <= self.failed_share)
    }

    /// The first `n` symptoms, with a count of the rest.
    #[must_use]
    pub fn brief(&self, n: usize) -> String {
        let mut s = self
            .symptoms
            .iter()
            .take(n)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if self.symptoms.len() > n {
            s.push_str(&format!(" and {} more", self.symptoms.len() - n));
        }
        s
    }

    /// Testable and unaffected.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.testable && !self.affected
    }
}

/// Minimum relative rise for latency to count as a symptom.
pub const LATENCY_RISE: f64 = 0.25;
/// Minimum relative rise for client-side dependency latency.
pub const DEP_LATENCY_RISE: f64 = 0.5;
/// Minimum relative rise for an error rate.
pub const ERROR_RISE: f64 = 0.5;
/// An error rise must also reach this share of the traffic (and 0.05/s) to count.
pub const ERROR_SHARE_OF_TRAFFIC: f64 = 0.01;
/// An error rise of this share of the traffic means failing, not degraded: most callers get an
/// error instead of a slower answer.
pub const FAILING_SHARE: f64 = 0.5;
/// Restarts in the window that make a crash loop.
pub const CRASH_LOOP: f64 = 3.0;

/// Judges a set of symptom series (one entity's or one pod's).
#[must_use]
pub fn judge(views: &[View<'_>]) -> Health {
    let mut h = Health::default();
    let rank = |v: &View<'_>| match v.key.metric.as_str() {
        "latency_p99_ms" => 0,
        "latency_avg_ms" => 1,
        "errors_per_s" => 2,
        "dep_latency_ms" => 3,
        _ => 4,
    };
    let mut views: Vec<&View<'_>> = views.iter().collect();
    views.sort_by_key(|v| rank(v));
    let requests = views
        .iter()
        .find(|v| v.key.metric == "requests_per_s" && v.key.target.is_none())
        .map(|v| v.score.level.max(v.score.base));
    for v in views {
        let s = v.score;
        let m = v.key.metric.as_str();
        let moved = match m {
            "latency_p99_ms" | "latency_avg_ms" => s.up(LATENCY_RISE),
            "dep_latency_ms" => s.up(DEP_LATENCY_RISE),
            "errors_per_s" | "dep_errors_per_s" => {
                // A rise from 0.01/s to 0.03/s is +200% and meaningless: require an absolute
                // increase worth noticing next to the traffic.
                let floor = requests.map_or(0.05, |r| (ERROR_SHARE_OF_TRAFFIC * r).max(0.05));
                s.up(ERROR_RISE) && s.level - s.base >= floor
            }
            _ => continue,
        };
        h.testable |= s.testable();
        if m.starts_with("latency_") && v.key.target.is_none() && s.testable() && s.rel.is_finite()
        {
            h.latency_rise = h.latency_rise.max(s.rel.min(100.0));
        }
        if moved {
            h.affected = true;
            let own_errors = m == "errors_per_s" && v.key.target.is_none();
            if let Some(r) = requests.filter(|r| *r > 0.0 && own_errors) {
                let share = ((s.level - s.base) / r).clamp(0.0, 1.0);
                h.failed_share = h.failed_share.max(share);
            }
            // Latency says how hard a pod was hit; an error rate "from zero" is infinitely
            // higher but says little about magnitude, so errors count at most 2 (+200 %).
            let rel = if s.rel.is_finite() {
                s.rel.min(100.0)
            } else {
                100.0
            };
            let rel = if m.contains("errors") {
                rel.min(2.0)
            } else {
                rel
            };
            h.severity = h.severity.max(if v.key.target.is_some() {
                rel / 2.0
            } else {
                rel
            });
            h.onset = match (h.onset, s.onset) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let what = match (&v.key.target, m) {
                (Some(t), "dep_latency_ms") => format!("client-side latency to {t}"),
                (Some(t), _) => format!("client-side errors to {t}"),
                (None, "latency_p99_ms") => "p99 latency".into(),
                (None, "latency_avg_ms") => "average latency".into(),
                (None, "dep_latency_ms") => "client-side latency".into(),
                (None, "dep_errors_per_s") => "client-side errors".into(),
                _ => "errors".into(),
            };
            h.symptoms.push(format!(
                "{what} {} ({} → {})",
                s.pct(),
                super::sources::fmt_val(m, s.base),
                super::sources::fmt_val(m, s.level)
            ));
        }
    }
    h
}

/// Series outside the vocabulary that moved on an entity whose symptoms did not: a sustained
/// move of at least 50 % (`call_gap_ms +43700% (2 ms → 1005 ms)`), the largest two. "Healthy"
/// judges latency and errors; a network delay on a pod shows only in what its callers measure
/// of the calls (time outside its own handling), so a healthy row must not hide such a move.
#[must_use]
pub fn other_moves(ctx: &super::Context, entity: &str) -> Vec<String> {
    // Outside the vocabulary once aliases are applied: an aliased name is judged as a symptom.
    let views = ctx.find_entity(entity, |k| {
        k.pod.is_none() && crate::model::vocab::dimension(ctx.aliased(&k.metric)).is_none()
    });
    // `up`/`down` hold only for a sustained run, so every kept move has an onset.
    let mut moved: Vec<(f64, &View<'_>)> = views
        .iter()
        .filter(|v| v.score.up(0.5) || v.score.down(0.5))
        .map(|v| {
            let size = if v.score.rel.is_finite() {
                (1.0 + v.score.rel).max(1e-9).ln().abs()
            } else {
                f64::INFINITY
            };
            (size, v)
        })
        .collect();
    moved.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.key.metric.cmp(&b.1.key.metric))
    });
    moved
        .into_iter()
        .take(2)
        .map(|(_, v)| {
            let m = v.key.metric.as_str();
            format!(
                "{m} {} ({} → {})",
                v.score.pct(),
                super::sources::fmt_val(m, v.score.base),
                super::sources::fmt_val(m, v.score.level)
            )
        })
        .collect()
}

/// Container restarts as a symptom: a crash or OOM kill takes a container down whatever its
/// latency percentiles say (the surviving replicas may answer as fast as ever while requests
/// fail or queue). `rises` are the restart counters' rise over the baseline and the first
/// bucket above it ([`super::resources::counter_rise`]). A restart shows a pod in trouble, but
/// no restart does not show it healthy: a pod slowed by its node never restarts, so restart
/// counters alone leave it untested. Each restart counts as a doubling of its symptoms (the
/// pod served nothing while it came back), up to [`RESTART_SEVERITY_CAP`]: a pod crash-looping
/// beside replicas that only carry its load stands out from them, however mildly its error
/// rate (capped, see [`Health::severity`]) says so.
pub fn add_restarts(h: &mut Health, rises: &[(f64, Option<usize>)]) {
    if rises.is_empty() {
        return;
    }
    let total: f64 = rises.iter().map(|(rise, _)| rise).sum();
    if total >= 1.0 {
        h.restarts = total;
        h.restarts_only = !h.affected;
        h.testable = true;
        h.affected = true;
        h.severity = h.severity.max(total.min(RESTART_SEVERITY_CAP));
        if total >= CRASH_LOOP {
            h.failed_share = 1.0;
        }
        h.onset = rises
            .iter()
            .filter_map(|(_, first)| *first)
            .chain(h.onset)
            .min();
        h.symptoms.push(format!("{total:.0} container restarts"));
    }
}

/// The most restarts count for in a pod's severity.
pub const RESTART_SEVERITY_CAP: f64 = 10.0;

/// Health of every service, gateway and pod with symptom data.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Services and gateways.
    pub entities: BTreeMap<String, Health>,
    /// Per pod, judged against its own baseline (a pod can be sick in a healthy service).
    pub pods: BTreeMap<String, Health>,
    /// Onset of the incident: the alert entity's earliest symptom, else the earliest of any.
    pub onset: Option<usize>,
}

impl Scope {
    /// Health of an entity (default: untested).
    #[must_use]
    pub fn of(&self, entity: &str) -> Health {
        self.entities.get(entity).cloned().unwrap_or_default()
    }

    /// Degraded entities, sorted.
    #[must_use]
    pub fn affected(&self) -> Vec<&str> {
        self.entities
            .iter()
            .filter(|(_, h)| h.affected)
            .map(|(e, _)| e.as_str())
            .collect()
    }

    /// Demonstrably healthy entities, sorted.
    #[must_use]
    pub fn healthy(&self) -> Vec<&str> {
        self.entities
            .iter()
            .filter(|(_, h)| h.healthy())
            .map(|(e, _)| e.as_str())
            .collect()
    }

    /// Degraded pods, sorted.
    #[must_use]
    pub fn affected_pods(&self) -> Vec<&str> {
        self.pods
            .iter()
            .filter(|(_, h)| h.affected)
            .map(|(p, _)| p.as_str())
            .collect()
    }

    /// Pod health (default: untested).
    #[must_use]
    pub fn pod(&self, pod: &str) -> Health {
        self.pods.get(pod).cloned().unwrap_or_default()
    }
}

impl Context {
    /// The symptom series of an entity (`pod` None) or of one of its pods.
    fn symptom_views(&self, entity: &str, pod: Option<&str>) -> Vec<View<'_>> {
        self.find_entity(entity, |k| k.pod.as_deref() == pod && k.container == APP)
            .into_iter()
            .filter(|v| {
                matches!(
                    v.key.metric.as_str(),
                    "latency_p99_ms"
                        | "latency_avg_ms"
                        | "errors_per_s"
                        | "dep_latency_ms"
                        | "dep_errors_per_s"
                        | "requests_per_s"
                )
            })
            .collect()
    }

    /// Which services, gateways and pods are affected, from their symptom series and restart
    /// counters, and the onset: the alert's own when it moved the bad way, else the earliest.
    pub(super) fn compute_scope(&self) -> Scope {
        let mut scope = Scope::default();
        for e in &self.topo.entities {
            if !matches!(EntityKind::of(e), EntityKind::Service | EntityKind::Ingress) {
                continue;
            }
            // Each restart counter's rise, computed once for the service and its pods.
            let counters = resources::restart_counters(self, e, Some(APP));
            // (pod, (rise, onset bucket)) per counter.
            type Rise<'a> = (Option<&'a str>, (f64, Option<usize>));
            let rises: Vec<Rise<'_>> = counters
                .iter()
                .filter_map(|v| resources::counter_rise(self, v).map(|r| (v.key.pod.as_deref(), r)))
                .collect();
            let of_pod = |pod: Option<&str>| -> Vec<(f64, Option<usize>)> {
                rises
                    .iter()
                    .filter(|(p, _)| pod.is_none() || *p == pod)
                    .map(|(_, r)| *r)
                    .collect()
            };
            let mut h = judge(&self.symptom_views(e, None));
            add_restarts(&mut h, &of_pod(None));
            if h.testable {
                scope.entities.insert(e.clone(), h);
            }
            for p in self.topo.pods_of(e) {
                let mut h = judge(&self.symptom_views(e, Some(p)));
                add_restarts(&mut h, &of_pod(Some(p)));
                if h.testable {
                    scope.pods.insert(p.to_string(), h);
                }
            }
        }
        let alert = &self.spec.alert;
        // The alert's own series marks the onset only when it moved the bad way: a latency
        // that fell is not where an incident began.
        let alert_onset = self
            .metric(&alert.entity, self.aliased(&alert.metric))
            .filter(|v| crate::detect::worsened(&v.key.metric, v.score.direction))
            .and_then(|v| v.score.onset)
            .or_else(|| scope.entities.get(&alert.entity).and_then(|h| h.onset));
        scope.onset = alert_onset.or_else(|| scope.entities.values().filter_map(|h| h.onset).min());
        scope
    }
}

#[cfg(test)]
mod tests {
    use crate::evidence::testing::{Fixture, k, kp};

    #[test]
    fn client_side_latency_without_a_target_is_named_as_such() {
        // Per-pod exports (Nezha's PodClientLatency) carry the client side without a target.
        let ctx = Fixture::new("api")
            .healthy_service("api")
            .step(k("api", "dep_latency_ms"), 20.0, 200.0)
            .build();
        let svc = ctx.scope.of("api");
        assert!(
            svc.symptoms
                .iter()
                .any(|s| s.starts_with("client-side latency +")),
            "{svc:?}"
        );
    }

    #[test]
    fn a_healthy_entity_still_shows_series_outside_the_vocabulary_that_moved() {
        // Latency flat; the time calls spend reaching it jumped (a delay on its network).
        let ctx = Fixture::new("api")
            .healthy_service("api")
            .step(k("api", "call_gap_ms"), 2.0, 1000.0)
            .step(k("api", "queue_depth"), 10.0, 11.0)
            .build();
        assert!(ctx.scope.of("api").healthy());
        let moves = super::other_moves(&ctx, "api");
        assert_eq!(moves.len(), 1, "a +10 % move is no move: {moves:?}");
        assert!(moves[0].starts_with("call_gap_ms +"), "{moves:?}");
        assert!(moves[0].ends_with("(2.0 ms → 1000 ms)"), "{moves:?}");
    }

    #[test]
    fn restarts_are_a_symptom_of_the_pod_and_its_service() {
        // Latency stays flat; one pod's container restarted three times.
        let ctx = Fixture::new("api")
            .healthy_service("api")
            .step(kp("api", "api-1", "app", "restarts"), 0.0, 3.0)
            .flat(kp("api", "api-2", "app", "restarts"), 0.0)
            .build();
        let svc = ctx.scope.of("api");
        assert!(svc.affected, "{svc:?}");
        assert!(
            svc.symptoms.iter().any(|s| s == "3 container restarts"),
            "{svc:?}"
        );
        assert!(ctx.scope.pod("api-1").affected);
        // No restart is no symptom, but no sign of health either.
        assert!(!ctx.scope.pod("api-2").testable);
    }
}

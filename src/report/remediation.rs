//! Remediation items by root-cause kind: mitigate now, prevent recurrence, detect sooner.

use crate::model::{Finding, Kind};

/// What an action does for the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Stop the bleeding.
    Mitigate,
    /// Keep it from happening again.
    Prevent,
    /// See it sooner next time.
    Detect,
    /// Change how people work (reviews, checklists).
    Process,
}

impl Action {
    /// Lowercase name for tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Mitigate => "mitigate",
            Action::Prevent => "prevent",
            Action::Detect => "detect",
            Action::Process => "process",
        }
    }
}

/// Items for a root cause of `kind` at `who`.
#[must_use]
pub fn for_root_cause(kind: Kind, who: &str) -> Vec<(Action, String)> {
    use Action::{Detect, Mitigate, Prevent};
    let v: Vec<(Action, String)> = match kind {
        Kind::Sidecar => vec![
            (Mitigate, format!("Raise the CPU limit of {who}'s sidecar (e.g. the `sidecar.istio.io/proxyCPULimit` annotation) so the proxies stop running at it.")),
            (Prevent, format!("Run {who} as smaller pods and more of them: one sidecar per pod, so proxy capacity grows with the app instead of staying fixed while the app is scaled up.")),
            (Prevent, "Size the proxy together with the app: a policy check that flags a sidecar CPU limit far below the app's.".into()),
            (Detect, "Alert on sidecar CPU throttling from the container runtime's own counters (cAdvisor), per pod.".into()),
            (Action::Process, format!("Resource changes of {who} must size its sidecar too: the change template asks for the proxy's CPU limit beside the app's.")),
        ],
        Kind::CpuSaturation => vec![
            (Mitigate, format!("Add replicas of {who} or raise its CPU limit.")),
            (Prevent, format!("Autoscale {who} on CPU with headroom (target 60–70 % of the limit) and set limits from the observed peak.")),
            (Detect, "Alert on CFS throttling of app containers, not only on utilisation.".into()),
        ],
        Kind::MemoryPressure => vec![
            (Mitigate, format!("Raise the memory limit of {who} or roll its pods to reclaim memory.")),
            (Prevent, format!("Profile {who}'s heap growth and fix the leak or the unbounded cache; set limits from the p99 RSS plus headroom.")),
            (Detect, "Alert on RSS above 85 % of the limit and on OOMKilled restarts.".into()),
        ],
        Kind::CodeChange => vec![
            (Mitigate, format!("Roll {who} back to the previous version.")),
            (Prevent, "Canary releases with an automated rollback on error-rate regression.".into()),
            (Detect, "Show deploy markers on service dashboards; alert on error-budget burn right after a rollout.".into()),
        ],
        Kind::Mysql => vec![
            (Mitigate, format!("Find and stop the expensive queries on {who} (slow log, processlist); shed load from the heaviest caller.")),
            (Prevent, "Review the slow queries (indexes, plans), cap client connection pools, set query timeouts.".into()),
            (Detect, format!("Alert on {who} server-side latency and slow queries, not only on client latency.")),
        ],
        Kind::Redis => vec![
            (Mitigate, format!("Find hot or big keys and slow commands on {who} (SLOWLOG, --bigkeys) and shed the load behind them.")),
            (Prevent, "Client timeouts and circuit breakers towards Redis; avoid O(N) commands on large keys.".into()),
            (Detect, format!("Alert on {who} server-side latency and CPU.")),
        ],
        Kind::StorageFailover => vec![
            (Mitigate, format!("Confirm the new primary of {who} is healthy and recycle client connection pools still pointing at the old one.")),
            (Prevent, "Clients that retry connection resets with backoff; failover through a proxy or a short-TTL endpoint.".into()),
            (Detect, "Page on unplanned failover events and on error bursts right after them.".into()),
        ],
        Kind::Ingress => vec![
            (Mitigate, format!("Scale {who} out or shift traffic to another gateway.")),
            (Prevent, format!("Capacity-plan and autoscale {who} on its own load.")),
            (Detect, "A latency objective measured at the gateway, separate from the backends'.".into()),
        ],
        Kind::Pod => vec![
            (Mitigate, format!("Delete pod {who} so it is rescheduled.")),
            (Prevent, "Liveness and readiness probes that catch this state; outlier ejection in the mesh.".into()),
            (Detect, "Alert on one pod's latency departing from its replicas'.".into()),
        ],
        Kind::Node => vec![
            (Mitigate, format!("Cordon and drain {who}.")),
            (Prevent, "Node problem detector with automatic cordon; topology spread so one node holds few replicas of a service.".into()),
            (Detect, "Per-node error and saturation alerts.".into()),
        ],
        Kind::Network => vec![
            (Mitigate, "Engage the network / CNI on-call; check CNI, kube-proxy, DNS and the underlay.".into()),
            (Prevent, "Redundant paths and staged rollout of network changes.".into()),
            (Detect, "Synthetic east-west probes between nodes.".into()),
        ],
        Kind::ThirdParty => vec![
            (Mitigate, format!("Degrade gracefully: circuit-break calls to {who} and serve the feature without it.")),
            (Prevent, format!("Tight timeouts, bulkheads and fallbacks around {who}.")),
            (Detect, format!("Track {who}'s latency and errors as their own objective; subscribe to its status page.")),
        ],
        Kind::TrafficSpike => vec![
            (Mitigate, format!("Scale {who} out; rate-limit the surging clients.")),
            (Prevent, format!("Autoscale {who} on request rate with headroom; load-test at twice the observed peak.")),
            (Detect, "Alert on request rate against tested capacity.".into()),
        ],
    };
    v
}

/// Items for a trigger distinct from the root cause.
#[must_use]
pub fn for_trigger(kind: Kind, who: &str) -> Vec<(Action, String)> {
    match kind {
        Kind::TrafficSpike => vec![(
            Action::Prevent,
            format!(
                "Load-test {who} at twice the peak it saw here, proxies included, to find the next limit before traffic does."
            ),
        )],
        _ => Vec::new(),
    }
}

/// Items for findings (monitoring that lied).
#[must_use]
pub fn for_findings(findings: &[Finding]) -> Vec<(Action, String)> {
    let mut out = Vec::new();
    if let Some(f) = findings.iter().find(|f| f.kind == "metric-disagreement") {
        out.push((Action::Detect, format!("Fix or retire the collector that disagreed on {} (see Data-quality findings); dashboards used during triage must match the container's own counters.", f.entity)));
    }
    out
}

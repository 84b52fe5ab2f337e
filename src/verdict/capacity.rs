//! A surge and a limit: which one caused the incident when requests rose and a resource ran
//! out at the same service, or a resource the surging services share ran hot.

use crate::evidence::Context;
use crate::evidence::load::requests_of;
use crate::evidence::resources::saturation;
use crate::model::{APP, Kind};

/// Kinds that are a capacity limit a surge can run into: with a supported surge on the same
/// service (or its gateway), the surge is the trigger and the limit the root cause, unless
/// the surge alone explains the limit being reached (see [`outgrown`]).
pub(super) fn is_capacity(k: Kind) -> bool {
    matches!(
        k,
        Kind::CpuSaturation | Kind::MemoryPressure | Kind::Sidecar
    )
}

/// Whether `surge` (a traffic-spike culprit) feeds `svc`: the same service, or a gateway in
/// front of it.
pub(super) fn feeds(ctx: &Context, surge: &str, svc: &str) -> bool {
    surge == svc
        || ctx.topo.entries.get(svc).is_some_and(|g| g.contains(surge))
        || ctx.topo.deps_of(surge).contains(&svc)
}

/// How much more CPU per request a shared resource may use during a surge and still have
/// merely run hot on it (work per request wobbles with the request mix).
const PER_REQUEST_SLACK: f64 = 1.3;

/// The same for a service's own CPU limit, which the surge pinned: a service starved of CPU
/// also spends more of it per request (collections, retries, requests that time out after the
/// work was done), and its CPU side is a 95th percentile where the requests' is a median.
const STARVED_SLACK: f64 = 1.75;

/// Whether the supported `kind` at `culprit` is what a surge at `surge` alone did to it, so
/// the surge is the cause and `culprit` only where it showed: an app CPU limit the service's
/// requests outgrew, or a shared storage instance or node that ran hot because the services
/// using it got more requests.
pub(super) fn outgrown(ctx: &Context, surge: &str, kind: Kind, culprit: &str) -> bool {
    match kind {
        Kind::CpuSaturation => limit_outgrown(ctx, surge, culprit, "cpu_cores", "cpu"),
        Kind::MemoryPressure => limit_outgrown(ctx, surge, culprit, "mem_rss_bytes", "mem"),
        Kind::Mysql | Kind::Redis => {
            load_outgrown(ctx, surge, culprit, &ctx.topo.users_of(culprit))
        }
        // Network errors on the node are its own, whatever the traffic.
        Kind::Node if !ctx.node_nic_failing(culprit) => {
            let mut services: Vec<&str> = ctx
                .topo
                .pods_on(culprit)
                .into_iter()
                .filter_map(|p| ctx.topo.pod_entity.get(p).map(String::as_str))
                .collect();
            services.sort_unstable();
            services.dedup();
            load_outgrown(ctx, surge, culprit, &services)
        }
        _ => false,
    }
}

/// Whether the app CPU saturation or memory pressure of `svc` is what a surge at `surge` alone
/// does to it: its usage rose no faster than its requests (the same work and memory per
/// request, more requests), so the limit held what the service normally needs and the surge
/// is the cause, the limit where it showed. Usage that rose faster than the requests (each
/// request costing more: a code path, a leak, a noisy neighbour) is a saturation of its own,
/// with the surge its trigger at most. Only the app's own limits: a sidecar left at a lower
/// limit than its app is a limit set wrong, not outgrown.
fn limit_outgrown(ctx: &Context, surge: &str, svc: &str, metric: &str, resource: &str) -> bool {
    if !feeds(ctx, surge, svc) {
        return false;
    }
    let requests = ctx
        .metric(svc, "requests_per_s")
        .or_else(|| ctx.metric(surge, "requests_per_s"))
        .filter(|v| v.score.up(0.3) && v.score.base > 0.0);
    let (Some(req), Some(used)) = (requests, saturation(ctx, svc, APP, metric, resource)) else {
        return false;
    };
    if used.base <= 0.0 {
        return false;
    }
    let req_ratio = req.score.level / req.score.base;
    used.peak / used.base <= STARVED_SLACK * req_ratio
}

/// Whether a resource shared by `users` (a storage instance, a node) ran hot on their load
/// alone: the surge reaches at least one of them, their requests together rose by a third or
/// more, and the resource's CPU utilization rose no faster than those requests. A storage
/// fault or a noisy neighbour burns CPU (or slows down) without more requests to serve.
fn load_outgrown(ctx: &Context, surge: &str, resource: &str, users: &[&str]) -> bool {
    let reach = ctx.topo.reach(surge);
    if !users.iter().any(|u| reach.contains(*u)) {
        return false;
    }
    let (base, level) = requests_of(ctx, users);
    let Some(cpu) = ctx
        .metric(resource, "cpu_utilization")
        .filter(|v| v.score.testable() && v.score.base > 0.0)
    else {
        return false;
    };
    if base <= 0.0 || level < SURGED * base {
        return false;
    }
    cpu.score.level / cpu.score.base <= PER_REQUEST_SLACK * level / base
}

/// How far requests must have risen to have made a resource run hot.
const SURGED: f64 = 1.3;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::testing::{Fixture, k, kp};

    fn surge(cpu_to: f64) -> Context {
        Fixture::new("api")
            .sidecar("api", 2.0, 1.0)
            .place("api-1", "n1")
            .step(k("api", "requests_per_s"), 100.0, 200.0)
            .step(kp("api", "api-1", "app", "cpu_cores"), 1.0, cpu_to)
            .build()
    }

    #[test]
    fn cpu_that_grew_with_the_requests_was_outgrown() {
        // Twice the requests, twice the CPU: at a 2-core limit, the surge did it.
        assert!(outgrown(&surge(1.98), "api", Kind::CpuSaturation, "api"));
        // A sidecar left below its app is a limit set wrong, not outgrown.
        assert!(!outgrown(&surge(1.98), "api", Kind::Sidecar, "api"));
    }

    #[test]
    fn memory_that_grew_slower_than_the_requests_was_outgrown_and_a_leak_was_not() {
        const GIB: f64 = 1_073_741_824.0;
        // The fixture's app memory limit is 2 GiB.
        let mem = |from: f64, requests_to: f64| {
            Fixture::new("api")
                .sidecar("api", 2.0, 1.0)
                .place("api-1", "n1")
                .step(k("api", "requests_per_s"), 100.0, requests_to)
                .step(
                    kp("api", "api-1", "app", "mem_rss_bytes"),
                    from * GIB,
                    2.0 * GIB,
                )
                .build()
        };
        assert!(outgrown(
            &mem(1.6, 300.0),
            "api",
            Kind::MemoryPressure,
            "api"
        ));
        // Memory up 4× on 40 % more requests: what each request holds grew.
        assert!(!outgrown(
            &mem(0.5, 140.0),
            "api",
            Kind::MemoryPressure,
            "api"
        ));
    }

    #[test]
    fn cpu_that_grew_faster_than_the_requests_is_a_saturation_of_its_own() {
        let ctx = Fixture::new("api")
            .sidecar("api", 4.0, 1.0)
            .place("api-1", "n1")
            .step(k("api", "requests_per_s"), 100.0, 150.0)
            .step(kp("api", "api-1", "app", "cpu_cores"), 1.0, 3.98)
            .build();
        assert!(!outgrown(&ctx, "api", Kind::CpuSaturation, "api"));
    }
}

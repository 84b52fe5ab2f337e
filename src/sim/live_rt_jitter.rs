//! The bundled seed incident `live-rt-jitter`: live-api's Istio sidecars saturate when its
//! traffic doubles, and every call the service makes or answers queues in the proxy.
//!
//! The cluster is fixed (names, sizes, placements); the seed changes only the noise. The
//! mechanism is the engine's, not a drawn curve: traffic ×2.1 on live-api → sidecar CPU demand
//! exceeds its 2-core limit → proxy queueing on inbound and outbound passes → latency, client-
//! side dependency latency, goroutines and a few timeouts rise; servers see only the extra load.

use crate::model::{Alert, EventRow, Expected, IncidentSpec, Instant};

use super::cluster::{Cluster, GIB, Ingress, MIB, Node, Service, Store, Vendor, make_pods};
use super::effects::{Effects, Fx, Misreport, Ramp};
use super::rng::Rng;
use super::signals::Gap;
use super::{MIN, Scenario};

/// 2024-05-01T14:02:00Z.
const FIRED_AT: i64 = 1_714_572_120_000;

/// The fixed cluster. Names come from a constant stream so they never depend on the seed.
#[must_use]
pub fn cluster() -> Cluster {
    let mut names = Rng::new(0x11FE_A9F1);
    let gw = "ingress:public-gw".to_string();
    // Pod names are drawn in this order from `names`: reordering renames every pod.
    let services = vec![
        live_api(&mut names, &gw),
        gift_api(&mut names, &gw),
        chat_api(&mut names, &gw),
        billing_worker(&mut names),
        user_api(&mut names, &gw),
    ];
    let mut c = Cluster {
        services,
        stores: stores(),
        vendors: vec![Vendor {
            id: "http:gift-vendor".into(),
            lat_ms: 110.0,
            err: 0.002,
        }],
        ingresses: vec![Ingress {
            id: gw,
            proc_ms: 3.0,
        }],
        nodes: nodes(),
        start_ms: FIRED_AT - 75 * MIN,
        end_ms: FIRED_AT + 15 * MIN,
        step_ms: 15_000,
        mesh_dashboard: true,
        report_cache: true,
        report_sidecar_mem: true,
    };
    // Justified: a fixed cluster, covered by the tests; failing is a bug, not bad input.
    #[allow(clippy::expect_used)]
    c.resolve().expect("the seed cluster is consistent");
    c
}

fn nodes() -> Vec<Node> {
    ["node-a", "node-b", "node-c", "node-d"]
        .iter()
        .enumerate()
        .map(|(i, n)| Node {
            name: (*n).into(),
            cores: 32.0,
            system_cores: 9.0 + 0.7 * i as f64,
            net_err: 0.05,
            subnet: format!("10.0.{}", i + 1),
        })
        .collect()
}

/// The culprit: its sidecars run near their 2-core limit at baseline, so doubled traffic
/// saturates them.
fn live_api(names: &mut Rng, gw: &str) -> Service {
    let mut live = Service::new("live-api");
    live.pods = make_pods(names, "live-api", &[0, 1, 2]);
    live.entry = vec![gw.to_string()];
    live.ext_rps = 900.0;
    live.proc_ms = 12.0;
    live.tail = 2.3;
    (live.app_cpu, live.app_mem, live.sc_cpu, live.sc_mem) = (4.0, 2.0 * GIB, 2.0, GIB);
    live.cpu_idle = 0.2;
    live.cpu_per_req = 0.003_67;
    live.rss = 0.9 * GIB;
    live.cache = 0.25 * GIB;
    live.sc_rss = 140.0 * MIB;
    // 300 req/s per pod, 1 + 0.5 + 2 + 0.25 proxied passes per request: 1.1 cores at baseline.
    live.sc_per_pass = 1.08 / (300.0 * 3.75);
    live.sc_delay_ms = 2.0;
    (live.idle_workers, live.workers_per_req) = (260.0, 5.0);
    live.call("mysql:live-db", 0.5, 3000.0, 0.6);
    live.call("redis:live-cache", 2.0, 250.0, 0.3);
    live.call("http:gift-vendor", 0.25, 400.0, 2.0);
    live
}

/// Shares live-api's database, cache and vendor (and a node): the peer that stays healthy.
fn gift_api(names: &mut Rng, gw: &str) -> Service {
    let mut gift = Service::new("gift-api");
    gift.pods = make_pods(names, "gift-api", &[2, 3]);
    gift.entry = vec![gw.to_string()];
    gift.ext_rps = 500.0;
    (gift.proc_ms, gift.tail) = (9.0, 2.4);
    (gift.app_cpu, gift.app_mem, gift.sc_cpu, gift.sc_mem) = (2.0, GIB, 1.0, 0.5 * GIB);
    gift.cpu_per_req = 0.0024;
    gift.sc_per_pass = 0.35 / (250.0 * 5.25);
    gift.rss = 0.45 * GIB;
    gift.call("mysql:live-db", 1.2, 3000.0, 0.6);
    gift.call("redis:live-cache", 4.0, 250.0, 0.3);
    gift.call("http:gift-vendor", 0.05, 800.0, 2.0);
    gift
}

fn chat_api(names: &mut Rng, gw: &str) -> Service {
    let mut chat = Service::new("chat-api");
    chat.pods = make_pods(names, "chat-api", &[0, 3]);
    chat.entry = vec![gw.to_string()];
    chat.ext_rps = 420.0;
    chat.proc_ms = 6.0;
    chat.cpu_per_req = 0.002;
    chat.call("redis:chat-cache", 3.0, 100.0, 0.3);
    chat.call("user-api", 0.4, 1000.0, 0.5);
    chat
}

/// A background worker: no ingress in front of it, and no Go runtime (so no `goroutines`).
fn billing_worker(names: &mut Rng) -> Service {
    let mut billing = Service::new("billing-worker");
    billing.go = false;
    billing.pods = make_pods(names, "billing-worker", &[2, 3]);
    billing.ext_rps = 40.0;
    (billing.proc_ms, billing.tail) = (35.0, 3.0);
    billing.cpu_per_req = 0.01;
    billing.call("mysql:user-db", 3.0, 5000.0, 0.6);
    billing.call("user-api", 1.0, 1000.0, 0.5);
    billing
}

fn user_api(names: &mut Rng, gw: &str) -> Service {
    let mut user = Service::new("user-api");
    user.pods = make_pods(names, "user-api", &[1, 3]);
    user.entry = vec![gw.to_string()];
    user.ext_rps = 260.0;
    user.proc_ms = 7.0;
    user.cpu_per_req = 0.0025;
    user.call("mysql:user-db", 1.5, 3000.0, 0.6);
    user.call("redis:chat-cache", 1.0, 100.0, 0.3);
    user
}

fn stores() -> Vec<Store> {
    let store = |id: &str, mysql: bool, lat_ms: f64, cpu: f64, addr: &str| Store {
        id: id.into(),
        mysql,
        lat_ms,
        slow_q: if mysql { 0.08 } else { 0.0 },
        cpu,
        pool: if mysql { 10.0 } else { 16.0 },
        addr: addr.into(),
    };
    vec![
        store("mysql:live-db", true, 3.5, 0.32, "10.0.5.21"),
        store("redis:live-cache", false, 0.4, 0.18, "10.0.3.17"),
        store("mysql:user-db", true, 2.8, 0.22, "10.0.5.34"),
        store("redis:chat-cache", false, 0.35, 0.12, "10.0.4.9"),
    ]
}

/// The seed scenario: cluster, causes, alert and events.
#[must_use]
pub fn scenario(seed: u64) -> Scenario {
    let c = cluster();
    let mut rng = Rng::new(seed ^ 0x5EED_0001);
    let mut fx = Effects::default();
    // Traffic starts doubling 6 min before the alert, over ~2 min, and stays.
    let surge = Ramp::from(FIRED_AT - 6 * MIN, 2 * MIN + rng.int(-10, 10) * 1000);
    fx.ext_load.push((
        "live-api".into(),
        Fx::new(surge, 2.1 + rng.range(-0.05, 0.05)),
    ));
    // mesh-dashboard reports every sidecar; for live-api it stays at the baseline level.
    fx.misreport = (0..c.services.len())
        .map(Misreport::SidecarCapped)
        .collect();
    let steps = c.steps();
    let pod = |s: usize, p: usize| c.services[s].pods[p].name.clone();
    // Two short scrape gaps on healthy pods, far from the alert, so gaps are not a signal.
    let gaps = vec![
        Gap {
            pod: pod(3, 1),
            from: 40 + rng.below(10),
            to: 43 + rng.below(10),
        },
        Gap {
            pod: pod(2, 0),
            from: steps - 12,
            to: steps - 10,
        },
    ];
    let events = vec![
        EventRow {
            ts_ms: FIRED_AT - 5 * 24 * 60 * MIN - 227 * MIN,
            entity: "live-api".into(),
            kind: "config".into(),
            detail: Some("app resources 2 CPU / 1 GiB -> 4 CPU / 2 GiB".into()),
        },
        EventRow {
            ts_ms: FIRED_AT - 118 * MIN + 37_000,
            entity: "user-api".into(),
            kind: "deploy".into(),
            detail: Some("image v2.14.0 -> v2.14.1".into()),
        },
    ];
    let spec = IncidentSpec {
        id: Some("live-rt-jitter".into()),
        title: Some("Live-streaming API response-time jitter".into()),
        description: Some(
            "Simulated by `funnel simulate live-rt-jitter`: live-api p99 response time alert."
                .into(),
        ),
        alert: Alert {
            entity: "live-api".into(),
            metric: "latency_p99_ms".into(),
            fired_at: Instant(FIRED_AT),
        },
        window: None,
        metric_aliases: Default::default(),
        expected: Some(Expected {
            kind: "sidecar".into(),
            culprit: "live-api".into(),
        }),
        entities: c.topology(),
        postmortem: None,
    };
    Scenario {
        cluster: c,
        effects: fx,
        gaps,
        events,
        spec,
        rng,
    }
}

//! Random clusters drawn from a seed: names, call graph, shared storage, placements, sizes.
//!
//! Shapes follow the scenario library's brief: 6–14 services, 2–6 pods each over 3–8 nodes,
//! every MySQL/Redis shared by two or more services, one or two gateways, a few third
//! parties, east-west calls. Names come from mixed pools so no naming pattern marks a role.

mod names;

use super::cluster::{Cluster, GIB, Ingress, MIB, Node, Service, Store, Target, Vendor, make_pods};
use super::engine::traffic;
use super::rng::Rng;
use names::{GATEWAYS, STEMS, STORE_NAMES, SUFFIXES, VENDORS, distinct, node_names};

/// Draws a cluster. `start_ms`/`end_ms` bound the data; the step is 10–15 s.
#[must_use]
pub fn random(rng: &mut Rng, start_ms: i64, end_ms: i64) -> Cluster {
    let n_nodes = rng.int(3, 8) as usize;
    let n_svc = rng.int(6, 14) as usize;
    let nodes = draw_nodes(rng, n_nodes);
    let ingresses = draw_ingresses(rng);
    let stores = draw_stores(rng);
    let vendors = draw_vendors(rng);
    let (mut services, first_internal) = draw_services(rng, n_svc, n_nodes, &ingresses);
    east_west_calls(rng, &mut services, first_internal);
    store_calls(rng, &mut services, &stores);
    vendor_calls(rng, &mut services, &vendors);
    // Big clusters scrape less often (as real ones do), which keeps archives near 100–400k rows.
    let series: usize = services
        .iter()
        .map(|s| s.pods.len() * (12 + 2 * s.deps.len()))
        .sum();
    let step_ms = if series > 700 {
        15_000
    } else {
        *rng.pick(&[10_000, 12_000, 15_000])
    };
    let mut c = Cluster {
        services,
        stores,
        vendors,
        ingresses,
        nodes,
        start_ms,
        end_ms,
        step_ms,
        mesh_dashboard: rng.chance(0.4),
        report_cache: rng.chance(0.7),
        report_sidecar_mem: rng.chance(0.6),
    };
    // Justified: the generator above only lets a service call later ones, so resolving cannot
    // fail; a failure is a bug in this generator, and a panic says so (exit 101).
    #[allow(clippy::expect_used)]
    c.resolve()
        .expect("random clusters call only later services");
    size(rng, &mut c);
    c
}

fn draw_nodes(rng: &mut Rng, n_nodes: usize) -> Vec<Node> {
    node_names(rng, n_nodes)
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let cores = *rng.pick(&[16.0, 32.0, 48.0, 64.0]);
            Node {
                name,
                cores,
                system_cores: cores * rng.range(0.15, 0.35),
                net_err: rng.range(0.01, 0.3),
                subnet: format!("10.{}.{}", rng.int(0, 3), 10 + i),
            }
        })
        .collect()
}

fn draw_ingresses(rng: &mut Rng) -> Vec<Ingress> {
    let n_ing = rng.int(1, 2) as usize;
    distinct(rng, GATEWAYS, &[""], n_ing)
        .into_iter()
        .map(|n| Ingress {
            id: format!("ingress:{n}"),
            proc_ms: rng.range(1.0, 6.0),
        })
        .collect()
}

fn draw_stores(rng: &mut Rng) -> Vec<Store> {
    let n_mysql = rng.int(1, 3) as usize;
    let n_redis = rng.int(1, 3) as usize;
    let store_names = distinct(rng, STORE_NAMES, &["", "-db", "-01"], n_mysql + n_redis);
    store_names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mysql = i < n_mysql;
            let addr = format!(
                "10.{}.{}.{}",
                rng.int(0, 3),
                rng.int(40, 60),
                rng.int(2, 250)
            );
            if mysql {
                Store {
                    id: format!("mysql:{n}"),
                    mysql,
                    lat_ms: rng.range(1.5, 8.0),
                    slow_q: rng.range(0.02, 0.3),
                    cpu: rng.range(0.15, 0.45),
                    pool: rng.int(5, 20) as f64,
                    addr,
                }
            } else {
                Store {
                    id: format!("redis:{}", n.trim_end_matches("-db")),
                    mysql,
                    lat_ms: rng.range(0.2, 0.8),
                    slow_q: 0.0,
                    cpu: rng.range(0.05, 0.3),
                    pool: rng.int(8, 32) as f64,
                    addr,
                }
            }
        })
        .collect()
}

fn draw_vendors(rng: &mut Rng) -> Vec<Vendor> {
    let n_vend = rng.int(1, 3) as usize;
    distinct(rng, VENDORS, &[""], n_vend)
        .into_iter()
        .map(|n| Vendor {
            id: format!("http:{n}"),
            lat_ms: rng.range(40.0, 250.0),
            err: rng.range(0.0005, 0.005),
        })
        .collect()
}

/// Services in DAG order: the first 2–4 are entry points, one may be a queue-fed worker, the
/// rest are internal and called by earlier ones. Returns them with the first internal index.
fn draw_services(
    rng: &mut Rng,
    n_svc: usize,
    n_nodes: usize,
    ingresses: &[Ingress],
) -> (Vec<Service>, usize) {
    let names = distinct(rng, STEMS, SUFFIXES, n_svc);
    let n_entry = rng.int(2, 4.min(n_svc as i64 - 2)) as usize;
    let worker = rng.chance(0.6);
    let services: Vec<Service> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut s = Service::new(name);
            s.go = rng.chance(0.6);
            let n_pods = (if rng.chance(0.15) {
                rng.int(5, 6)
            } else {
                rng.int(2, 4)
            } as usize)
                .min(n_nodes);
            let mut order: Vec<usize> = (0..n_nodes).collect();
            rng.shuffle(&mut order);
            s.pods = make_pods(rng, name, &order[..n_pods]);
            if i < n_entry {
                let k = if ingresses.len() > 1 && rng.chance(0.25) {
                    2
                } else {
                    1
                };
                let first = rng.below(ingresses.len());
                s.entry = (0..k)
                    .map(|j| ingresses[(first + j) % ingresses.len()].id.clone())
                    .collect();
                s.ext_rps = rng.range(80.0, 900.0);
            } else if i == n_entry && worker {
                s.ext_rps = rng.range(10.0, 80.0);
            } else {
                s.ext_rps = 0.0;
            }
            s.proc_ms = rng.range(3.0, 40.0);
            s.tail = rng.range(2.0, 4.0);
            s.base_err = rng.range(0.0002, 0.004);
            s.app_mem = *rng.pick(&[0.5, 1.0, 2.0, 4.0]) * GIB;
            s.rss = s.app_mem * rng.range(0.3, 0.6);
            s.cache = s.app_mem * rng.range(0.05, 0.25);
            s.sc_mem = *rng.pick(&[256.0, 512.0, 1024.0]) * MIB;
            s.sc_rss = s.sc_mem * rng.range(0.15, 0.35);
            s.sc_delay_ms = rng.range(0.5, 2.5);
            s.idle_workers = rng.range(40.0, 400.0).round();
            s.workers_per_req = rng.range(1.5, 6.0);
            s
        })
        .collect();
    (services, n_entry + usize::from(worker))
}

/// Each internal service gets at least one earlier caller, then a few more random edges.
// Index loops: the DAG rule (a service calls only later ones) is about positions.
#[allow(clippy::needless_range_loop)]
fn east_west_calls(rng: &mut Rng, services: &mut [Service], first_internal: usize) {
    let n_svc = services.len();
    for j in first_internal..n_svc {
        let caller = rng.below(j);
        let cpr = rng.range(0.3, 1.5);
        services[caller].call(
            &services[j].name.clone(),
            cpr,
            rng.range(500.0, 3000.0),
            rng.range(0.3, 0.8),
        );
    }
    for i in 0..n_svc {
        for j in i + 1..n_svc {
            if rng.chance(0.12) && !services[i].deps.iter().any(|d| d.id == services[j].name) {
                let cpr = rng.range(0.2, 1.0);
                services[i].call(
                    &services[j].name.clone(),
                    cpr,
                    rng.range(500.0, 3000.0),
                    rng.range(0.3, 0.8),
                );
            }
        }
    }
}

/// Every storage instance has two or more users; most services use one or two.
fn store_calls(rng: &mut Rng, services: &mut [Service], stores: &[Store]) {
    let n_svc = services.len();
    for st in stores {
        let mut users: Vec<usize> = (0..n_svc).collect();
        rng.shuffle(&mut users);
        let k = rng.int(2, 4.min(n_svc as i64)) as usize;
        for &u in &users[..k] {
            add_store_call(rng, &mut services[u], st);
        }
    }
}

/// Third parties: one to three callers each.
fn vendor_calls(rng: &mut Rng, services: &mut [Service], vendors: &[Vendor]) {
    let n_svc = services.len();
    for v in vendors {
        let k = rng.int(1, 3) as usize;
        for _ in 0..k {
            let u = rng.below(n_svc);
            if !services[u].deps.iter().any(|d| d.id == v.id) {
                let cpr = rng.range(0.05, 0.5);
                services[u].call(
                    &v.id,
                    cpr,
                    (v.lat_ms * rng.range(4.0, 10.0)).max(300.0),
                    rng.range(1.0, 5.0),
                );
            }
        }
    }
}

fn add_store_call(rng: &mut Rng, s: &mut Service, st: &Store) {
    if s.deps.iter().any(|d| d.id == st.id) {
        return;
    }
    if st.mysql {
        let cpr = rng.range(0.5, 3.0);
        s.call(&st.id, cpr, rng.range(1000.0, 5000.0), rng.range(0.4, 1.0));
    } else {
        let cpr = rng.range(1.0, 5.0);
        s.call(&st.id, cpr, rng.range(100.0, 500.0), rng.range(0.2, 0.5));
    }
}

/// Sets CPU limits and costs from the baseline traffic so every container starts with
/// headroom (app 15–40 %, sidecar 10–45 % of its limit), as a sized production service would.
fn size(rng: &mut Rng, c: &mut Cluster) {
    let ext: Vec<f64> = c.services.iter().map(|s| s.ext_rps).collect();
    let rps = traffic(c, &ext);
    for (i, s) in c.services.iter_mut().enumerate() {
        let pod_rps = (rps[i] / s.pods.len() as f64).max(0.5);
        s.app_cpu = *rng.pick(&[0.5, 1.0, 2.0, 4.0]);
        s.cpu_idle = s.app_cpu * rng.range(0.01, 0.04);
        let rho = rng.range(0.15, 0.4);
        s.cpu_per_req = ((rho * s.app_cpu - s.cpu_idle) / pod_rps).max(1e-5);
        s.sc_cpu = *rng.pick(&[0.5, 1.0, 2.0]);
        let passes = pod_rps * (1.0 + s.deps.iter().map(|d| d.cpr).sum::<f64>());
        let rho = rng.range(0.1, 0.45);
        s.sc_per_pass = ((rho * s.sc_cpu - 0.02) / passes).max(1e-6);
    }
}

/// Raises limits (never costs) so no container of `only` (or of every service when empty)
/// exceeds `max_rho` of its limit at the given peak traffic: capacity planning for a known peak.
pub fn headroom(
    c: &mut Cluster,
    peak_ext: &[f64],
    max_rho: f64,
    app: bool,
    sidecar: bool,
    skip: Option<usize>,
) {
    let rps = traffic(c, peak_ext);
    for (i, s) in c.services.iter_mut().enumerate() {
        if Some(i) == skip {
            continue;
        }
        let pod_rps = rps[i] / s.pods.len() as f64;
        let demand = s.cpu_idle + pod_rps * s.cpu_per_req;
        if app && demand / s.app_cpu > max_rho {
            s.app_cpu = ((demand / max_rho) * 4.0).ceil() / 4.0;
        }
        let sc = 0.02 + pod_rps * (1.0 + s.deps.iter().map(|d| d.cpr).sum::<f64>()) * s.sc_per_pass;
        if sidecar && sc / s.sc_cpu > max_rho {
            s.sc_cpu = ((sc / max_rho) * 4.0).ceil() / 4.0;
        }
    }
}

/// Users of a storage instance or third party (direct callers).
#[must_use]
pub fn users(c: &Cluster, target: Target) -> Vec<usize> {
    (0..c.services.len())
        .filter(|&i| c.services[i].deps.iter().any(|d| d.target == target))
        .collect()
}

/// Gives every node room for the limits of the pods placed on it (plus its system share), as
/// the scheduler's requests accounting would: a busy pod must not make its node look sick.
pub fn fit_nodes(c: &mut Cluster) {
    for (i, nd) in c.nodes.iter_mut().enumerate() {
        let limits: f64 = c
            .services
            .iter()
            .flat_map(|s| {
                s.pods
                    .iter()
                    .filter(move |p| p.node == i)
                    .map(move |_| s.app_cpu + s.sc_cpu)
            })
            .sum();
        let need = (nd.system_cores + limits) / 0.85;
        if need > nd.cores {
            nd.cores = (need / 16.0).ceil() * 16.0;
        }
    }
}

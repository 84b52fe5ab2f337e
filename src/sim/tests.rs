//! Scenario-level tests: determinism, every scenario generates a well-formed archive, and the
//! propagation invariants that make a scenario's verdict knowable from its data.

use crate::model::{ArchiveData, MetricRow};

use super::{MIN, scenario_names, simulate};

/// Incident-over-baseline ratio of the mean of the rows matching `pred`.
fn ratio(a: &ArchiveData, pred: impl Fn(&MetricRow) -> bool) -> f64 {
    let fired = a.spec.alert.fired_at.0;
    let (mut b, mut nb, mut i, mut ni) = (0.0, 0.0, 0.0, 0.0);
    for r in a.metrics.iter().filter(|r| !r.value.is_nan() && pred(r)) {
        if r.ts_ms < fired - 20 * MIN {
            b += r.value;
            nb += 1.0;
        } else if r.ts_ms >= fired - MIN && r.ts_ms < fired + 5 * MIN {
            i += r.value;
            ni += 1.0;
        }
    }
    assert!(nb > 0.0 && ni > 0.0, "no samples matched");
    (i / ni) / (b / nb)
}

/// Mean over the incident part of the rows matching `pred`.
fn incident_mean(a: &ArchiveData, pred: impl Fn(&MetricRow) -> bool) -> f64 {
    let fired = a.spec.alert.fired_at.0;
    let v: Vec<f64> = a
        .metrics
        .iter()
        .filter(|r| {
            !r.value.is_nan() && r.ts_ms >= fired - MIN && r.ts_ms < fired + 5 * MIN && pred(r)
        })
        .map(|r| r.value)
        .collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn culprit(a: &ArchiveData) -> String {
    a.spec.expected.as_ref().unwrap().culprit.clone()
}

fn same(a: &ArchiveData, b: &ArchiveData) -> bool {
    a.spec == b.spec
        && a.logs == b.logs
        && a.events == b.events
        && a.metrics.len() == b.metrics.len()
        && a.metrics.iter().zip(&b.metrics).all(|(x, y)| {
            x.ts_ms == y.ts_ms
                && x.entity == y.entity
                && x.metric == y.metric
                && x.pod == y.pod
                && x.target == y.target
                && x.source == y.source
                && x.value.to_bits() == y.value.to_bits()
        })
}

#[test]
fn same_scenario_and_seed_give_the_same_archive() {
    for name in ["live-rt-jitter", "redis", "node"] {
        assert!(
            same(&simulate(name, 7).unwrap(), &simulate(name, 7).unwrap()),
            "{name}"
        );
    }
    assert!(!same(
        &simulate("pod", 1).unwrap(),
        &simulate("pod", 2).unwrap()
    ));
}

#[test]
fn the_seed_only_changes_noise_in_live_rt_jitter() {
    let (a, b) = (
        simulate("live-rt-jitter", 1).unwrap(),
        simulate("live-rt-jitter", 2).unwrap(),
    );
    assert_eq!(a.spec, b.spec);
    let pods = |x: &ArchiveData| {
        x.metrics
            .iter()
            .filter_map(|r| r.pod.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(pods(&a), pods(&b));
}

#[test]
fn unknown_scenarios_are_refused_with_the_list() {
    let e = simulate("disk-full", 1).unwrap_err();
    assert!(
        e.contains("live-rt-jitter") && e.contains("third-party"),
        "{e}"
    );
    assert_eq!(scenario_names().len(), 14);
}

#[test]
fn every_scenario_generates_a_well_formed_archive() {
    let seed = 3;
    for name in scenario_names() {
        let a = simulate(name, seed).unwrap();
        let exp = a.spec.expected.clone().unwrap();
        assert_eq!(
            exp.kind,
            if name == "live-rt-jitter" {
                "sidecar"
            } else {
                name
            }
        );
        let toml = a.spec.to_toml().unwrap();
        assert_eq!(
            crate::model::IncidentSpec::parse(&toml).unwrap(),
            a.spec,
            "{name}"
        );
        let w = a.spec.windows().unwrap();
        let lo = a.metrics.iter().map(|r| r.ts_ms).min().unwrap();
        let hi = a.metrics.iter().map(|r| r.ts_ms).max().unwrap();
        assert!(
            lo <= w.baseline_start && hi >= w.end - 20_000,
            "{name} data covers the windows"
        );
        assert!(
            a.metrics.iter().any(|r| r.entity == a.spec.alert.entity
                && r.metric == a.spec.alert.metric
                && r.pod.is_none()),
            "{name}: alert series exists"
        );
        assert!(!a.logs.is_empty() && !a.events.is_empty(), "{name}");
        assert!(
            a.metrics.len() < 700_000,
            "{name} {seed}: {} rows",
            a.metrics.len()
        );
        // The culprit names something present in the data (or the cluster for `network`).
        let c = exp.culprit;
        let present = c == "cluster"
            || a.metrics.iter().any(|r| {
                r.entity == c
                    || r.pod.as_deref() == Some(c.as_str())
                    || r.target.as_deref() == Some(c.as_str())
            });
        assert!(present, "{name}: culprit {c} absent");
    }
}

#[test]
fn live_rt_jitter_tells_the_seed_story() {
    let a = simulate("live-rt-jitter", 1).unwrap();
    let live = |m: &'static str| {
        move |r: &MetricRow| {
            r.entity == "live-api" && r.metric == m && r.pod.is_none() && r.target.is_none()
        }
    };
    assert!(ratio(&a, live("requests_per_s")) > 1.8);
    assert!(incident_mean(&a, live("latency_p99_ms")) > 600.0);
    assert!(ratio(&a, live("goroutines")) > 2.5);
    let sc = |src: &'static str| {
        move |r: &MetricRow| {
            r.entity == "live-api"
                && r.metric == "cpu_cores"
                && r.container.as_deref() == Some("sidecar")
                && r.source.as_deref() == Some(src)
        }
    };
    assert!(
        incident_mean(&a, sc("cadvisor")) > 1.9,
        "sidecars at the 2-core limit"
    );
    assert!(
        incident_mean(&a, sc("mesh-dashboard")) < 1.3,
        "mesh-dashboard under-reports"
    );
    let app = |r: &MetricRow| {
        r.entity == "live-api" && r.metric == "cpu_cores" && r.container.as_deref() == Some("app")
    };
    assert!(incident_mean(&a, app) < 0.7 * 4.0);
    for t in ["mysql:live-db", "redis:live-cache", "http:gift-vendor"] {
        assert!(
            ratio(&a, |r| r.entity == "live-api"
                && r.metric == "dep_latency_ms"
                && r.pod.is_none()
                && r.target.as_deref() == Some(t))
                > 1.3,
            "{t}"
        );
        assert!(
            ratio(&a, |r| r.entity == "gift-api"
                && r.metric == "dep_latency_ms"
                && r.pod.is_none()
                && r.target.as_deref() == Some(t))
                < 1.15,
            "{t}"
        );
    }
    for s in ["mysql:live-db", "redis:live-cache"] {
        assert!(
            ratio(&a, |r| r.entity == s && r.metric == "server_latency_ms") < 1.15,
            "{s}"
        );
    }
    assert!(
        ratio(&a, |r| r.entity == "gift-api"
            && r.metric == "latency_p99_ms"
            && r.pod.is_none())
            < 1.15
    );
    assert!(
        ratio(&a, |r| r.entity == "ingress:public-gw"
            && r.metric == "latency_p99_ms")
            < 1.15
    );
    let fired = a.spec.alert.fired_at.0;
    let during = |e: &str, pat: &str| {
        a.logs
            .iter()
            .filter(|l| l.entity == e && l.ts_ms >= fired - 5 * MIN && l.message.contains(pat))
            .count()
    };
    assert!(during("live-api", "i/o timeout") > 50);
    assert!(during("live-api", "gift-vendor") > 5);
    assert_eq!(
        during("gift-api", "i/o timeout") + during("gift-api", "context deadline exceeded"),
        0
    );
    assert!(
        a.events
            .iter()
            .any(|e| e.kind == "config" && e.entity == "live-api")
    );
}

/// Services whose topology lists `id` among their dependencies.
fn users_of(a: &ArchiveData, id: &str) -> Vec<String> {
    a.spec
        .entities
        .iter()
        .filter(|e| e.depends_on.iter().any(|d| d == id))
        .map(|e| e.id.clone())
        .collect()
}

#[test]
fn a_slow_redis_slows_its_users_calls_to_it_and_nothing_else_on_storage() {
    for seed in 1..=2 {
        let a = simulate("redis", seed).unwrap();
        let k = culprit(&a);
        let users = users_of(&a, &k);
        assert!(users.len() >= 2, "shared by two or more");
        for u in &users {
            assert!(
                ratio(&a, |r| &r.entity == u
                    && r.metric == "dep_latency_ms"
                    && r.pod.is_none()
                    && r.target.as_deref() == Some(k.as_str()))
                    > 2.0,
                "{u} -> {k}"
            );
        }
        // Every other storage call in the cluster keeps its latency.
        let others: Vec<(String, String)> = a
            .spec
            .entities
            .iter()
            .flat_map(|e| {
                e.depends_on
                    .iter()
                    .filter(|d| (d.starts_with("redis:") || d.starts_with("mysql:")) && **d != k)
                    .map(|d| (e.id.clone(), d.clone()))
            })
            .collect();
        for (s, d) in others {
            assert!(
                ratio(&a, |r| r.entity == s
                    && r.metric == "dep_latency_ms"
                    && r.pod.is_none()
                    && r.target.as_deref() == Some(d.as_str()))
                    < 1.5,
                "{s} -> {d}"
            );
        }
    }
}

#[test]
fn a_bad_node_hurts_the_pods_on_it_and_not_their_siblings() {
    for seed in 1..=2 {
        let a = simulate("node", seed).unwrap();
        let node = culprit(&a).trim_start_matches("node:").to_string();
        // A pod's calls to storage cross its own node's network: that isolates the node.
        let mut on = 0;
        let pods: std::collections::BTreeSet<(String, String)> = a
            .metrics
            .iter()
            .filter(|r| {
                r.metric == "dep_latency_ms"
                    && r.pod.is_some()
                    && r.target
                        .as_deref()
                        .is_some_and(|t| t.starts_with("mysql:") || t.starts_with("redis:"))
            })
            .map(|r| (r.pod.clone().unwrap(), r.node.clone().unwrap()))
            .collect();
        for (p, n) in &pods {
            let q = ratio(&a, |r| {
                r.pod.as_ref() == Some(p)
                    && r.metric == "dep_latency_ms"
                    && r.target
                        .as_deref()
                        .is_some_and(|t| t.starts_with("mysql:") || t.starts_with("redis:"))
            });
            if *n == node {
                on += 1;
                assert!(q > 1.6, "{p} on the bad node: x{q:.2}");
            } else {
                assert!(q < 1.3, "{p} elsewhere: x{q:.2}");
            }
        }
        assert!(on > 0);
        assert!(
            ratio(&a, |r| r.entity == culprit(&a)
                && r.metric == "net_errors_per_s"
                && r.source.is_none())
                > 3.0
        );
    }
}

#[test]
fn a_saturated_sidecar_slows_all_client_calls_while_servers_stay_normal() {
    for seed in 1..=2 {
        let a = simulate("sidecar", seed).unwrap();
        let s = culprit(&a);
        let limit = a
            .metrics
            .iter()
            .find(|r| {
                r.entity == s
                    && r.metric == "cpu_limit_cores"
                    && r.container.as_deref() == Some("sidecar")
            })
            .unwrap()
            .value;
        let used = incident_mean(&a, |r| {
            r.entity == s
                && r.metric == "cpu_cores"
                && r.container.as_deref() == Some("sidecar")
                && r.source.as_deref() == Some("cadvisor")
        });
        assert!(used > 0.93 * limit, "{s}: sidecar {used:.2} of {limit}");
        let app_limit = a
            .metrics
            .iter()
            .find(|r| {
                r.entity == s
                    && r.metric == "cpu_limit_cores"
                    && r.container.as_deref() == Some("app")
            })
            .unwrap()
            .value;
        assert!(
            incident_mean(&a, |r| r.entity == s
                && r.metric == "cpu_cores"
                && r.container.as_deref() == Some("app"))
                < 0.9 * app_limit
        );
        for d in &a.spec.entity(&s).unwrap().depends_on {
            assert!(
                ratio(&a, |r| r.entity == s
                    && r.metric == "dep_latency_ms"
                    && r.pod.is_none()
                    && r.target.as_deref() == Some(d.as_str()))
                    > 1.3,
                "{s} -> {d}"
            );
            if d.starts_with("mysql:") || d.starts_with("redis:") {
                assert!(
                    ratio(&a, |r| &r.entity == d && r.metric == "server_latency_ms") < 1.3,
                    "{d} server"
                );
            }
        }
    }
}

#[test]
fn a_sick_pod_degrades_alone() {
    for seed in 1..=2 {
        let a = simulate("pod", seed).unwrap();
        let p = culprit(&a);
        let svc = crate::model::service_of_pod(&p).to_string();
        assert!(
            ratio(&a, |r| r.pod.as_deref() == Some(p.as_str())
                && r.metric == "latency_avg_ms")
                > 2.5
        );
        let siblings: std::collections::BTreeSet<String> = a
            .metrics
            .iter()
            .filter(|r| r.entity == svc && r.pod.is_some() && r.pod.as_deref() != Some(p.as_str()))
            .map(|r| r.pod.clone().unwrap())
            .collect();
        assert!(!siblings.is_empty());
        for s in siblings {
            assert!(
                ratio(&a, |r| r.pod.as_deref() == Some(s.as_str())
                    && r.metric == "latency_avg_ms")
                    < 1.6,
                "{s}"
            );
        }
    }
}

#[test]
fn a_code_change_is_a_deploy_then_errors_in_that_service() {
    for seed in 1..=2 {
        let a = simulate("code-change", seed).unwrap();
        let s = culprit(&a);
        let fired = a.spec.alert.fired_at.0;
        assert!(a.events.iter().any(|e| e.entity == s
            && e.kind == "deploy"
            && e.ts_ms > fired - 11 * MIN
            && e.ts_ms < fired));
        assert!(
            ratio(&a, |r| r.entity == s
                && r.metric == "errors_per_s"
                && r.pod.is_none())
                > 3.0
        );
        for e in &a.events {
            if e.kind == "deploy" && e.entity != s {
                assert!(e.ts_ms < fired - 20 * MIN, "confounding deploys are old");
            }
        }
    }
}

#[test]
fn an_ingress_fault_leaves_east_west_calls_alone() {
    for seed in 1..=2 {
        let a = simulate("ingress", seed).unwrap();
        let g = culprit(&a);
        assert!(ratio(&a, |r| r.entity == g && r.metric == "latency_p99_ms") > 3.0);
        let calls: Vec<(String, String)> = a
            .spec
            .entities
            .iter()
            .flat_map(|e| e.depends_on.iter().map(|d| (e.id.clone(), d.clone())))
            .collect();
        for (s, d) in calls {
            let q = ratio(&a, |r| {
                r.entity == s
                    && r.metric == "dep_latency_ms"
                    && r.pod.is_none()
                    && r.target.as_deref() == Some(d.as_str())
            });
            assert!(q < 1.5, "{s} -> {d}: x{q:.2}");
        }
    }
}

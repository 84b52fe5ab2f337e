//! Name pools for random clusters: service stems and suffixes, storage, vendor and gateway
//! names, and node names in the styles of the major clouds. Mixed on purpose, so that no
//! naming pattern marks a role.

use super::super::rng::Rng;

pub(super) const STEMS: &[&str] = &[
    "checkout",
    "cart",
    "catalog",
    "search",
    "recommend",
    "payments",
    "ledger",
    "inventory",
    "shipping",
    "notify",
    "auth",
    "profile",
    "media",
    "feed",
    "comments",
    "pricing",
    "orders",
    "session",
    "quote",
    "booking",
    "loyalty",
    "wallet",
    "review",
    "geo",
    "promo",
    "invoice",
    "account",
    "listing",
    "chat",
    "match",
    "upload",
    "report",
];
pub(super) const SUFFIXES: &[&str] = &[
    "", "-api", "-svc", "-service", "-backend", "-grpc", "-worker", "-server", "-core",
];
pub(super) const STORE_NAMES: &[&str] = &[
    "main", "orders", "users", "catalog", "sessions", "ledger", "core", "shard-1", "primary",
    "feed", "kv", "hot", "events",
];
pub(super) const VENDORS: &[&str] = &[
    "stripe-api",
    "sms-gateway",
    "geo-lookup",
    "fraud-score",
    "pay-gateway",
    "push-provider",
    "maps-api",
    "kyc-check",
    "email-relay",
    "fx-rates",
    "tax-service",
];
pub(super) const GATEWAYS: &[&str] = &[
    "public-gw",
    "edge",
    "api-gateway",
    "web-lb",
    "mobile-gw",
    "partner-gw",
    "istio-ingress",
    "envoy-edge",
];

pub(super) fn node_names(rng: &mut Rng, n: usize) -> Vec<String> {
    let style = rng.below(5);
    let pool = rng.hex(8);
    (0..n)
        .map(|i| match style {
            0 => format!(
                "ip-10-{}-{}-{}.ec2.internal",
                rng.int(0, 3),
                rng.int(0, 255),
                rng.int(2, 254)
            ),
            1 => format!("gke-prod-pool-1-{pool}-{}", rng.k8s_suffix(4)),
            2 => format!("worker-{}", i + 1),
            3 => format!(
                "aks-nodepool1-{}-vmss0000{i:02}",
                3000_0000 + rng.int(0, 9_999_999)
            ),
            _ => format!("k8s-node-{:02}", i + 1),
        })
        .collect()
}

/// `n` distinct names from a pool, each with a suffix drawn from `suffixes`.
pub(super) fn distinct(rng: &mut Rng, pool: &[&str], suffixes: &[&str], n: usize) -> Vec<String> {
    let mut p: Vec<&str> = pool.to_vec();
    rng.shuffle(&mut p);
    p.iter()
        .take(n)
        .map(|s| format!("{s}{}", rng.pick(suffixes)))
        .collect()
}

//! Log lines: the steady background every service writes, and the error, timeout, crash and
//! slowness lines the engine's state calls for (one call per pod and step).
//!
//! Error lines are a small sample of the failures the metrics count (apps log a fraction,
//! pipelines sample), capped per pod and step so a storm stays a few hundred lines.

use crate::model::LogRow;

use super::cluster::{Cluster, Node, Pod, Service};
use super::rng::Rng;

mod deps;

/// Share of failed calls that produce a log line.
const SAMPLE: f64 = 0.01;
/// Most error lines of one kind per pod and step.
const CAP: f64 = 3.0;

const RESOURCES: &[&str] = &[
    "rooms",
    "users",
    "orders",
    "gifts",
    "messages",
    "carts",
    "items",
    "sessions",
    "payments",
    "feeds",
    "streams",
    "comments",
    "invoices",
    "profiles",
    "coupons",
    "tickets",
    "playlists",
    "devices",
    "reviews",
    "shipments",
];
const VERBS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "GET", "DELETE"];
const AGENTS: &[&str] = &[
    "okhttp/4.12.0",
    "Go-http-client/2.0",
    "Mozilla/5.0",
    "ios-app/7.3.1",
    "android-app/7.2.9",
    "grpc-go/1.62.1",
];

/// Generates log rows.
#[derive(Debug)]
pub struct LogGen {
    rng: Rng,
    /// Steady lines per pod per step.
    rate: f64,
    /// REST paths per service index, by name.
    paths: Vec<(String, Vec<String>)>,
    /// Rows so far.
    pub rows: Vec<LogRow>,
}

/// Where a line is written: the service, the pod and the node it runs on.
#[derive(Clone, Copy)]
pub struct Site<'a> {
    /// The service.
    pub sv: &'a Service,
    /// The pod writing the line.
    pub pod: &'a Pod,
    /// The pod's node.
    pub node: &'a Node,
}

impl LogGen {
    /// A generator sized so the whole run writes a few thousand steady lines.
    #[must_use]
    pub fn new(mut rng: Rng, c: &Cluster) -> LogGen {
        let pods: usize = c.services.iter().map(|s| s.pods.len()).sum();
        let rate = (2500.0 / (pods.max(1) * c.steps().max(1)) as f64).clamp(0.05, 0.8);
        let paths = c
            .services
            .iter()
            .map(|s| {
                let mut r: Vec<&str> = RESOURCES.to_vec();
                rng.shuffle(&mut r);
                let v = if rng.chance(0.5) { "v1" } else { "v2" };
                (
                    s.name.clone(),
                    r[..3].iter().map(|x| format!("/{v}/{x}")).collect(),
                )
            })
            .collect();
        LogGen {
            rng,
            rate,
            paths,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, at: Site<'_>, t: i64, step_s: f64, level: &str, message: String) {
        // Spread lines inside the step so they do not all share the scrape timestamp.
        let ts = t + (self.rng.f64() * step_s * 1000.0) as i64;
        self.rows.push(LogRow {
            ts_ms: ts,
            entity: at.sv.name.clone(),
            message,
            pod: Some(at.pod.name.clone()),
            node: Some(at.node.name.clone()),
            level: Some(level.to_string()),
            template: None,
        });
    }

    fn path(&mut self, sv: &Service) -> String {
        let list = &self
            .paths
            .iter()
            .find(|(n, _)| *n == sv.name)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let base = if list.is_empty() {
            "/v1/items".to_string()
        } else {
            self.rng.pick(list).clone()
        };
        if self.rng.chance(0.6) {
            format!("{base}/{}", self.rng.int(1000, 999_999))
        } else {
            base
        }
    }

    /// The steady background: access lines, pool stats, cache and batch chatter.
    pub fn normal(&mut self, at: Site<'_>, t: i64, step_s: f64, lat_ms: f64) {
        let (sv, node) = (at.sv, at.node);
        let n = self.rng.poisson(self.rate * step_s / 15.0);
        for _ in 0..n {
            let ip = format!("{}.{}", node.subnet, self.rng.int(2, 250));
            let dur = lat_ms * (0.6 * self.rng.normal()).exp();
            let roll = self.rng.f64();
            let (level, msg) = if roll < 0.70 {
                let verb = *self.rng.pick(VERBS);
                let path = self.path(sv);
                let status = if self.rng.chance(0.03) {
                    *self.rng.pick(&[400, 401, 404, 409])
                } else if verb == "POST" {
                    201
                } else {
                    200
                };
                let agent = *self.rng.pick(AGENTS);
                let rid = self.rng.hex(16);
                if sv.go {
                    (
                        "info",
                        format!(
                            "{verb} {path} {status} {dur:.1}ms remote={ip} req_id={rid} ua=\"{agent}\""
                        ),
                    )
                } else {
                    (
                        "info",
                        format!(
                            "request completed method={verb} uri={path} status={status} duration_ms={dur:.0} client={ip} trace_id={rid}"
                        ),
                    )
                }
            } else if roll < 0.82 {
                let open = self.rng.int(8, 40);
                let idle = self.rng.int(1, open);
                (
                    "debug",
                    format!(
                        "db pool stats open={open} idle={idle} in_use={} wait_count=0",
                        open - idle
                    ),
                )
            } else if roll < 0.92 {
                let hit = self.rng.range(0.82, 0.98);
                (
                    "debug",
                    format!(
                        "cache stats hit_ratio={hit:.3} keys={} evictions={}",
                        self.rng.int(10_000, 900_000),
                        self.rng.int(0, 40)
                    ),
                )
            } else if roll < 0.97 {
                let items = self.rng.int(1, 200);
                (
                    "info",
                    format!(
                        "flushed batch id={} items={items} took={:.0}ms",
                        self.rng.hex(8),
                        dur * 2.0
                    ),
                )
            } else {
                // Benign warnings are always there: an analyzer must not read them as the cause.
                let w = *self.rng.pick(&[
                    "client closed request before response",
                    "retrying idempotent request after 429 attempt=1",
                    "slow consumer: queue depth 112",
                    "token expired for session, refreshing",
                ]);
                ("warn", w.to_string())
            };
            self.push(at, t, step_s, level, msg);
        }
    }

    /// Errors raised by the service's own code (a bad release, a sick replica).
    pub fn app_errors(&mut self, at: Site<'_>, t: i64, step_s: f64, rate: f64, release: bool) {
        let sv = at.sv;
        let n = self
            .rng
            .poisson((rate * step_s * SAMPLE * 2.0).min(CAP * 1.5));
        for _ in 0..n {
            let msg = if release {
                if sv.go {
                    match self.rng.below(3) {
                        0 => format!("panic: runtime error: index out of range [{}] with length {0}", self.rng.int(1, 8)),
                        1 => "panic: runtime error: invalid memory address or nil pointer dereference [recovered]".to_string(),
                        _ => format!("handler error: json: cannot unmarshal string into Go struct field Item.price of type int64 path={}", self.path(sv)),
                    }
                } else {
                    match self.rng.below(2) {
                        0 => format!(
                            "Unhandled exception: NullPointerException at PriceMapper.map(PriceMapper.java:{})",
                            self.rng.int(40, 300)
                        ),
                        _ => format!(
                            "KeyError: 'discount_v2' in serializer for {}",
                            self.path(sv)
                        ),
                    }
                }
            } else {
                (*self.rng.pick(&[
                    "503 service unavailable: worker pool exhausted",
                    "accept tcp [::]:8080: too many open files",
                    "health check degraded: event loop lag 850ms",
                ]))
                .to_string()
            };
            self.push(at, t, step_s, "error", msg);
        }
    }

    /// A warning the app writes when requests are far slower than usual.
    pub fn slow(&mut self, at: Site<'_>, t: i64, step_s: f64, lat_ms: f64) {
        for _ in 0..self.rng.poisson(1.5 * step_s / 15.0) {
            let path = self.path(at.sv);
            let d = lat_ms * (0.4 * self.rng.normal()).exp() * 2.0;
            let msg = format!("slow request: {path} took {d:.0}ms (threshold 500ms)");
            self.push(at, t, step_s, "warn", msg);
        }
    }

    /// The app was OOM-killed: the runtime's last words and the restart notice.
    pub fn oom(&mut self, at: Site<'_>, t: i64) {
        let mib = (at.sv.app_mem / 1_048_576.0).round();
        let last = if at.sv.go {
            "fatal error: runtime: out of memory"
        } else {
            "java.lang.OutOfMemoryError: Java heap space"
        };
        self.lines(
            at,
            t,
            &[
                (0, "error", last.to_string()),
                (
                    1000,
                    "error",
                    format!(
                        "container app terminated: reason=OOMKilled exit_code=137 limit={mib}Mi"
                    ),
                ),
                (9000, "info", "starting server on :8080".to_string()),
            ],
        );
    }

    /// A replica failed its liveness probe and was restarted.
    pub fn crash(&mut self, at: Site<'_>, t: i64) {
        self.lines(
            at,
            t,
            &[
                (
                    0,
                    "error",
                    "liveness probe failed: HTTP probe failed with statuscode: 503",
                ),
                (2000, "warn", "received SIGTERM, shutting down gracefully"),
                (12_000, "info", "starting server on :8080"),
            ],
        );
    }

    /// A sequence of lines `dt` ms after `t`, each within its second.
    fn lines(&mut self, at: Site<'_>, t: i64, lines: &[(i64, &str, impl AsRef<str>)]) {
        for (dt, level, msg) in lines {
            self.push(at, t + dt, 1.0, level, msg.as_ref().to_string());
        }
    }
}

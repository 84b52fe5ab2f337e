//! Error lines about a dependency: the timeouts and failed calls a client library logs, in
//! the words of the Redis, MySQL and HTTP clients and of the mesh.

use super::super::cluster::{Dep, Target};
use super::{CAP, LogGen, SAMPLE, Site};

const VENDOR_PATHS: &[&str] = &[
    "/v2/send",
    "/v1/lookup",
    "/api/v3/charge",
    "/v2/items/batch",
    "/v1/verify",
    "/api/notify",
];

/// One failed call to a dependency, as its error lines name it.
#[derive(Clone, Copy)]
struct Call<'a> {
    /// The dependency's host (its id without the kind).
    name: &'a str,
    /// The caller's address and port.
    me: &'a str,
    /// The dependency's address.
    ip: &'a str,
    /// The request path being served.
    path: &'a str,
}

impl LogGen {
    /// Timeouts and failed calls to one dependency, sampled from their rates.
    pub fn dep_trouble(
        &mut self,
        at: Site<'_>,
        t: i64,
        step_s: f64,
        d: &Dep,
        timeouts: f64,
        failures: f64,
    ) {
        let nt = self.rng.poisson((timeouts * step_s * SAMPLE).min(CAP));
        let nf = self.rng.poisson((failures * step_s * SAMPLE).min(CAP));
        let name =
            d.id.split_once(':')
                .map_or(d.id.as_str(), |(_, n)| n)
                .to_string();
        // The caller's address: one per pod and step, shared by its lines.
        let me = format!(
            "{}.{}:{}",
            at.node.subnet,
            self.rng.int(2, 250),
            self.rng.int(32_768, 60_999)
        );
        for i in 0..nt + nf {
            let ip = format!(
                "10.{}.{}.{}",
                self.rng.int(0, 9),
                self.rng.int(0, 20),
                self.rng.int(2, 250)
            );
            // Drawn for every line, used or not: drawing it only where it is used would
            // change the random stream, and so every simulated archive.
            let path = self.path(at.sv);
            let call = Call {
                name: &name,
                me: &me,
                ip: &ip,
                path: &path,
            };
            let timeout = i < nt;
            let msg = match d.target {
                Target::Store(_) if d.id.starts_with("redis:") => self.redis_error(&call, timeout),
                Target::Store(_) => self.sql_error(&call, d.timeout_ms, timeout),
                Target::Vendor(_) => self.vendor_error(&call, timeout),
                Target::Svc(_) => self.svc_error(&call, timeout),
            };
            self.push(at, t, step_s, "error", msg);
        }
    }

    fn redis_error(&mut self, c: &Call<'_>, timeout: bool) -> String {
        let Call { name, me, ip, .. } = *c;
        if timeout {
            match self.rng.below(3) {
                0 => format!(
                    "cache get {}:{} failed: dial tcp {ip}:6379: i/o timeout",
                    name,
                    self.rng.int(1, 99_999)
                ),
                1 => format!("redis: i/o timeout (read tcp {me}->{ip}:6379)"),
                _ => "redis: connection pool timeout".to_string(),
            }
        } else {
            match self.rng.below(3) {
                0 => format!("read tcp {me}->{ip}:6379: read: connection reset by peer"),
                1 => "READONLY You can't write against a read only replica.".to_string(),
                _ => "redis: EOF".to_string(),
            }
        }
    }

    fn sql_error(&mut self, c: &Call<'_>, timeout_ms: f64, timeout: bool) -> String {
        let Call { name, ip, .. } = *c;
        if timeout {
            match self.rng.below(2) {
                0 => format!(
                    "query failed after {timeout_ms:.0}ms: context deadline exceeded db={name}"
                ),
                _ => format!("dial tcp {ip}:3306: i/o timeout"),
            }
        } else {
            match self.rng.below(3) {
                0 => "[mysql] invalid connection".to_string(),
                1 => "driver: bad connection".to_string(),
                _ => format!(
                    "Error 2013 (HY000): Lost connection to MySQL server during query db={name}"
                ),
            }
        }
    }

    fn vendor_error(&mut self, c: &Call<'_>, timeout: bool) -> String {
        let name = c.name;
        let vp = *self.rng.pick(VENDOR_PATHS);
        if timeout {
            format!(
                "Post \"http://{name}{vp}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            )
        } else {
            format!(
                "call http://{name}{vp} failed: {}",
                self.rng.pick(&[
                    "502 Bad Gateway",
                    "503 Service Unavailable",
                    "connection reset by peer"
                ])
            )
        }
    }

    fn svc_error(&mut self, c: &Call<'_>, timeout: bool) -> String {
        let Call { name, path, .. } = *c;
        if timeout {
            match self.rng.below(2) {
                0 => format!(
                    "rpc error: code = DeadlineExceeded desc = context deadline exceeded calling {name}"
                ),
                _ => format!("upstream request timeout calling http://{name}:8080{path}"),
            }
        } else {
            format!(
                "upstream {name} returned 503: upstream connect error or disconnect/reset before headers"
            )
        }
    }
}

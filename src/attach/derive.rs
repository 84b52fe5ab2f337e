//! What spans say about the incident: who calls whom (`depends_on`), per-edge client-side
//! series, per-service server series, and self-time, all as metric rows with
//! `source = "traces"`.
//!
//! A span's self-time is its duration minus the part of it its children cover. For a client
//! span whose callee answered with a server span, that is the hop: the network and the mesh
//! proxies on both sides (`dep_hop_ms`). For a service's own spans it is the time spent in its
//! code rather than waiting on what it calls (`self_time_ms`). The time calls into a service
//! spend outside it is also kept on the callee (`call_gap_ms`, see `call_gap`).

use std::collections::{BTreeMap, BTreeSet};

use super::buckets::{Buckets, series};
use crate::archive::traces::Span;
use crate::hashing::FastMap;
use crate::model::MetricRow;

/// The source every derived row carries.
pub const SOURCE: &str = "traces";

/// What [`derive`] found.
#[derive(Debug, Default)]
pub struct Derived {
    /// Caller → callees.
    pub edges: BTreeMap<String, BTreeSet<String>>,
    /// Series rows (`source = "traces"`).
    pub rows: Vec<MetricRow>,
    /// Spans whose parent is not among the spans (kept as roots).
    pub orphans: usize,
    /// Parent links cut because they closed a cycle.
    pub cycles: usize,
}

/// Parent index of every span (`None`: a root, an orphan or a cut cycle link), with the
/// number of orphans and of cut links.
fn parents(spans: &[Span]) -> (Vec<Option<usize>>, usize, usize) {
    let index: FastMap<(&str, &str), usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.trace_id.as_str(), s.span_id.as_str()), i))
        .collect();
    let mut orphans = 0;
    let mut parent: Vec<Option<usize>> = spans
        .iter()
        .map(|s| {
            let p = s.parent_id.as_deref()?;
            let found = index.get(&(s.trace_id.as_str(), p)).copied();
            if found.is_none() {
                orphans += 1;
            }
            found
        })
        .collect();
    // 0 unvisited, 1 on the current walk, 2 done.
    let mut state = vec![0u8; spans.len()];
    let mut cycles = 0;
    let mut walk = Vec::new();
    for i in 0..spans.len() {
        let mut at = Some(i);
        walk.clear();
        while let Some(j) = at {
            match state[j] {
                0 => {
                    state[j] = 1;
                    walk.push(j);
                    at = parent[j];
                }
                1 => {
                    // The last span walked points back into this walk: cut its link.
                    if let Some(&last) = walk.last() {
                        parent[last] = None;
                        cycles += 1;
                    }
                    break;
                }
                _ => break,
            }
        }
        for &j in &walk {
            state[j] = 2;
        }
    }
    (parent, orphans, cycles)
}

/// Each span's self-time in ns: its duration minus the union of its children's intervals
/// (clipped to it), so parallel children are not subtracted twice.
fn self_times(spans: &[Span], parent: &[Option<usize>]) -> Vec<i64> {
    let mut kids: Vec<Vec<(i64, i64)>> = vec![Vec::new(); spans.len()];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = *p {
            let s = &spans[i];
            kids[p].push((s.start_ns, s.start_ns + s.duration_ns));
        }
    }
    spans
        .iter()
        .zip(kids.iter_mut())
        .map(|(s, k)| {
            let (lo, hi) = (s.start_ns, s.start_ns + s.duration_ns);
            k.sort_unstable();
            let (mut covered, mut reach) = (0, lo);
            for &(a, b) in k.iter() {
                let (a, b) = (a.max(reach), b.min(hi));
                if b > a {
                    covered += b - a;
                    reach = b;
                }
            }
            s.duration_ns - covered
        })
        .collect()
}

fn is_client(s: &Span) -> bool {
    matches!(s.kind.as_str(), "client" | "producer")
}

/// Entity names as small ids: the derivation keys a few series by entity for every span, and
/// owned string keys cost allocations and string comparisons per span.
#[derive(Default)]
struct Names<'a> {
    ids: FastMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> Names<'a> {
    fn id(&mut self, name: &'a str) -> u32 {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(name, i);
        self.names.push(name);
        i
    }
}

/// One call between two entities (ids in [`Names`]), as seen from the caller.
struct Call {
    caller: u32,
    callee: u32,
    ts_ms: i64,
    ms: f64,
    hop_ms: Option<f64>,
    error: bool,
}

/// Every call of the spans: client spans (to the child's service, else to the peer their
/// attributes name) and cross-service links without a client span in between. `svc` is each
/// span's service id; `peers` holds the `http:` names made for unknown peers.
fn calls<'a>(
    spans: &'a [Span],
    parent: &[Option<usize>],
    selfs: &[i64],
    known: &BTreeSet<String>,
    (names, svc): (&mut Names<'a>, &[u32]),
    peers: &'a [Option<String>],
) -> Vec<Call> {
    let mut served: Vec<Option<usize>> = vec![None; spans.len()];
    let mut out = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        let Some(p) = *p else { continue };
        if svc[p] == svc[i] {
            continue;
        }
        if is_client(&spans[p]) {
            served[p].get_or_insert(i);
        } else {
            let s = &spans[i];
            out.push(Call {
                caller: svc[p],
                callee: svc[i],
                ts_ms: s.start_ms(),
                ms: s.duration_ms(),
                hop_ms: None,
                error: s.error,
            });
        }
    }
    for (i, s) in spans.iter().enumerate().filter(|(_, s)| is_client(s)) {
        let callee = match (served[i], &s.peer, &peers[i]) {
            (Some(c), _, _) => svc[c],
            (None, _, Some(http)) => names.id(http),
            (None, Some(p), None) if p.contains(':') || known.contains(p) => names.id(p),
            (None, _, None) => continue,
        };
        if callee == svc[i] {
            continue;
        }
        out.push(Call {
            caller: svc[i],
            callee,
            ts_ms: s.start_ms(),
            ms: s.duration_ms(),
            hop_ms: served[i].map(|_| selfs[i] as f64 / 1e6),
            error: s.error,
        });
    }
    out
}

/// The `http:` name of each client span's peer that names no known entity (made up front, so
/// [`Names`] can borrow it).
fn http_peers(spans: &[Span], known: &BTreeSet<String>) -> Vec<Option<String>> {
    spans
        .iter()
        .map(|s| match &s.peer {
            Some(p) if is_client(s) && !p.contains(':') && !known.contains(p) => {
                Some(format!("http:{p}"))
            }
            _ => None,
        })
        .collect()
}

/// Derives edges and series from `spans`. `known` are entity ids already named by the
/// archive (a bare peer name among them is that service, otherwise an `http:` third party);
/// `have` are the (entity, metric) pairs the metrics already hold, for which no server series
/// is derived; `step_ms` is the bucket width.
#[must_use]
pub fn derive(
    spans: &[Span],
    known: &BTreeSet<String>,
    have: &BTreeSet<(String, String)>,
    step_ms: i64,
) -> Derived {
    let (parent, orphans, cycles) = parents(spans);
    let selfs = self_times(spans, &parent);
    let mut known = known.clone();
    known.extend(spans.iter().map(|s| s.service.clone()));
    let peers = http_peers(spans, &known);
    let mut names = Names::default();
    let svc: Vec<u32> = spans.iter().map(|s| names.id(&s.service)).collect();
    let bucket = |ts: i64| ts.div_euclid(step_ms) * step_ms;
    let mut b = Buckets::default();
    let mut pairs: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut put = |e: u32, m: &str, t: u32, ts: i64, v: f64| {
        b.entry((e, super::buckets::metric(m), t, bucket(ts)))
            .or_default()
            .push(v);
    };
    let calls = calls(spans, &parent, &selfs, &known, (&mut names, &svc), &peers);
    for c in calls {
        pairs.insert((c.caller, c.callee));
        put(c.caller, "dep_latency_ms", c.callee, c.ts_ms, c.ms);
        let error = f64::from(u8::from(c.error));
        put(c.caller, "dep_errors_per_s", c.callee, c.ts_ms, error);
        if let Some(h) = c.hop_ms {
            put(c.caller, "dep_hop_ms", c.callee, c.ts_ms, h);
        }
    }
    for (i, s) in spans.iter().enumerate() {
        if is_client(s) {
            continue;
        }
        put(
            svc[i],
            "self_time_ms",
            u32::MAX,
            s.start_ms(),
            selfs[i] as f64 / 1e6,
        );
        if parent[i].is_none_or(|p| svc[p] != svc[i]) {
            put(
                svc[i],
                "latency_p99_ms",
                u32::MAX,
                s.start_ms(),
                s.duration_ms(),
            );
            let error = f64::from(u8::from(s.error));
            put(svc[i], "errors_per_s", u32::MAX, s.start_ms(), error);
        }
    }
    let names = names.names;
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, c) in pairs {
        let callees = edges.entry(names[a as usize].to_string()).or_default();
        callees.insert(names[c as usize].to_string());
    }
    let mut rows = super::call_gap::call_gaps(spans, &parent, step_ms, SOURCE);
    rows.extend(series(b, &names, have, step_ms));
    Derived {
        edges,
        rows,
        orphans,
        cycles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(
        id: &str,
        parent: Option<&str>,
        service: &str,
        kind: &str,
        start: i64,
        dur: i64,
    ) -> Span {
        Span {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_id: parent.map(str::to_string),
            service: service.into(),
            name: "op".into(),
            kind: kind.into(),
            start_ns: start * 1_000_000,
            duration_ns: dur * 1_000_000,
            error: false,
            peer: None,
            pod: None,
        }
    }

    #[test]
    fn self_time_subtracts_the_union_of_children() {
        // api server 0..100 ms; two parallel client calls 10..50 and 30..70; the first answered
        // by a db-proxy server span 20..40.
        let spans = vec![
            span("a", None, "api", "server", 0, 100),
            span("b", Some("a"), "api", "client", 10, 40),
            span("c", Some("a"), "api", "client", 30, 40),
            span("d", Some("b"), "proxy", "server", 20, 20),
        ];
        let (parent, orphans, cycles) = parents(&spans);
        assert_eq!((orphans, cycles), (0, 0));
        let s = self_times(&spans, &parent);
        assert_eq!(s, vec![40_000_000, 20_000_000, 40_000_000, 20_000_000]);
    }

    #[test]
    fn orphans_stay_roots_and_cycles_are_cut() {
        let spans = vec![
            span("a", Some("gone"), "api", "server", 0, 10),
            span("b", Some("c"), "api", "internal", 0, 10),
            span("c", Some("b"), "api", "internal", 0, 10),
        ];
        let (parent, orphans, cycles) = parents(&spans);
        assert_eq!((orphans, cycles), (1, 1));
        assert_eq!(parent[0], None);
        assert_eq!(parent.iter().filter(|p| p.is_none()).count(), 2);
    }

    #[test]
    fn edges_hops_and_server_series() {
        let mut db = span("e", Some("a"), "api", "client", 60, 30);
        db.peer = Some("redis:cache".into());
        let mut vendor = span("f", Some("a"), "api", "client", 95, 3);
        vendor.peer = Some("vendor".into());
        let spans = vec![
            span("a", None, "api", "server", 0, 100),
            span("b", Some("a"), "api", "client", 10, 40),
            span("d", Some("b"), "users", "server", 20, 20),
            db,
            vendor,
        ];
        let have: BTreeSet<(String, String)> =
            [("api".to_string(), "latency_p99_ms".to_string())].into();
        let d = derive(&spans, &BTreeSet::new(), &have, 60_000);
        let callees: Vec<&str> = d.edges["api"].iter().map(String::as_str).collect();
        assert_eq!(callees, ["http:vendor", "redis:cache", "users"]);
        let get = |e: &str, m: &str, t: Option<&str>| {
            d.rows
                .iter()
                .find(|r| r.entity == e && r.metric == m && r.target.as_deref() == t)
                .map(|r| r.value)
        };
        assert_eq!(get("api", "dep_hop_ms", Some("users")), Some(20.0));
        assert_eq!(get("api", "dep_hop_ms", Some("redis:cache")), None);
        assert_eq!(
            get("api", "dep_latency_ms", Some("redis:cache")),
            Some(30.0)
        );
        assert_eq!(
            get("api", "latency_p99_ms", None),
            None,
            "the metrics have it"
        );
        assert_eq!(get("api", "requests_per_s", None), Some(1.0 / 60.0));
        assert_eq!(get("users", "latency_p99_ms", None), Some(20.0));
        // api's own time: 100 ms minus the calls covering 10..50, 60..90 and 95..98.
        assert_eq!(get("api", "self_time_ms", None), Some(27.0));
        assert!(d.rows.iter().all(|r| r.source.as_deref() == Some(SOURCE)));
    }
}

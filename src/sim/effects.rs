//! Fault mechanisms as time profiles the engine applies: each field is one physical cause
//! (more arrivals, dearer requests, a leaking heap, a slow server, a lossy link, ...).
//!
//! Scenarios only say *what* broke and *when*; the engine derives every symptom from these
//! causes, so propagation (callers, co-located pods, shared storage) is never hand-written.

/// Onset profile: 0 before `start`, a smooth rise over `rise` ms to 1, held until `end`
/// (if any), then a linear fall over `fall` ms.
#[derive(Debug, Clone, Copy)]
pub struct Ramp {
    /// When the cause begins, epoch ms.
    pub start: i64,
    /// Rise time, ms.
    pub rise: i64,
    /// When it stops, epoch ms (None: lasts past the data).
    pub end: Option<i64>,
    /// Fall time after `end`, ms.
    pub fall: i64,
}

impl Ramp {
    /// Starts at `start`, rises over `rise`, never ends.
    #[must_use]
    pub fn from(start: i64, rise: i64) -> Ramp {
        Ramp {
            start,
            rise: rise.max(1),
            end: None,
            fall: 1,
        }
    }

    /// A pulse: rises at `start`, holds until `end`, falls over `fall`.
    #[must_use]
    pub fn pulse(start: i64, rise: i64, end: i64, fall: i64) -> Ramp {
        Ramp {
            start,
            rise: rise.max(1),
            end: Some(end),
            fall: fall.max(1),
        }
    }

    /// Intensity in [0, 1] at `t`.
    #[must_use]
    pub fn level(&self, t: i64) -> f64 {
        if t < self.start {
            return 0.0;
        }
        let x = ((t - self.start) as f64 / self.rise as f64).min(1.0);
        // Smoothstep: real load and degradation curves have no corners.
        let up = x * x * (3.0 - 2.0 * x);
        match self.end {
            Some(e) if t > e => up * (1.0 - (t - e) as f64 / self.fall as f64).max(0.0),
            _ => up,
        }
    }
}

/// A magnitude applied along a ramp: a multiplier (`mult`) or an addend (`add`).
#[derive(Debug, Clone, Copy)]
pub struct Fx {
    /// Shape in time.
    pub ramp: Ramp,
    /// Full-strength value.
    pub mag: f64,
}

impl Fx {
    /// A new effect.
    #[must_use]
    pub fn new(ramp: Ramp, mag: f64) -> Fx {
        Fx { ramp, mag }
    }
    /// As a multiplier: 1 before the onset, `mag` at full strength.
    #[must_use]
    pub fn mult(&self, t: i64) -> f64 {
        1.0 + (self.mag - 1.0) * self.ramp.level(t)
    }
    /// As an addend: 0 before the onset, `mag` at full strength.
    #[must_use]
    pub fn add(&self, t: i64) -> f64 {
        self.mag * self.ramp.level(t)
    }
}

/// A memory leak in a service's app containers.
#[derive(Debug, Clone, Copy)]
pub struct Leak {
    /// When the leaking code path starts being exercised.
    pub start: i64,
    /// Growth, bytes per second per pod (each pod gets ±30 % of it).
    pub bytes_per_s: f64,
}

/// A bad release: extra failing requests and a little extra latency.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    /// Added error ratio (0..1).
    pub err: Fx,
    /// Latency multiplier on own processing.
    pub lat: Fx,
}

/// A degraded MySQL/Redis server.
#[derive(Debug, Clone, Copy)]
pub struct StoreFault {
    /// Server latency multiplier.
    pub lat: Fx,
    /// Slow-query multiplier.
    pub slow: Fx,
    /// Added CPU utilisation.
    pub cpu: Fx,
}

/// A gateway in trouble.
#[derive(Debug, Clone, Copy)]
pub struct IngressFault {
    /// Multiplier on the gateway's own latency.
    pub lat: Fx,
    /// Fraction of requests it fails itself (502/503) and never forwards.
    pub drop: Fx,
}

/// One sick pod.
#[derive(Debug, Clone, Copy)]
pub struct PodFault {
    /// Multiplier on its processing time.
    pub lat: Fx,
    /// Added error ratio.
    pub err: Fx,
    /// Crash-loops: restarts every this many ms once the fault is on.
    pub crash_every: Option<i64>,
}

/// A sick node (noisy neighbour, kernel or NIC trouble).
#[derive(Debug, Clone, Copy)]
pub struct NodeFault {
    /// Added CPU utilisation (steal, softirq).
    pub cpu: Fx,
    /// Added network errors/s.
    pub net_err: Fx,
    /// Multiplier on processing time of pods on it.
    pub lat: Fx,
    /// Multiplier on round trips from pods on it.
    pub rtt: Fx,
    /// Added error ratio on calls from pods on it.
    pub err: Fx,
}

/// Cluster-wide network degradation.
#[derive(Debug, Clone, Copy)]
pub struct NetFault {
    /// Multiplier on every round trip.
    pub rtt: Fx,
    /// Added error ratio on every call.
    pub err: Fx,
    /// Added network errors/s on every node.
    pub node_err: Fx,
}

/// A third party in trouble.
#[derive(Debug, Clone, Copy)]
pub struct VendorFault {
    /// Latency multiplier.
    pub lat: Fx,
    /// Added error ratio.
    pub err: Fx,
}

/// A second collector reporting one series differently (a data-quality confounder).
#[derive(Debug, Clone)]
pub enum Misreport {
    /// `mesh-dashboard` reports this service's sidecar CPU, never above its baseline level.
    SidecarCapped(usize),
    /// `source` reports a node's CPU utilisation scaled by `factor` (another denominator).
    NodeCpuScaled {
        node: usize,
        source: &'static str,
        factor: f64,
    },
}

/// Every cause active in one scenario.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// External arrivals multiplier, by service name or ingress id.
    pub ext_load: Vec<(String, Fx)>,
    /// App CPU-per-request multiplier, by service index.
    pub cpu_cost: Vec<(usize, Fx)>,
    /// Sidecar CPU-per-pass multiplier, by service index.
    pub sc_cost: Vec<(usize, Fx)>,
    /// Memory leaks, by service index.
    pub leak: Vec<(usize, Leak)>,
    /// Bad releases, by service index.
    pub code: Vec<(usize, Code)>,
    /// Degraded storage servers, by store index.
    pub store: Vec<(usize, StoreFault)>,
    /// Failovers, by store index, at epoch ms.
    pub failover: Vec<(usize, i64)>,
    /// Gateway faults, by ingress index.
    pub ingress: Vec<(usize, IngressFault)>,
    /// Pod faults, by (service, pod) index.
    pub pod: Vec<((usize, usize), PodFault)>,
    /// Node faults, by node index.
    pub node: Vec<(usize, NodeFault)>,
    /// Cluster network.
    pub network: Option<NetFault>,
    /// Third-party faults, by vendor index.
    pub vendor: Vec<(usize, VendorFault)>,
    /// Short harmless latency blips (confounders), by service index.
    pub blip: Vec<(usize, Fx)>,
    /// Second sources that disagree.
    pub misreport: Vec<Misreport>,
}

/// Product of the multipliers in `list` that apply to `key`.
pub fn mult_of<K: PartialEq>(list: &[(K, Fx)], key: &K, t: i64) -> f64 {
    list.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, f)| f.mult(t))
        .product()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_rise_hold_and_fall() {
        let r = Ramp::pulse(1000, 1000, 5000, 1000);
        assert_eq!(r.level(0), 0.0);
        assert!((r.level(1500) - 0.5).abs() < 1e-9);
        assert_eq!(r.level(3000), 1.0);
        assert!((r.level(5500) - 0.5).abs() < 1e-9);
        assert_eq!(r.level(7000), 0.0);
        let f = Fx::new(Ramp::from(0, 1), 3.0);
        assert_eq!(f.mult(10), 3.0);
        assert_eq!(f.add(10), 3.0);
    }
}

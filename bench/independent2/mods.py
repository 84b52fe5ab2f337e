"""What a fault (or a confounder) does to the cluster at one tick: multipliers and additions
the simulator applies on top of the healthy physics. A fresh Mods is built every tick."""

from dataclasses import dataclass, field


@dataclass
class Mods:
    ext_mult: dict = field(default_factory=dict)  # service -> external traffic multiplier
    ingress_ext: dict = field(default_factory=dict)  # ingress -> traffic multiplier behind it
    cpu_cost: dict = field(default_factory=dict)  # service -> CPU per request multiplier
    cpu_add: dict = field(default_factory=dict)  # service -> extra cores per pod
    sc_cost: dict = field(default_factory=dict)  # service -> sidecar CPU per request mult
    lat_mult: dict = field(default_factory=dict)  # service -> own service time multiplier
    err_add: dict = field(default_factory=dict)  # service -> extra error fraction
    calls: dict = field(default_factory=dict)  # (service, target) -> calls multiplier
    store_lat: dict = field(default_factory=dict)  # storage -> server latency multiplier
    store_util: dict = field(default_factory=dict)  # storage -> added utilisation
    store_conn: dict = field(default_factory=dict)  # storage -> fraction of connections kept
    store_err: dict = field(default_factory=dict)  # storage -> failed call fraction
    vendor_lat: dict = field(default_factory=dict)  # http -> latency multiplier
    vendor_err: dict = field(default_factory=dict)  # http -> failed call fraction
    net_lat: float = 0.0  # ms added to every cross-pod call (retransmits)
    net_err: float = 0.0  # failed fraction of every cross-pod call
    node_net: dict = field(default_factory=dict)  # node -> failed fraction of its pods' calls
    node_bg: dict = field(default_factory=dict)  # node -> cores burnt outside the pods
    pod_lat: dict = field(default_factory=dict)  # pod -> own service time multiplier
    pod_err: dict = field(default_factory=dict)  # pod -> extra error fraction
    ingress_lat: dict = field(default_factory=dict)  # ingress -> added ms
    ingress_err: dict = field(default_factory=dict)  # ingress -> rejected fraction
    leak: dict = field(default_factory=dict)  # service -> bytes/s leaked per pod
    crashloop: set = field(default_factory=set)  # pods that crash and back off
    blip: dict = field(default_factory=dict)  # service -> transient latency multiplier


def ramp(t, t_on, dur):
    """0 before t_on, rising linearly to 1 over dur ticks (a step when dur <= 1)."""
    if t < t_on:
        return 0.0
    if dur <= 1:
        return 1.0
    return min(1.0, (t - t_on + 1) / dur)


def lerp(frac, a, b):
    return a + (b - a) * frac

"""A random cluster: services and their pods on nodes, shared storage, gateways, third parties.

Services are numbered so that calls only go from a lower index to a higher one (a DAG whose
entry services sit behind gateways), which lets the simulator push traffic down the graph and
latency back up it in one pass each.
"""

from dataclasses import dataclass, field

SERVICE_POOL = [
    "frontend", "cart", "checkout", "catalog", "payment", "shipping", "user", "recommend",
    "search", "inventory", "review", "notify", "auth", "pricing", "orders", "profile",
    "media", "ledger", "coupon", "session", "feed", "chat", "billing", "geo",
]
SUFFIXES = ["", "", "-svc", "-api", "-service"]
MYSQL_POOL = ["orders-db", "users-db", "catalog-db", "ledger-db", "main-db"]
REDIS_POOL = ["session-cache", "cart-cache", "rate-limit", "feed-cache", "hot-cache"]
VENDOR_POOL = ["payments-vendor", "geo-lookup", "sms-gateway", "fraud-score", "email-relay",
               "tax-api", "maps-api"]
INGRESS_POOL = ["public-gw", "api-gw", "edge-lb", "mobile-gw", "partner-gw"]


@dataclass
class Pod:
    name: str
    service: str
    node: str
    start: int  # first tick alive
    end: int  # first tick no longer alive (exclusive)
    weight: float  # load-balancer share before normalisation


@dataclass
class Service:
    name: str
    entry: list  # ingress ids routing external traffic here
    deps: list  # (target id, calls per request)
    ext_rps: float  # external requests/s at diurnal mean (0 for internal services)
    cpu_per_req: float  # core-seconds per request
    cpu_idle: float
    cpu_limit: float
    mem_base: float
    mem_limit: float
    own_ms: float  # service time at nominal load
    err_rate: float
    tail: float  # p99 / avg
    sidecar: bool
    sc_limit: float = 0.0
    sc_per_req: float = 0.0
    goroutine_base: float = 50.0
    pods: list = field(default_factory=list)


@dataclass
class Storage:
    id: str
    base_ms: float
    base_util: float
    slow_q: float


@dataclass
class Cluster:
    services: list
    storages: dict
    vendors: dict  # http id -> base latency ms
    ingresses: list
    nodes: dict  # node name -> cores
    node_style: str
    rtt_ms: float = 0.5

    def service(self, name):
        return next(s for s in self.services if s.name == name)

    def callers(self, target):
        return [s for s in self.services if any(d == target for d, _ in s.deps)]


def _rand_id(rng, n, alphabet="bcdfghjklmnpqrstvwxz2456789"):
    return "".join(rng.choice(alphabet) for _ in range(n))


def pod_name(rng, svc):
    return f"{svc}-{_rand_id(rng, 9)}-{_rand_id(rng, 5)}"


def _node_names(rng, n):
    style = rng.choice(["aws", "gke", "plain", "bare"])
    if style == "aws":
        return style, [f"ip-10-0-{rng.randrange(1, 9)}-{rng.randrange(2, 250)}.ec2.internal"
                       for _ in range(n)]
    if style == "gke":
        pool = _rand_id(rng, 8)
        return style, [f"gke-prod-pool-{rng.randrange(1, 3)}-{pool}-{_rand_id(rng, 4)}"
                       for _ in range(n)]
    if style == "plain":
        return style, [f"node-{chr(97 + i)}" for i in range(n)]
    return style, [f"worker{i + 1:02d}" for i in range(n)]


def _pick_names(rng, pool, k):
    names = rng.sample(pool, k)
    return names


def build(rng, n_ticks, need):
    """A cluster large enough for the fault in `need` (a set of requirement words)."""
    n_svc = rng.randint(4, 9)
    suffix = rng.choice(SUFFIXES)
    names = [n + suffix for n in _pick_names(rng, SERVICE_POOL, n_svc)]
    n_nodes = rng.randint(3, 6)
    node_style, node_names = _node_names(rng, n_nodes)
    while len(set(node_names)) < n_nodes:
        node_style, node_names = _node_names(rng, n_nodes)
    nodes = {n: rng.choice([4.0, 8.0, 8.0, 16.0]) for n in node_names}
    ingresses = ["ingress:" + g for g in rng.sample(INGRESS_POOL, rng.choice([1, 1, 2]))]

    n_mysql = rng.choice([1, 1, 2]) if "mysql" in need or rng.random() < 0.85 else 0
    n_redis = rng.choice([1, 1, 2]) if "redis" in need or rng.random() < 0.8 else 0
    if n_mysql + n_redis == 0:
        n_mysql = 1
    n_vendor = rng.choice([1, 1, 2]) if "vendor" in need or rng.random() < 0.7 else 0
    storages = {}
    for nm in rng.sample(MYSQL_POOL, n_mysql):
        storages["mysql:" + nm] = Storage("mysql:" + nm, rng.uniform(1.5, 6.0),
                                          rng.uniform(0.15, 0.45), rng.uniform(0.0, 0.3))
    for nm in rng.sample(REDIS_POOL, n_redis):
        storages["redis:" + nm] = Storage("redis:" + nm, rng.uniform(0.2, 0.8),
                                          rng.uniform(0.05, 0.3), rng.uniform(0.0, 0.05))
    vendors = {"http:" + v: rng.uniform(40, 250) for v in rng.sample(VENDOR_POOL, n_vendor)}

    n_entry = rng.randint(1, min(3, n_svc - 2))
    services = []
    for i, name in enumerate(names):
        entry = []
        if i < n_entry:
            entry = [rng.choice(ingresses)] if len(ingresses) == 1 or rng.random() < 0.8 \
                else list(ingresses)
        sidecar = rng.random() < (0.9 if "sidecar" in need else 0.5)
        services.append(Service(
            name=name, entry=entry, deps=[],
            ext_rps=rng.uniform(80, 1500) if entry else 0.0,
            cpu_per_req=rng.uniform(0.0008, 0.004), cpu_idle=rng.uniform(0.02, 0.15),
            cpu_limit=0.0, mem_base=rng.uniform(150, 1200) * 2**20, mem_limit=0.0,
            own_ms=rng.uniform(3, 40), err_rate=rng.choice([0.0, 0.0005, 0.002, 0.01]),
            tail=rng.uniform(2.2, 4.5), sidecar=sidecar,
            goroutine_base=rng.uniform(20, 300)))
    _wire(rng, services, n_entry, storages, vendors)
    cluster = Cluster(services, storages, vendors, ingresses, nodes, node_style,
                      rtt_ms=rng.uniform(0.2, 1.5))
    _size(rng, cluster)
    _place(rng, cluster, n_ticks, need)
    return cluster


def _wire(rng, services, n_entry, storages, vendors):
    n = len(services)
    for i in range(n):
        s = services[i]
        for j in range(i + 1, n):
            p = 0.55 if i < n_entry else 0.3
            if rng.random() < p:
                s.deps.append((services[j].name, rng.choice([0.5, 1.0, 1.0, 2.0])))
    # every internal service has a caller, so its traffic is defined
    for j in range(n_entry, n):
        if not any(d == services[j].name for s in services for d, _ in s.deps):
            caller = services[rng.randrange(0, j)]
            caller.deps.append((services[j].name, rng.choice([0.5, 1.0])))
    store_ids = sorted(storages)
    for sid in store_ids:
        k = rng.choice([1, 2, 2, 3, 3, 4])
        for s in rng.sample(services, min(k, n)):
            s.deps.append((sid, rng.choice([1.0, 2.0, 3.0, 5.0] if sid.startswith("redis")
                                          else [0.5, 1.0, 2.0, 3.0])))
    for vid in sorted(vendors):
        k = rng.choice([1, 1, 2])
        for s in rng.sample(services, min(k, n)):
            s.deps.append((vid, rng.choice([0.05, 0.1, 0.3, 1.0])))


def _size(rng, cluster):
    """Limits with headroom: nominal CPU at 15-55 % of the limit, memory at 30-65 %."""
    rps = nominal_rps(cluster)
    for s in cluster.services:
        n_pods = rng.choice([2, 2, 3, 3, 4, 5])
        per_pod = rps[s.name] / n_pods
        demand = s.cpu_idle + s.cpu_per_req * per_pod
        s.cpu_limit = round(max(0.25, demand / rng.uniform(0.15, 0.55)) * 4) / 4
        s.mem_limit = float(2 ** 20 * 256 * max(1, round(s.mem_base / rng.uniform(0.3, 0.65)
                                                        / (2 ** 20 * 256))))
        if s.sidecar:
            s.sc_per_req = rng.uniform(0.0002, 0.0008)
            sc_demand = 0.02 + s.sc_per_req * per_pod
            s.sc_limit = max(0.1, round(sc_demand / rng.uniform(0.3, 0.6) * 10) / 10)
        s.pods = [None] * n_pods


def nominal_rps(cluster):
    rps = {s.name: s.ext_rps for s in cluster.services}
    for s in cluster.services:
        for d, calls in s.deps:
            if d in rps:
                rps[d] += rps[s.name] * calls
    return rps


def _place(rng, cluster, n_ticks, need):
    node_names = sorted(cluster.nodes)
    for s in cluster.services:
        n_pods = len(s.pods)
        spread = rng.sample(node_names, min(n_pods, len(node_names)))
        s.pods = []
        for k in range(n_pods):
            node = spread[k] if k < len(spread) else rng.choice(node_names)
            s.pods.append(Pod(pod_name(rng, s.name), s.name, node, 0, n_ticks,
                              rng.uniform(0.9, 1.1)))
    _size_nodes(rng, cluster)


def _size_nodes(rng, cluster):
    """Node cores such that nominal use is 15-50 % of the node."""
    rps, used = nominal_rps(cluster), {n: 0.3 for n in cluster.nodes}
    for s in cluster.services:
        per_pod = rps[s.name] / len(s.pods)
        for p in s.pods:
            used[p.node] += s.cpu_idle + s.cpu_per_req * per_pod
            if s.sidecar:
                used[p.node] += 0.02 + s.sc_per_req * per_pod
    for n in cluster.nodes:
        want = used[n] / rng.uniform(0.15, 0.5)
        cluster.nodes[n] = next((c for c in (4.0, 8.0, 16.0, 32.0, 48.0, 64.0, 96.0)
                                 if c >= want), 128.0)

"""Things that happen in a healthy cluster and look like evidence: a deploy elsewhere, a pod
rescheduled onto another node, an autoscaler adding a pod, one pod restarting once, a brief
burst of traffic at an unrelated service. None of them degrades anything."""

from cluster import Pod, pod_name


def _bystanders(c, fault):
    """Services the fault does not touch through its culprit's name (a coarse filter)."""
    return [s for s in c.services if s.name != fault.culprit
            and not any(p.name == fault.culprit for p in s.pods)]


def add(rng, c, fault, n, win_start, fired):
    """Mutates pods, returns (apply functions, events, names of what was added)."""
    applies, events, notes = [], [], []
    others = _bystanders(c, fault)
    nodes = sorted(c.nodes)
    if others and rng.random() < 0.5:
        s = rng.choice(others)
        t = rng.randint(win_start, min(n - 10, fired + 30))
        old = f"v{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"
        events.append((t, s.name, "deploy", f"image {s.name}:{old} -> {s.name}:{old}-1"))
        for i, p in enumerate(list(s.pods)):
            q = Pod(pod_name(rng, s.name), s.name, rng.choice(nodes), t + 2 * i, n, p.weight)
            p.end = t + 2 * i + 1
            s.pods.append(q)
        notes.append(f"healthy deploy of {s.name}")
    if others and rng.random() < 0.4:
        s = rng.choice(others)
        p = rng.choice([p for p in s.pods if p.end == n] or s.pods)
        t = rng.randint(10, n - 10)
        p.end = t
        q = Pod(pod_name(rng, s.name), s.name, rng.choice([x for x in nodes if x != p.node]
                                                           or nodes), t + 2, n, p.weight)
        s.pods.append(q)
        notes.append(f"pod of {s.name} rescheduled")
    if others and rng.random() < 0.25:
        s = rng.choice(others)
        t = rng.randint(win_start - 200, n - 20)
        t = max(10, t)
        s.pods.append(Pod(pod_name(rng, s.name), s.name, rng.choice(nodes), t, n, 1.0))
        events.append((t, s.name, "scale", f"replicas {len(s.pods) - 1} -> {len(s.pods)}"))
        notes.append(f"{s.name} scaled out")
    if others and rng.random() < 0.25:
        s = rng.choice(others)
        p = rng.choice(s.pods)
        t0 = rng.randint(5, win_start)

        def restart(t, m, p=p, t0=t0):
            if t0 <= t < t0 + 6:
                m.crashloop.add(p.name)
        applies.append(restart)
        events.append((t0 + 5, s.name, "restart", f"pod {p.name} restarted (exit code 137)"))
        notes.append(f"{p.name} restarted once in the baseline")
    entry = [s for s in others if s.entry]
    if entry and rng.random() < 0.3:
        s = rng.choice(entry)
        t0, k = rng.randint(win_start, n - 12), rng.uniform(1.2, 1.5)

        def burst(t, m, s=s, t0=t0, k=k):
            if t0 <= t < t0 + 8:
                m.ext_mult[s.name] = m.ext_mult.get(s.name, 1.0) * k
        applies.append(burst)
        notes.append(f"harmless traffic burst at {s.name}")
    return applies, events, notes

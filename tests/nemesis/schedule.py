"""
schedule.py - the nemesis's seeded plan: which fault or operator command
runs when, drawn from random.Random(seed) alone (never from what the cluster
did), so `--seed N` with the same topology, mix and op count replays the
same plan. Faults have a planned length; a fault is healed when the plan's
clock passes its end, at most MAX_ACTIVE are active at once, and every one
still active is healed at the end.

    plan(seed, regions, witness, mix, ops) -> [Step(at_s, action, kind, args)]

action is "inject" or "heal" (heal steps carry the inject step's number in
args["n"]). Kinds, and what they do (nemesis.py):

  cut            a link down in both directions (connects fail at once)
  drop           one direction of a link: packets vanish (connections hang)
  delay          both directions of a link delayed by args["ms"]
  kill_broker    SIGKILL a region's broker; heal: start it again
  kill_sidecar   SIGKILL a region's sidecar; heal: start it again
  pause_sidecar  SIGSTOP a region's sidecar; heal: SIGCONT
  kill_witness   SIGKILL the witness; heal: start it again
  switchover     `strait switchover --to R`
  failover       `strait failover --to R [--force]`
  failback       `strait failback --to R`
"""
import collections
import random

Step = collections.namedtuple("Step", "at_s action kind args n")

FAULTS = ("cut", "drop", "delay", "kill_broker", "kill_sidecar", "pause_sidecar",
          "kill_witness")
COMMANDS = ("switchover", "failover", "failback")

# Named mixes: kind -> weight. "quick" is what `make test` runs: the faults
# today's code survives (FINDINGS.md); "full" is everything.
MIXES = {
    "quick": {"delay": 2, "kill_sidecar": 2, "pause_sidecar": 1, "kill_witness": 1,
              "cut": 1},
    "full": {"cut": 3, "drop": 2, "delay": 2, "kill_broker": 2, "kill_sidecar": 2,
             "pause_sidecar": 2, "kill_witness": 1, "switchover": 2, "failover": 2,
             "failback": 1},
    "partitions": {"cut": 3, "drop": 3, "delay": 2},
    "processes": {"kill_broker": 2, "kill_sidecar": 2, "pause_sidecar": 2, "kill_witness": 1},
    "operator": {"switchover": 3, "failover": 2, "failback": 1},
}

MAX_ACTIVE = 2
WARMUP_S = 4.0


def parse_mix(text):
    """A mix name, or kind=weight,kind=weight."""
    if text in MIXES:
        return dict(MIXES[text])
    mix = {}
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind not in FAULTS + COMMANDS:
            raise ValueError("unknown nemesis kind %r (known: %s)" % (kind,
                                                                       ", ".join(FAULTS + COMMANDS)))
        mix[kind] = float(weight or 1)
    return mix


def sites(regions, witness):
    return list(regions) + (["witness"] if witness else [])


def plan(seed, regions, witness, mix, ops, gap_s=(1.0, 3.0), fault_s=(2.0, 9.0)):
    rng = random.Random(seed)
    mix = {k: w for k, w in mix.items() if w > 0 and (k != "kill_witness" or witness)}
    kinds = sorted(mix)
    weights = [mix[k] for k in kinds]
    links = [(a, b) for i, a in enumerate(sites(regions, witness))
             for b in sites(regions, witness)[i + 1:]]
    steps = []
    active = []   # (end_s, inject step)
    t = WARMUP_S

    def heal_until(limit):
        for end, inject in sorted(active, key=lambda a: a[0]):
            if end <= limit:
                steps.append(Step(end, "heal", inject.kind, dict(inject.args, n=inject.n),
                                  inject.n))
                active.remove((end, inject))

    def target(kind, args):
        """What a fault breaks: a link, or a process (two faults never share one)."""
        if kind in ("cut", "drop", "delay"):
            return ("link",) + tuple(sorted((args["a"], args["b"])))
        if kind == "kill_broker":
            return ("broker", args["region"])
        return ("sidecar", args["region"])   # kill_sidecar, pause_sidecar, kill_witness

    def busy(kind, args):
        return any(target(kind, args) == target(inject.kind, inject.args)
                   for _, inject in active)

    for n in range(1, ops + 1):
        t += rng.uniform(*gap_s)
        heal_until(t)
        kind = rng.choices(kinds, weights)[0]
        if kind in ("cut", "drop", "delay"):
            a, b = rng.choice(links)
            if rng.random() < 0.5:
                a, b = b, a
            args = {"a": a, "b": b}
            if kind == "delay":
                args["ms"] = rng.choice((50, 200, 500, 1500, 3000))
        elif kind == "kill_witness":
            args = {"region": "witness"}
        elif kind in COMMANDS:
            args = {"to": rng.choice(regions)}
            if kind == "failover":
                args["force"] = rng.random() < 0.5
        else:
            args = {"region": rng.choice(regions)}
        length = rng.uniform(*fault_s)
        if kind in FAULTS:
            if busy(kind, args):
                continue   # the same target is already broken: skip this draw
            if len(active) >= MAX_ACTIVE:   # heal the one due first, now
                end, inject = min(active, key=lambda a: a[0])
                active.remove((end, inject))
                active.append((t, inject))
                heal_until(t)
        step = Step(t, "inject", kind, args, n)
        steps.append(step)
        if kind in FAULTS:
            active.append((t + length, step))
    heal_until(float("inf"))
    steps.sort(key=lambda s: s.at_s)
    return steps


def describe(steps):
    return "\n".join("%7.2f s  %-6s %-13s #%d %s" % (s.at_s, s.action, s.kind, s.n,
                                                     " ".join("%s=%s" % kv for kv in
                                                              sorted(s.args.items())
                                                              if kv[0] != "n"))
                     for s in steps)

"""
test_mirror_three_regions.py - issue 12 N4: three regions (east, west,
north) with identity-named flows between every pair and sidecars under a
manual failover section. Records are written in east, east is switched over
to west at once (east->north may still lag: a switchover drains only the
flow into its target, and west->north carries the rest), records are
written in west, west is switched over to north, records are written in
north, north is switched back to east (east's flows resume into regions
that may hold east's records relayed by another region), and records are
written in east again. At the end every record is in every region's
topic exactly once (counted by value): the old active's records reach the
switchover's target from the old active only (a standby third region's flow
into the target stays paused), and a region's copies of a third region's
records are not copied again into a region that holds them from their
origin (that origin's flow's offset map says how far it got).
"""
# strait-test: asan
import collections
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, note, run_test  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402
from sidecar import Sidecar  # noqa: E402

REGIONS = ("east", "west", "north")
NODE_IDS = {"east": "1", "west": "101", "north": "201"}
PER_REGION = 6000


def write_topology(path, brokers, ports, state_dir):
    lines = ["regions:"]
    for name in REGIONS:
        lines.append("  %s: {bootstrap: %s, sidecar: 127.0.0.1:%d}"
                     % (name, brokers[name].bootstrap, ports[name]))
    lines.append("flows:")
    for source in REGIONS:
        for target in REGIONS:
            if source != target:
                lines.append("  - {source: %s, target: %s, topics: [%s], naming: identity, "
                             "refresh_interval: 1s}" % (source, target, failover.TOPIC))
    lines += ["failover:", "  mode: manual", "  active: east",
              "checkpoints: {interval: 500ms}", "sidecar: {state_dir: %s}" % state_dir]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class ThreeRegions(failover.Deployment):
    """failover.Deployment's helpers (cli, wait_roles, dump_logs) over three regions."""

    def __init__(self, t):
        self.t = t
        self.brokers = {name: t.broker(name=name, overrides={"node.id": NODE_IDS[name],
                                                            "cluster.id": failover.CLUSTER_ID})
                        for name in REGIONS}
        for b in self.brokers.values():
            mirror.create_topic(b.bootstrap, failover.TOPIC, failover.PARTITIONS)
        ports = {name: free_port() for name in REGIONS}
        self.topology = write_topology(t.path("topology.yaml"), self.brokers, ports,
                                       t.path("state"))
        self.sidecars = {name: Sidecar(t, self.topology, name, ports[name]) for name in REGIONS}


def records(region, round_number):
    return [(None, ("%s%d-%d" % (region, round_number, i)).encode(), None, 1700000000000 + i)
            for i in range(PER_REGION)]


def switchover(d, to):
    rc, out, err = d.cli("switchover", "--to", to, "--timeout", "60s")
    check_eq(rc, 0, "switchover --to %s exit status (%s)" % (to, err.strip()))
    d.wait_roles({name: "active" if name == to else "standby" for name in REGIONS})


def counts(bootstrap):
    return collections.Counter(failover.local_values(bootstrap))


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby", "north": "standby"})
    written = []
    rounds = (("east", "west"), ("west", "north"), ("north", "east"), ("east", None))
    for number, (region, next_region) in enumerate(rounds):
        recs = records(region, number)
        mirror.produce(d.brokers[region].bootstrap, failover.TOPIC, recs, failover.PARTITIONS)
        written += [r[1] for r in recs]
        if next_region is not None:
            switchover(d, next_region)  # at once: the flow into the third region may lag
    total = len(written)
    for name in REGIONS:
        mirror.wait_for("%s holds %d records" % (name, total),
                        lambda name=name: sum(failover.local_high_watermarks(
                            d.brokers[name].bootstrap).values()) >= total, 120)
    time.sleep(4)  # a second copy still on its way would land now
    expected = collections.Counter(written)
    for name in REGIONS:
        held = counts(d.brokers[name].bootstrap)
        twice = sum(1 for v, n in held.items() if n > 1)
        missing = sum(1 for v in expected if v not in held)
        by_origin = collections.Counter(v.split(b"-")[0].decode() for v in held.elements())
        note("%s holds %d records (%s): %d values more than once, %d missing"
             % (name, sum(held.values()), dict(by_origin), twice, missing))
        check_eq(twice, 0, "records held more than once in %s" % name)
        check_eq(missing, 0, "records missing in %s" % name)
        check_eq(sum(held.values()), total, "records in %s" % name)
    note("three regions hold the %d records once each" % total)
    return total


def relay_figures(d):
    """The flows' stop lines: how many relayed records each skipped as held."""
    lines = []
    for sc in d.sidecars.values():
        with open(sc.log_path, errors="replace") as f:
            lines += [l.split("INFO mirror: ")[-1].strip() for l in f
                      if "stopped records_copied=" in l and "skipped_held=" in l]
    return lines


def main(t):
    d = ThreeRegions(t)
    try:
        run(t, d)
    except BaseException:
        d.dump_logs()
        raise
    for sc in d.sidecars.values():
        sc.stop()
    for line in relay_figures(d):
        note(line)


run_test(main)

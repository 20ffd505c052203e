"""
test_failover_diverged_three_regions.py - issue 12, nemesis finding N7: with
three regions, the diverged copy after an unplanned failover runs only into
the region that was promoted, never into a standby that was not.

Three single-node regions on loopback (east, west, north), identity flows
between every pair, manual mode, east active under load (the producer lists
every region). West's and north's sidecars are paused (SIGSTOP), so neither
mirrors what east acknowledges meanwhile; east's broker and sidecar are then
killed with SIGKILL, the two sidecars resumed, and `strait failover --to
west` promotes west. East is restarted: it adopts the new state as a
standby.

Checked: west's sidecar copies every acknowledged record its orders lacks
into west's orders.diverged; north, a standby that was not promoted, runs
no diverged copy (none in its /failover/flows or /status, no
orders.diverged records) although its state says step unplanned, previous
east just the same; and, the nemesis checker's rule, every acknowledged
record is in the active region's orders or in some region's
orders.diverged exactly once. Before the fix north copied the same records
into its own orders.diverged: each of them stored twice.

Not run under ASan: there, west's sidecar, resumed with its source region
just killed, can take more than the CLI's 10 s to answer `strait failover`
(main's ASan build fails the same way: work on the sidecar's loop waiting
on a region that is down, issue 12 item 4), which is not what this test is
about.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from confluent_kafka.admin import AdminClient  # noqa: E402

from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402
from sidecar import Sidecar  # noqa: E402

REGIONS = ("east", "west", "north")
NODE_IDS = {"east": "1", "west": "101", "north": "201"}


def seqs(values):
    return [int(v.split(b"-")[1]) for v in values]


def write_topology(path, brokers, ports, state_dir):
    lines = ["regions:"]
    lines += ["  %s: {bootstrap: %s, sidecar: 127.0.0.1:%d}" % (r, brokers[r].bootstrap, ports[r])
              for r in REGIONS]
    lines.append("flows:")
    lines += ["  - {source: %s, target: %s, topics: [%s], refresh_interval: 1s}"
              % (a, b, failover.TOPIC) for a in REGIONS for b in REGIONS if a != b]
    lines += ["failover:", "  mode: manual", "  active: east",
              "checkpoints: {interval: 500ms}", "sidecar: {state_dir: %s}" % state_dir]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def state(sc):
    code, body = sc.get("/failover/state")
    check_eq(code, 200, "/failover/state of %s" % sc.region)
    return dict(l.split("=", 1) for l in body.splitlines() if "=" in l)


def diverged_values(bootstrap):
    """orders.diverged of a region ([] when the topic does not exist)."""
    topics = AdminClient({"bootstrap.servers": bootstrap,
                          "client.id": "strait-sidecar-test"}).list_topics(timeout=10).topics
    if failover.TOPIC + ".diverged" not in topics:
        return []
    return seqs(failover.local_values(bootstrap, failover.TOPIC + ".diverged", timeout_s=20))


def main(t):
    brokers = {r: t.broker(name=r, overrides={"node.id": NODE_IDS[r],
                                              "cluster.id": failover.CLUSTER_ID})
               for r in REGIONS}
    for b in brokers.values():
        mirror.create_topic(b.bootstrap, failover.TOPIC, failover.PARTITIONS)
    ports = {r: free_port() for r in REGIONS}
    topology = write_topology(t.path("topology.yaml"), brokers, ports, t.path("state"))
    sidecars = {r: Sidecar(t, topology, r, ports[r]) for r in REGIONS}
    try:
        for sc in sidecars.values():
            sc.start()
        run(t, topology, brokers, sidecars)
    except BaseException:
        for sc in sidecars.values():
            if sc.proc is not None:
                sc.dump_log(60)
        raise
    finally:
        for sc in sidecars.values():
            if sc.proc is not None and sc.proc.poll() is None:
                sc.proc.send_signal(signal.SIGCONT)
                sc.proc.kill()
                sc.proc.wait()


def cli(topology, *args):
    import subprocess
    r = subprocess.run([strait_bin()] + list(args) + ["--topology", topology],
                       capture_output=True, text=True, timeout=120)
    note("strait %s -> exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.returncode, r.stdout, r.stderr


def run(t, topology, brokers, sidecars):
    def roles(expected):
        def ok():
            for region, role in expected.items():
                st = state(sidecars[region])
                if st.get("role") != role or st.get("pushed_epoch") != st.get("epoch") or \
                        st.get("effective_role", role) != role:
                    return False
            return True
        return ok
    mirror.wait_for("east active, west and north standby",
                    roles({"east": "active", "west": "standby", "north": "standby"}), 30, 0.2)
    everyone = ",".join(brokers[r].bootstrap for r in ("west", "north", "east"))
    producer = failover.LoadProducer(everyone, rate=200)
    producer.start()
    for r in ("west", "north"):
        mirror.wait_for("records mirrored into %s" % r, lambda r=r: sum(
            failover.local_high_watermarks(brokers[r].bootstrap).values()) > 200, 60)

    for r in ("west", "north"):
        sidecars[r].proc.send_signal(signal.SIGSTOP)
    time.sleep(2)  # east acknowledges ~400 records that neither west nor north mirrors
    sidecars["east"].proc.kill()
    sidecars["east"].proc.wait()
    sidecars["east"].proc = None
    brokers["east"].kill9()
    for r in ("west", "north"):
        sidecars[r].proc.send_signal(signal.SIGCONT)
    note("east killed while the mirrors into west and north were paused")

    rc, out, err = cli(topology, "failover", "--to", "west")
    check_eq(rc, 0, "failover --to west (%s)" % err.strip())
    mirror.wait_for("west active, north standby",
                    roles({"west": "active", "north": "standby"}), 30, 0.2)
    mirror.wait_for("acks from west", lambda: producer.first_ack_after(time.monotonic() - 0.5)
                    is not None, 60)
    time.sleep(1)
    producer.finish()
    acked = set(producer.acked)
    lost = acked - set(seqs(failover.local_values(brokers["west"].bootstrap)))
    note("acked %d, not in west's orders after the failover %d" % (len(acked), len(lost)))
    check(len(lost) > 0, "east acknowledged records west never mirrored")

    brokers["east"].start()
    sidecars["east"].start()
    mirror.wait_for("east a standby", roles({"east": "standby", "west": "active",
                                             "north": "standby"}), 30, 0.2)
    north_state = state(sidecars["north"])
    check_eq((north_state["step"], north_state["previous"]), ("unplanned", "east"),
             "north holds the same state (the rule must tell it apart from west)")

    def west_complete():
        try:
            return lost <= set(diverged_values(brokers["west"].bootstrap))
        except Exception:  # noqa: BLE001 - the topic may be in creation
            return False
    mirror.wait_for("east's unmirrored records in west's orders.diverged", west_complete, 60)
    # north's copy (before the fix) starts with west's: give it the same time
    time.sleep(3)
    code, flows = sidecars["north"].get("/failover/flows")
    check_eq(code, 200, "north's /failover/flows")
    check(".diverged" not in flows, "north runs no diverged copy: %r" % flows)
    check_eq(sidecars["north"].status()["diverged_copies"], [],
             "north's /status: no diverged copy")
    north_diverged = diverged_values(brokers["north"].bootstrap)
    check_eq(len(north_diverged), 0, "records in north's orders.diverged")

    counts = {}
    final = seqs(failover.local_values(brokers["west"].bootstrap))
    for r in REGIONS:
        for v in diverged_values(brokers[r].bootstrap):
            counts[v] = counts.get(v, 0) + 1
    for v in final:
        counts[v] = counts.get(v, 0) + 1
    twice = sorted(v for v in acked if counts.get(v, 0) > 1)
    missing = sorted(v for v in acked if counts.get(v, 0) == 0)
    check_eq(twice[:10], [], "acknowledged records stored more than once (%d)" % len(twice))
    check_eq(missing[:10], [], "acknowledged records lost (%d)" % len(missing))
    check("expected loss: at least " in out,
          "east did not answer: the failover's expected loss is a lower bound: %r" % out)
    note("DRILL three regions, diverged copy: %d acked records east never mirrored, all in "
         "west's orders.diverged; north's orders.diverged empty" % len(lost))
    for sc in sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(main)

"""
test_group_sync_target_down.py - issue 12 finding N5: the sidecar must survive
a target broker that stays down longer than a group-sync request and then
comes back.

The group sync asks the target's group coordinator (DescribeConsumerGroups,
ListConsumerGroupOffsets, AlterConsumerGroupOffsets). In librdkafka 2.0.2,
such a request whose own timeout fires while it is still waiting for the
coordinator leaves a coordinator lookup behind that, once the coordinator
answers again, releases the request's reply slot a second time: the process
aborts in rd_kafka_enq_once_del_source_return (`eonce->refcnt > 0`). The
lifetime rule in checkpoints/group_sync.c keeps that timeout from ever
firing on a live client.

Two single-node regions, the west sidecar mirroring east->west with group
checkpoints. A group commits on east while west's broker is killed: the
group sync's describe of the group on west gets no answer (status shows
it), and the broker is restarted on the same port and data dir. Rounds keep
running for a while after that (each a chance for the stale lookup to hit);
the translated commit must then reach west, and the sidecar must still be
running and stop cleanly (exit 0, no sanitizer report, no assertion).
"""
# strait-test: asan
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

from broker import check, free_port, note, run_test  # noqa: E402
import mirror  # noqa: E402
from mirror_faults import flow_status, now_ms, wait_records, wait_status  # noqa: E402
from sidecar import PARTITIONS, Sidecar, commit_group, write_topology  # noqa: E402

RECORDS = 300
GROUP = "billing"
# The group sync's own wait for one coordinator request (GROUP_SYNC_REQUEST_TIMEOUT_MS)
# is 10 s: the broker stays down past it so at least one request is given up.
REQUEST_TIMEOUT_S = 10
ROUNDS_AFTER_RETURN_S = 8


def committed(bootstrap, group):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tps = c.committed([TopicPartition("orders", p) for p in range(PARTITIONS)], timeout=10)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


def committed_is(bootstrap, group, want):
    """committed(...) == want; False while the broker does not answer yet."""
    try:
        return committed(bootstrap, group) == want
    except Exception:  # a broker coming back
        return False


def alive(sc, what):
    rc = sc.proc.poll()
    check(rc is None, "sidecar west exited with status %s %s (N5 when -6):\n%s"
          % (rc, what, sc.log_tail(30)))


def main(t):
    east = t.broker(name="east", overrides={"node.id": "1"})
    west = t.broker(name="west", overrides={"node.id": "101"})
    for b in (east, west):
        mirror.create_topic(b.bootstrap, "orders", PARTITIONS)
    ports = (free_port(), free_port())
    topology = write_topology(t.path("topology.yaml"), east, west, ports, t.path("state"))
    sc = Sidecar(t, topology, "west", ports[1])
    try:
        sc.start()
        run(east, west, sc)
        sc.stop()
    except BaseException:
        if sc.proc is not None:
            sc.dump_log(80)
        raise


def run(east, west, sc):
    records = [(b"k%d" % i, b"v", [], 1700000000000 + i) for i in range(RECORDS)]
    mirror.produce(east.bootstrap, "orders", records, PARTITIONS)
    wait_records(west, "orders", RECORDS, 60)
    # a first commit, applied while west is up: the group sync has talked to
    # west's coordinator before it goes away
    commit_group(east.bootstrap, GROUP, {p: 10 for p in range(PARTITIONS)})
    mirror.wait_for("first commit applied on west",
                    lambda: committed_is(west.bootstrap, GROUP, {p: 10 for p in range(PARTITIONS)}),
                    60)

    west.kill9()
    killed_ms = now_ms()
    # a new commit on east: the next round describes the group on west
    commit_group(east.bootstrap, GROUP, {p: 20 for p in range(PARTITIONS)})
    f = wait_status(sc, "group sync reports that west does not answer the describe",
                    lambda f: f["group_sync"]["last_error_ms"] >= killed_ms and
                    "describing group '%s' on the target" % GROUP in f["group_sync"]["last_error"],
                    REQUEST_TIMEOUT_S + 30)
    note("west down %.1f s: group_sync last_error=%r" % ((now_ms() - killed_ms) / 1000.0,
                                                        f["group_sync"]["last_error"]))
    alive(sc, "while west was down")

    west.start()
    returned = time.monotonic()
    # the translated commit reaches west (the mirror of east offset 20 is 20:
    # west holds only east's records), and rounds go on for a while
    mirror.wait_for("second commit applied on west",
                    lambda: (alive(sc, "after west returned") or
                             committed_is(west.bootstrap, GROUP, {p: 20 for p in range(PARTITIONS)})),
                    60)
    while time.monotonic() < returned + ROUNDS_AFTER_RETURN_S:
        alive(sc, "after west returned")
        time.sleep(0.5)
    rounds = flow_status(sc)["group_sync"]["rounds"]
    note("sidecar alive %.1f s after west returned, %d group-sync rounds"
         % (time.monotonic() - returned, rounds))
    with open(sc.log_path, errors="replace") as log:
        text = log.read()
    check("Assertion" not in text, "assertion in the sidecar log:\n%s" % sc.log_tail(30))


run_test(main)

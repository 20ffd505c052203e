"""
test_mirror_group_echo.py - the group-sync echo rule (checkpoints/group_sync.h)
with identity naming both ways (east<->west) and both sidecars running:

  east holds its own records first, then west's (mirrored); west holds east's
  (mirrored) first, then its own. A group commits offset 10 on east. The west
  sidecar translates it and commits west offset 10 (the mirror of east 10)
  into west, marked "strait.src=east;". Without the rule the east sidecar
  would read that commit on west and translate it back through the west->east
  map: the first west-originated record at or after west offset 10 lies past
  all of east's own records, so east's real commit would be moved forward
  over records the group never read. With the rule, east's commits never
  change except by the group itself, and west gets the translation.
"""
import json
import re
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

from broker import check, check_eq, free_port, note, run_test  # noqa: E402
import mirror  # noqa: E402
from mirror_faults import wait_records  # noqa: E402
from sidecar import PARTITIONS, Sidecar, commit_group, write_topology  # noqa: E402

PER_SIDE = 300
COMMITTED = 10


def committed(bootstrap, group):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tps = c.committed([TopicPartition("orders", p) for p in range(PARTITIONS)], timeout=10)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


def records(region, n):
    return [(("%s-%d" % (region, i)).encode(), b"v", [], 1700000000000 + i) for i in range(n)]


def main(t):
    east = t.broker(name="east", overrides={"node.id": "1"})
    west = t.broker(name="west", overrides={"node.id": "101"})
    for b in (east, west):
        mirror.create_topic(b.bootstrap, "orders", PARTITIONS)
    ports = (free_port(), free_port())
    topology = write_topology(t.path("topology.yaml"), east, west, ports, t.path("state"))
    sidecars = [Sidecar(t, topology, "east", ports[0]), Sidecar(t, topology, "west", ports[1])]
    try:
        run(east, west, sidecars)
    except BaseException:
        for sc in sidecars:
            if sc.proc is not None:
                sc.dump_log(60)
        raise


def run(east, west, sidecars):
    for sc in sidecars:
        sc.start()
    sc_east, sc_west = sidecars
    mirror.produce(east.bootstrap, "orders", records("east", PER_SIDE), PARTITIONS)
    wait_records(west, "orders", PER_SIDE, 60)
    mirror.produce(west.bootstrap, "orders", records("west", PER_SIDE), PARTITIONS)
    wait_records(east, "orders", 2 * PER_SIDE, 60)
    wait_records(west, "orders", 2 * PER_SIDE, 60)

    commit_group(east.bootstrap, "billing", {p: COMMITTED for p in range(PARTITIONS)})
    east_commits = committed(east.bootstrap, "billing")
    check_eq(east_commits, {p: COMMITTED for p in range(PARTITIONS)}, "east commits of billing")

    # West gets the translation: the west offset of the mirror of east COMMITTED.
    west_records = mirror.read_all(west.bootstrap, "orders")
    expected = {}
    for p, rows in west_records.items():
        for off, _k, _v, headers, _ts in rows:
            _, prov = mirror.split_provenance(headers)
            if prov == ("east", p, COMMITTED):
                expected[p] = off
    check_eq(sorted(expected), list(range(PARTITIONS)), "mirrors of east offset %d in west" % COMMITTED)
    mirror.wait_for("billing committed on west", lambda: committed(west.bootstrap, "billing") == expected, 30)
    code, body = sc_west.get("/offsets/translate?group=billing&from=east")
    check_eq(code, 200, "west /offsets/translate status")
    for o in json.loads(body)["offsets"]:
        # "strait.src=east@<offset>;" where the translation kept the offset
        check(re.match(r"strait\.src=east(@[0-9]+)?;", o["metadata"]) is not None,
              "west's checkpoint metadata has no origin marker: %r" % o["metadata"])

    # Several checkpoint rounds (500 ms) of the east sidecar: east must not move.
    for _ in range(8):
        time.sleep(0.5)
        check_eq(committed(east.bootstrap, "billing"), east_commits,
                 "east commits of billing (changed by a sidecar: the echo)")
    code, body = sc_east.get("/offsets/translate?group=billing&from=west")
    check_eq(code, 200, "east /offsets/translate status")
    check_eq(json.loads(body)["offsets"], [], "east checkpoints of billing translated from west")
    note("billing: east stays at %r, west got %r" % (east_commits, expected))
    for sc in sidecars:
        sc.stop()


run_test(main)

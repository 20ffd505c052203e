"""
test_sidecar_mirror.py - issue 4 through the real `strait sidecar`: records
produced on east reach west (identity naming both ways) with their strait.src
provenance header, /status and /metrics show the partitions, and a group
committed on east is translated by `strait offsets translate` (table and
--json) to the west offset of exactly the committed record.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, free_port, run_test  # noqa: E402
import mirror  # noqa: E402
from sidecar import (PARTITIONS, Sidecar, check_metrics, check_status,  # noqa: E402
                     check_translate, write_topology)

RECORDS = 300


def main(t):
    east = t.broker(name="east", overrides={"node.id": "1", "cluster.id": "sidecar-test"})
    west = t.broker(name="west", overrides={"node.id": "101", "cluster.id": "sidecar-test"})
    mirror.create_topic(east.bootstrap, "orders", PARTITIONS)
    ports = (free_port(), free_port())
    topology = write_topology(t.path("topology.yaml"), east, west, ports, t.path("state"))
    sidecars = [Sidecar(t, topology, "east", ports[0]), Sidecar(t, topology, "west", ports[1])]
    try:
        run(t, topology, east, west, sidecars)
    except BaseException:
        for sc in sidecars:
            if sc.proc is not None:
                sc.dump_log()
        raise


def run(t, topology, east, west, sidecars):
    for sc in sidecars:
        sc.start()
    sc_east, sc_west = sidecars

    mirror.produce(east.bootstrap, "orders",
                   [(b"k%d" % i, b"v%d" % i, [("h", b"%d" % i)], 1700000000000 + i)
                    for i in range(RECORDS)], PARTITIONS)
    src_ends = mirror.high_watermarks(east.bootstrap, "orders")
    mirror.wait_for("orders mirrored to west",
                    lambda: mirror.high_watermarks(west.bootstrap, "orders") == src_ends, 60)
    west_records = mirror.read_all(west.bootstrap, "orders")
    for p, recs in west_records.items():
        for off, key, value, headers, ts in recs:
            _, prov = mirror.split_provenance(headers)
            check(prov is not None and prov[0] == "east" and prov[1] == p,
                  "west orders[%d]@%d provenance %r" % (p, off, prov))
    check_status(sc_west, RECORDS)
    check_metrics(sc_west)
    check_translate(t, topology, west_records)

    sc_west.stop()
    sc_east.stop()


run_test(main)

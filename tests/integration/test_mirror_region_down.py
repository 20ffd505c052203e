"""
test_mirror_region_down.py - issue 4 item 8, a region goes down under the
mirror: two single-node regions, the west sidecar mirrors east->west while a
producer keeps writing to east.

  (a) the SOURCE broker is killed with SIGKILL mid-stream and restarted on
      the same port and data dir: while it is down /status shows the flow's
      error; after it is back every east record is in west exactly once and
      in order (provenance offsets = source offsets).
  (b) the TARGET broker is killed and restarted the same way while the
      producer keeps writing to east: /status shows the error and a lag
      (records and ms) that grows; after it is back, again exactly once.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, free_port, note, run_test  # noqa: E402
import mirror  # noqa: E402
from mirror_faults import (BackgroundProducer, check_exactly_once, flow_status,  # noqa: E402
                           now_ms, wait_mirrored, wait_records, wait_status)
from sidecar import PARTITIONS, Sidecar, write_topology  # noqa: E402

RECORDS_PER_PHASE = 16000
RATE = 2000  # records/s: each phase produces for ~8 s


def main(t):
    east = t.broker(name="east", overrides={"node.id": "1"})
    west = t.broker(name="west", overrides={"node.id": "101"})
    mirror.create_topic(east.bootstrap, "orders", PARTITIONS)
    ports = (free_port(), free_port())
    topology = write_topology(t.path("topology.yaml"), east, west, ports, t.path("state"))
    sc = Sidecar(t, topology, "west", ports[1])
    try:
        sc.start()
        source_down(east, west, sc)
        target_down(east, west, sc)
        sc.stop()
    except BaseException:
        if sc.proc is not None:
            sc.dump_log(120)
        raise


def source_down(east, west, sc):
    producer = BackgroundProducer(east.bootstrap, "orders", PARTITIONS, RECORDS_PER_PHASE, RATE, "a")
    producer.start()
    wait_records(west, "orders", 2000)
    killed_ms = now_ms()
    east.kill9()
    f = wait_status(sc, "/status error while the source is down",
                    lambda f: f["last_error"] and f["last_error_ms"] >= killed_ms, 30)
    note("source down: state=%s error=%r lag_records=%d lag_ms=%d" % (
        f["state"], f["last_error"], f["lag_records"], f["lag_ms"]))
    check(f["state"] == "running", "flow state %r while the source is down" % f["state"])
    polled = f["last_poll_ms"]
    time.sleep(2)
    f = flow_status(sc)
    check(f["last_poll_ms"] <= polled + 1000, "last_poll_ms still advancing with the source down")
    east.start()
    producer.finish()
    wait_mirrored(east, west, "orders", 60)
    total, _ = check_exactly_once(east, west, "orders")
    f = wait_status(sc, "lag 0 after the source returned", lambda f: f["lag_records"] == 0, 15)
    note("source down: %d records exactly once after the source returned" % total)


def target_down(east, west, sc):
    before = sum(mirror.high_watermarks(west.bootstrap, "orders").values())
    producer = BackgroundProducer(east.bootstrap, "orders", PARTITIONS, RECORDS_PER_PHASE, RATE, "b")
    producer.start()
    wait_records(west, "orders", before + 2000)
    killed_ms = now_ms()
    west.kill9()
    acked_at_kill = producer.acked
    f1 = wait_status(sc, "/status error and lag while the target is down",
                     lambda f: f["last_error"] and f["last_error_ms"] >= killed_ms and
                     f["lag_records"] > 0 and f["lag_ms"] > 0, 30)
    acked_before = producer.acked
    time.sleep(2.5)
    f2 = flow_status(sc)
    produced_meanwhile = producer.acked > acked_before
    note("target down: error=%r lag %d -> %d records, %d -> %d ms" % (
        f2["last_error"], f1["lag_records"], f2["lag_records"], f1["lag_ms"], f2["lag_ms"]))
    # lag in records grows only while the producer still writes to east (on a
    # loaded machine it may have finished before the first reading)
    check(f2["lag_records"] > f1["lag_records"] if produced_meanwhile else f2["lag_records"] > 0,
          "lag_records not growing with the target down (producer wrote %d meanwhile)"
          % (producer.acked - acked_before))
    check(f2["lag_ms"] > f1["lag_ms"], "lag_ms not growing with the target down")
    check(producer.acked > acked_at_kill + 1000,
          "the source acknowledged only %d records while the target was down"
          % (producer.acked - acked_at_kill))
    west.start()
    producer.finish()
    wait_mirrored(east, west, "orders", 60)
    total, _ = check_exactly_once(east, west, "orders")
    wait_status(sc, "lag 0 after the target returned", lambda f: f["lag_records"] == 0, 15)
    note("target down: %d records exactly once after the target returned" % total)


run_test(main)

"""
test_mirror_sigterm.py - issue 4 item 8, "SIGTERM drains in-flight batches
and exits": the west sidecar gets SIGTERM while it mirrors east->west at full
speed (a backlog plus a producer still writing to east).

  - it exits with status 0 within FLOW_STOP_FLUSH_MS (15 s; in practice well
    under a second);
  - what it had in flight was delivered AND recorded: for every partition the
    last pair of the offset map in the sidecar's SQLite file equals the
    target's tail (the last record's offset and its strait.src source offset);
  - restarted, it continues with no duplicate and no gap (provenance offsets
    of west = source offsets of east).
"""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, note, run_test  # noqa: E402
import mirror  # noqa: E402
from mirror_faults import (BackgroundProducer, check_exactly_once, wait_mirrored,  # noqa: E402
                           wait_records)
from sidecar import PARTITIONS, Sidecar, write_topology  # noqa: E402

BACKLOG = 60000
FLOW_STOP_FLUSH_S = 15  # FLOW_STOP_FLUSH_MS in mirror/flow_internal.h


def map_last_pairs(path):
    """{partition: (source offset, target offset)} of the map's last range ends."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        rows = db.execute(
            "SELECT p.partition, r.source_start + r.length - 1, r.target_start + r.length - 1 "
            "FROM map_ranges r JOIN map_partitions p USING (partition_id) "
            "WHERE p.flow = 'east->west' AND p.topic = 'orders' AND r.source_start = "
            "(SELECT max(source_start) FROM map_ranges WHERE partition_id = r.partition_id)").fetchall()
    finally:
        db.close()
    return {p: (s, t) for p, s, t in rows}


def target_tails(west):
    """{partition: (source offset, target offset)} of the last record of each west partition."""
    data = mirror.read_all(west.bootstrap, "orders")
    out = {}
    for p, rows in data.items():
        if rows:
            off, _k, _v, headers, _ts = rows[-1]
            _, prov = mirror.split_provenance(headers)
            check(prov is not None, "west orders[%d]@%d has no provenance" % (p, off))
            out[p] = (prov[2], off)
    return out


def main(t):
    east = t.broker(name="east", overrides={"node.id": "1"})
    west = t.broker(name="west", overrides={"node.id": "101"})
    mirror.create_topic(east.bootstrap, "orders", PARTITIONS)
    mirror.produce(east.bootstrap, "orders",
                   [(b"k%d" % i, b"backlog-%d-" % i + b"y" * 200, [("n", b"%d" % i)],
                     1700000000000 + i) for i in range(BACKLOG)], PARTITIONS)
    ports = (free_port(), free_port())
    topology = write_topology(t.path("topology.yaml"), east, west, ports, t.path("state"))
    store = t.path("state/west.sqlite")
    sc = Sidecar(t, topology, "west", ports[1])
    producer = BackgroundProducer(east.bootstrap, "orders", PARTITIONS, 30000, 5000, "live")
    try:
        sc.start()
        producer.start()
        wait_records(west, "orders", BACKLOG // 4, 30)
        started = time.monotonic()
        sc.proc.send_signal(15)
        rc = sc.proc.wait(timeout=FLOW_STOP_FLUSH_S + 5)
        took = time.monotonic() - started
        sc.proc = None
        note("sidecar exited with %d %.2f s after SIGTERM during mirroring" % (rc, took))
        check_eq(rc, 0, "sidecar exit status after SIGTERM")
        check(took < FLOW_STOP_FLUSH_S, "sidecar took %.1f s to drain and exit" % took)
        sc.check_clean()
        with open(sc.log_path, errors="replace") as f:
            log = f.read()
        check("flow stopped flow=east->west" in log, "no 'flow stopped' line in the sidecar log")

        ends = mirror.high_watermarks(west.bootstrap, "orders")
        copied = sum(ends.values())
        check(copied < BACKLOG + producer.total, "the sidecar had finished before SIGTERM (%d)" % copied)
        tails, pairs = target_tails(west), map_last_pairs(store)
        note("at SIGTERM: west holds %d records; tails %r; map ends %r" % (copied, tails, pairs))
        check_eq(pairs, tails, "offset map's last pairs vs the target tails (source, target)")

        sc.start()
        producer.finish()
        wait_mirrored(east, west, "orders", 60)
        total, _ = check_exactly_once(east, west, "orders")
        sc.stop()
        check_eq(map_last_pairs(store), target_tails(west), "map ends after the restart")
        note("%d records exactly once across the SIGTERM and restart" % total)
    except BaseException:
        if sc.proc is not None:
            sc.dump_log(80)
        raise
    finally:
        producer.stop_event.set()


run_test(main)

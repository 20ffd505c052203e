"""
test_mirror_prune.py - issue 4 item 6: offset-map ranges below the source's
log start are pruned (mirror/flow_sync.c prune_maps -> checkpoint_map_prune,
run at every topic-sync refresh, 1 s here).

The map needs several ranges for a prune to be visible (the last range is
never dropped): under identity naming, records whose strait.src says they
came from the target region are skipped, which leaves a source gap after
each block of 100 copied records. DeleteRecords then moves the source's log
start past the first two ranges; the checkpoint store must drop exactly those
two, keep the rest, and the flow must keep copying afterwards.
"""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402
import mirror  # noqa: E402

BLOCK = 100   # copied records per block
SKIPPED = 5   # records after each block that originate in west (skipped)
BLOCKS = 5


def ranges(db, topic):
    """[(source_start, length)] of east->west's map for topic partition 0."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        return con.execute(
            "SELECT r.source_start, r.length FROM map_ranges r JOIN map_partitions p "
            "ON r.partition_id = p.partition_id WHERE p.topic = ? AND p.partition = 0 "
            "ORDER BY r.source_start", (topic,)).fetchall()
    finally:
        con.close()


def main(t):
    east = t.broker(name="east")
    west = t.broker(name="west")
    mirror.create_topic(east.bootstrap, "orders", 1)
    recs = []
    for b in range(BLOCKS):
        recs += [(b"k", b"v%d-%d" % (b, i), [], 1700000000000 + len(recs) + i)
                 for i in range(BLOCK)]
        recs += [(b"k", b"from-west", [("strait.src", b"west:0:%d" % (b * SKIPPED + i))],
                  1700000000000 + len(recs) + BLOCK + i) for i in range(SKIPPED)]
    mirror.produce(east.bootstrap, "orders", recs, 1)
    topo = mirror.write_topology(t.path("topology.yaml"), east, west,
                                 [{"source": "east", "target": "west", "topics": ["orders"],
                                   "naming": "identity", "refresh_interval": "1s"}])
    d = mirror.Driver(t, topo, "east", "west").start()
    step = BLOCK + SKIPPED
    try:
        mirror.wait_for("orders mirrored", lambda: mirror.high_watermarks(
            west.bootstrap, "orders") == {0: BLOCKS * BLOCK}, 60)
        mirror.wait_for("map has one range per block", lambda: ranges(d.state, "orders") ==
                        [(b * step, BLOCK) for b in range(BLOCKS)], 10)

        # Log start inside the third range: the first two ranges end below
        # it and go, the third (partly below it) stays.
        log_start = 2 * step + BLOCK // 2
        with kwire.Conn(east.bootstrap) as conn:
            res = kwire.parse_delete_records_v0(conn.call(
                kwire.API_DELETE_RECORDS, 0, kwire.delete_records_v0_body("orders", 0, log_start)))
        check_eq(res.get(("orders", 0)), (0, log_start), "DeleteRecords -> (error, low)")
        mirror.wait_for("ranges below the log start pruned", lambda: ranges(d.state, "orders") ==
                        [(b * step, BLOCK) for b in range(2, BLOCKS)], 20)
        note("ranges below log start %d pruned: %s" % (log_start, ranges(d.state, "orders")))

        # Copying goes on after the prune and extends the map.
        mirror.produce(east.bootstrap, "orders",
                       [(b"k", b"late-%d" % i, [], 1700000100000 + i) for i in range(50)], 1)
        mirror.wait_for("late records mirrored", lambda: mirror.high_watermarks(
            west.bootstrap, "orders") == {0: BLOCKS * BLOCK + 50}, 30)
        mirror.wait_for("map extended after the prune", lambda: ranges(d.state, "orders")[-1] ==
                        (BLOCKS * step, 50), 10)
        d.stop()
    finally:
        d.cleanup()


run_test(main)

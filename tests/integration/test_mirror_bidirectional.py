"""
test_mirror_bidirectional.py - issue 4 item 3: east <-> west with identity
naming in both directions and producers on both sides. Both regions converge
to the same multiset of records and nothing loops (each record exists
exactly once per region; the flows count the records they skipped).
"""
import collections
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import mirror  # noqa: E402

PER_SIDE = 5000
PARTITIONS = 2


def recs(region, n):
    return [(("%s-%d" % (region, i)).encode(), ("%s value %d" % (region, i)).encode(),
             [("origin", region.encode())], 1700000000000 + i) for i in range(n)]


def multiset(bootstrap):
    data = mirror.read_all(bootstrap, "orders")
    c = collections.Counter()
    for p, rows in data.items():
        for r in rows:
            c[(p, r[1], r[2])] += 1
    return c


def main(t):
    east = t.broker(name="east")
    west = t.broker(name="west")
    for b in (east, west):
        mirror.create_topic(b.bootstrap, "orders", PARTITIONS)
    topo = mirror.write_topology(t.path("topology.yaml"), east, west, [
        {"source": "east", "target": "west", "topics": ["orders"], "naming": "identity"},
        {"source": "west", "target": "east", "topics": ["orders"], "naming": "identity"}])
    ew = mirror.Driver(t, topo, "east", "west").start()
    we = mirror.Driver(t, topo, "west", "east").start()
    try:
        threads = [threading.Thread(target=mirror.produce,
                                    args=(b.bootstrap, "orders", recs(name, PER_SIDE), PARTITIONS))
                   for b, name in ((east, "east"), (west, "west"))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        total = 2 * PER_SIDE
        for b in (east, west):
            mirror.wait_for("%s holds %d records" % (b.name, total),
                            lambda b=b: sum((mirror.high_watermarks(b.bootstrap, "orders")
                                             or {}).values()) >= total, 90)
        import time
        time.sleep(4)  # a loop would keep growing the topics now
        e, w = multiset(east.bootstrap), multiset(west.bootstrap)
        check_eq(sum(e.values()), total, "records in east")
        check_eq(sum(w.values()), total, "records in west")
        check(max(e.values()) == 1 and max(w.values()) == 1, "a record exists twice")
        check(e == w, "east and west differ: %d only in east, %d only in west"
              % (len(e - w), len(w - e)))
        ew.stop()
        we.stop()
    finally:
        ew.cleanup()
        we.cleanup()
    skipped = [line for line in ew.log_text().splitlines() + we.log_text().splitlines()
               if line.startswith("status ")]
    check(any("skipped_loop=0" not in s for s in skipped), "no flow reported skipped records")
    note("east and west converged on %d records, no loop" % total)


run_test(main)

"""
test_mirror_kill9.py - issue 4 item 4: the mirror is killed with SIGKILL
several times while it copies (and the source keeps growing); after a final
clean run the target holds every source record exactly once, in order:
provenance offsets per partition are exactly the source offsets, no gap,
no duplicate. Resume reads the target tail, never a saved position.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import mirror  # noqa: E402

RECORDS = int(os.environ.get("MIRROR_TEST_RECORDS", "60000"))
PARTITIONS = 4
KILLS = 5


def batch(start, n):
    return [(b"k%d" % i, b"value-%d" % i * 8, [("n", b"%d" % i)], 1700000000000 + i)
            for i in range(start, start + n)]


def main(t):
    east = t.broker(name="east")
    west = t.broker(name="west")
    mirror.create_topic(east.bootstrap, "orders", PARTITIONS)
    mirror.produce(east.bootstrap, "orders", batch(0, RECORDS // 2), PARTITIONS)
    topo = mirror.write_topology(t.path("topology.yaml"), east, west,
                                 [{"source": "east", "target": "west", "topics": ["orders"],
                                   "linger": "1ms", "batch_bytes": 16384}])
    d = mirror.Driver(t, topo, "east", "west")
    rng = random.Random(4)
    produced = RECORDS // 2
    try:
        for k in range(KILLS):
            d.start()
            # The source keeps growing while the mirror runs and dies.
            more = (RECORDS - RECORDS // 2) // KILLS if k < KILLS - 1 else RECORDS - produced
            time.sleep(rng.uniform(0.3, 1.0))
            mirror.produce(east.bootstrap, "orders", batch(produced, more), PARTITIONS)
            produced += more
            time.sleep(rng.uniform(0.0, 0.8))
            d.kill9()
            ends = mirror.high_watermarks(west.bootstrap, "orders") or {}
            note("kill %d: west has %d of %d records" % (k + 1, sum(ends.values()), produced))
        d.start()
        src_ends = mirror.high_watermarks(east.bootstrap, "orders")
        mirror.wait_for("west caught up", lambda: mirror.high_watermarks(
            west.bootstrap, "orders") == src_ends, 120)
        time.sleep(2)  # anything extra would show up now
        d.stop()
    finally:
        d.cleanup()
    check_eq(mirror.high_watermarks(west.bootstrap, "orders"), src_ends, "west high watermarks")
    src = mirror.read_all(east.bootstrap, "orders")
    dst = mirror.read_all(west.bootstrap, "orders")
    for p in range(PARTITIONS):
        provenance = [mirror.split_provenance(r[3])[1] for r in dst[p]]
        check_eq([x[2] for x in provenance], [r[0] for r in src[p]],
                 "provenance offsets of west orders[%d]" % p)
        check_eq([(r[1], r[2]) for r in dst[p]], [(r[1], r[2]) for r in src[p]],
                 "records of west orders[%d]" % p)
    text = d.log_text()
    check(text.count("resume flow=east->west") >= PARTITIONS * 2,
          "expected resumes from the target tail")
    check("from=beginning" not in text.split("resume flow=east->west topic=orders partition=0 "
                                              "from=")[-1][:20] or produced == 0,
          "a later start resumed from the beginning")
    note("%d records exactly once after %d kills" % (produced, KILLS))


run_test(main)

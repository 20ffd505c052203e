"""
test_mirror_copy.py - issue 4 items 2/3: 100k records with keys, headers and
timestamps mirrored east -> west byte-identical and in order per partition,
under identity naming and under prefix naming ("east.orders"), with a
strait.src provenance header naming the source partition and offset.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import mirror  # noqa: E402

RECORDS = int(os.environ.get("MIRROR_TEST_RECORDS", "100000"))
PARTITIONS = 3


def records(n, base_ts):
    out = []
    for i in range(n):
        key = None if i % 97 == 0 else ("key-%d" % (i % 1000)).encode()
        value = None if i % 101 == 0 else (b"v%08d-" % i) + bytes([i % 256]) * (i % 200)
        headers = [("h1", b"x%d" % i), ("bin", bytes([0, 255, i % 256]))] if i % 3 else []
        out.append((key, value, headers, base_ts + i))
    return out


def check_mirrored(source, target, topic_src, topic_dst):
    src = mirror.read_all(source.bootstrap, topic_src)
    dst = mirror.read_all(target.bootstrap, topic_dst)
    check_eq(sorted(dst), sorted(src), "partitions of %s" % topic_dst)
    for p in src:
        check_eq(len(dst[p]), len(src[p]), "record count of %s[%d]" % (topic_dst, p))
        for s, d in zip(src[p], dst[p]):
            headers, prov = mirror.split_provenance(d[3])
            check_eq((d[1], d[2], headers, d[4]), (s[1], s[2], s[3], s[4]),
                     "%s[%d] record from source offset %d" % (topic_dst, p, s[0]))
            check_eq(prov, ("east", p, s[0]), "provenance of %s[%d]" % (topic_dst, p))


def run_case(t, naming):
    east = t.broker(name="east-" + naming)
    west = t.broker(name="west-" + naming)
    mirror.create_topic(east.bootstrap, "orders", PARTITIONS)
    note("producing %d records" % RECORDS)
    mirror.produce(east.bootstrap, "orders", records(RECORDS, 1700000000000), PARTITIONS)
    topo = mirror.write_topology(t.path("topology-%s.yaml" % naming), east, west,
                                 [{"source": "east", "target": "west", "topics": ["orders"],
                                   "naming": naming}])
    d = mirror.Driver(t, topo, "east", "west", name="mirror-" + naming).start()
    target = "orders" if naming == "identity" else "east.orders"
    src_ends = mirror.high_watermarks(east.bootstrap, "orders")
    try:
        mirror.wait_for("%s mirrored" % target,
                        lambda: mirror.high_watermarks(west.bootstrap, target) == src_ends, 120)
        check_mirrored(east, west, "orders", target)
        hb = mirror.high_watermarks(west.bootstrap, "strait.heartbeats")
        check(hb is not None and sum(hb.values()) > 0, "no heartbeats in west: %r" % hb)
        d.stop()
    finally:
        d.cleanup()
    note("%s naming: %d records identical" % (naming, RECORDS))


def main(t):
    run_case(t, "identity")
    run_case(t, "prefix")


run_test(main)

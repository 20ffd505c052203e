"""
test_mirror_topic_sync.py - issue 4 item 5: a compacted source topic is
created on the target with its portable configs (cleanup.policy, retention)
but not min.insync.replicas, keyed records and tombstones copied; a new topic
matching the flow and a partition-count increase are picked up within the
refresh interval (1 s here); a config change follows.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions  # noqa: E402

from broker import check, check_eq, note, run_test  # noqa: E402
import mirror  # noqa: E402


def topic_configs(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([res])[res].result(30)
    return {k: v.value for k, v in entries.items()}


def main(t):
    east = t.broker(name="east")
    west = t.broker(name="west")
    mirror.create_topic(east.bootstrap, "state.users", 2,
                        {"cleanup.policy": "compact", "retention.ms": "86400000",
                         "min.insync.replicas": "1"})
    recs = [(b"user-%d" % (i % 50), None if i % 7 == 0 else b"v%d" % i, [], 1700000000000 + i)
            for i in range(2000)]
    mirror.produce(east.bootstrap, "state.users", recs, 2)
    topo = mirror.write_topology(t.path("topology.yaml"), east, west,
                                 [{"source": "east", "target": "west",
                                   "topics": ["state\\\\..*"], "naming": "prefix"}])
    d = mirror.Driver(t, topo, "east", "west").start()
    try:
        src_ends = mirror.high_watermarks(east.bootstrap, "state.users")
        mirror.wait_for("east.state.users mirrored", lambda: mirror.high_watermarks(
            west.bootstrap, "east.state.users") == src_ends, 60)
        cfg = topic_configs(west.bootstrap, "east.state.users")
        check_eq(cfg.get("cleanup.policy"), "compact", "target cleanup.policy")
        check_eq(cfg.get("retention.ms"), "86400000", "target retention.ms")
        src = mirror.read_all(east.bootstrap, "state.users")
        dst = mirror.read_all(west.bootstrap, "east.state.users")
        for p in src:
            check_eq([(r[1], r[2]) for r in dst[p]], [(r[1], r[2]) for r in src[p]],
                     "compacted records of partition %d" % p)

        # A new matching topic, and a partition increase of the first one.
        t0 = time.monotonic()
        mirror.create_topic(east.bootstrap, "state.orders", 3)
        mirror.produce(east.bootstrap, "state.orders",
                       [(b"o", b"o%d" % i, [], 1700000000000 + i) for i in range(300)], 3)
        admin = AdminClient({"bootstrap.servers": east.bootstrap})
        for f in admin.create_partitions([NewPartitions("state.users", 4)]).values():
            f.result(30)
        mirror.produce(east.bootstrap, "state.users",
                       [(b"late-%d" % i, b"x", [], 1700000001000 + i) for i in range(400)], 4)
        for topic, target in (("state.orders", "east.state.orders"),
                              ("state.users", "east.state.users")):
            ends = mirror.high_watermarks(east.bootstrap, topic)
            mirror.wait_for("%s follows %s" % (target, topic), lambda: mirror.high_watermarks(
                west.bootstrap, target) == ends, 30)
        note("new topic and partition increase followed in %.1f s" % (time.monotonic() - t0))

        # A config change follows.
        res = ConfigResource(ConfigResource.Type.TOPIC, "state.users",
                             set_config={"cleanup.policy": "compact", "retention.ms": "3600000"})
        for f in admin.alter_configs([res]).values():
            f.result(30)
        mirror.wait_for("retention.ms change followed", lambda: topic_configs(
            west.bootstrap, "east.state.users").get("retention.ms") == "3600000", 30)
        d.stop()
    finally:
        d.cleanup()


run_test(main)

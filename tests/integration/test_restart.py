#!/usr/bin/env python3
"""
test_restart: data and topic configs survive restarts.

1. Topics created with configs and extra partitions, records produced (several
   segments, compressed and not), SIGTERM (exit 0), restart on the same dir:
   every record is there byte for byte (key, value, headers, timestamp,
   offset), the topic configs and partition counts are unchanged, and new
   records continue at the old log end.
2. kill -9 without any flush policy, restart: the broker recovers, the log
   read back is exactly a prefix of what was produced (here, with the page
   cache intact, all of it), and producing continues at its end.
"""
# strait-test: asan

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError,  # noqa: E402
                             Producer, TopicPartition)
from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions,  # noqa: E402
                                   NewTopic)

# Record timestamps: recent, so that retention.ms below keeps them.
BASE_TS = (int(time.time()) - 600) * 1000
TOPIC_CONFIGS = {"retention.ms": "123456789", "max.message.bytes": "777777",
                 "segment.bytes": "65536"}


def produce(bs, topic, partitions, start, count, codec="none"):
    errors = []
    p = Producer({"bootstrap.servers": bs, "linger.ms": 5, "compression.type": codec,
                  "acks": "all"})
    base_ts = BASE_TS
    for i in range(start, start + count):
        p.produce(topic, key=b"k%d" % i, value=(b"value-%d-" % i) * 20,
                  headers=[("i", b"%d" % i)], partition=i % partitions, timestamp=base_ts + i,
                  on_delivery=lambda err, msg: err and errors.append(err))
        p.poll(0)
    check(p.flush(60) == 0, "records left undelivered to %s" % topic)
    check(not errors, "delivery errors on %s: %s" % (topic, errors[:1]))


def read_all(bs, topic, partitions):
    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "auto.offset.reset": "error"})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out = {p: [] for p in range(partitions)}
    eof = set()
    deadline = time.monotonic() + 60
    while len(eof) < partitions:
        check(time.monotonic() < deadline, "reading %s did not reach its end in 60 s" % topic)
        for m in c.consume(500, timeout=1.0):
            if m.error():
                check(m.error().code() == KafkaError._PARTITION_EOF,
                      "consumer error on %s: %s" % (topic, m.error()))
                eof.add(m.partition())
                continue
            eof.discard(m.partition())
            out[m.partition()].append((m.offset(), m.key(), m.value(), m.headers(),
                                       m.timestamp()[1]))
    c.close()
    return out


def expected(partitions, count):
    out = {p: [] for p in range(partitions)}
    for i in range(count):
        p = i % partitions
        out[p].append((len(out[p]), b"k%d" % i, (b"value-%d-" % i) * 20, [("i", b"%d" % i)],
                       BASE_TS + i))
    return out


def topic_configs(admin, topic):
    f = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    cfg = list(f.values())[0].result(timeout=30)
    return {k: cfg[k].value for k in TOPIC_CONFIGS if k in cfg}


def partition_count(admin, topic):
    md = admin.list_topics(timeout=10)
    check(topic in md.topics, "topic %s missing from metadata" % topic)
    return len(md.topics[topic].partitions)


def main(t):
    b = t.broker()
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([
            NewTopic("persist", num_partitions=2, replication_factor=1, config=TOPIC_CONFIGS),
            NewTopic("zipped", num_partitions=1, replication_factor=1)]).values():
        f.result(timeout=30)
    for f in admin.create_partitions([NewPartitions("persist", 3)]).values():
        f.result(timeout=30)
    check_eq(topic_configs(admin, "persist"), TOPIC_CONFIGS, "configs before restart")

    n = 6000  # ~1.2 MB per topic: many 64 KiB segments in "persist"
    produce(bs, "persist", 3, 0, n)
    produce(bs, "zipped", 1, 0, n, codec="zstd")
    check_eq(read_all(bs, "persist", 3), expected(3, n), "persist before restart")
    del admin

    # 1. Clean restart.
    b.stop()
    b.start()
    admin = AdminClient({"bootstrap.servers": bs})
    check_eq(partition_count(admin, "persist"), 3, "partitions of persist after restart")
    check_eq(topic_configs(admin, "persist"), TOPIC_CONFIGS, "configs after restart")
    check_eq(read_all(bs, "persist", 3), expected(3, n), "persist after restart")
    check_eq(read_all(bs, "zipped", 1), expected(1, n), "zipped after restart")
    produce(bs, "persist", 3, n, 300)
    check_eq(read_all(bs, "persist", 3), expected(3, n + 300), "persist appended after restart")
    note("clean restart kept %d+%d records, configs and partition counts" % (n, n))
    del admin

    # 2. kill -9 (no flush policy), restart: a consistent prefix, appends continue.
    produce(bs, "zipped", 1, n, 500, codec="zstd")
    b.kill9()
    b.start()
    got = read_all(bs, "zipped", 1)[0]
    want = expected(1, n + 500)[0]
    check(len(got) >= n, "after kill -9 only %d records of zipped remain; the %d written "
          "before the clean restart must all be there" % (len(got), n))
    check_eq(got, want[:len(got)], "zipped after kill -9 (must be a prefix of what was produced)")
    note("after kill -9: %d of %d records (page cache intact)" % (len(got), n + 500))
    before = len(got)
    p = Producer({"bootstrap.servers": bs})
    offsets = []
    p.produce("zipped", key=b"after", value=b"kill", partition=0,
              on_delivery=lambda err, msg: offsets.append((err, msg.offset())))
    p.flush(30)
    check_eq(offsets, [(None, before)], "produce after recovery: (error, offset)")
    b.stop()


run_test(main)

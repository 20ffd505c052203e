#!/usr/bin/env python3
"""
test_topic_compression: a topic whose compression.type names a codec stores
batches re-encoded with that codec, as Kafka does; "producer" (the default)
stores the producer's bytes. Checked on the segment file itself (the codec bits
of each stored batch's attributes) and through a consumer (records intact).
"""
# strait-test: asan

import glob
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def stored_codecs(data_dir, topic):
    """Codec of every batch in the topic's partition-0 segments, in order."""
    codecs = []
    for path in sorted(glob.glob(os.path.join(data_dir, "%s-0" % topic, "*.log"))):
        raw = open(path, "rb").read()
        at = 0
        while at + 61 <= len(raw):
            batch_length = struct.unpack_from(">i", raw, at + 8)[0]
            attributes = struct.unpack_from(">h", raw, at + 21)[0]
            codecs.append(CODECS[attributes & 7])
            at += 12 + batch_length
    return codecs


def produce(bs, topic, codec, n):
    p = Producer({"bootstrap.servers": bs, "compression.type": codec, "linger.ms": 20})
    for i in range(n):
        p.produce(topic, key=b"k%d" % i, value=b"value-%d " % i * 10, partition=0,
                  headers=[("h", b"%d" % i)])
    check_eq(p.flush(30), 0, "records left unflushed")


def consume(bs, topic, n):
    c = Consumer({"bootstrap.servers": bs, "group.id": "unused", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    while len(got) < n:
        m = c.poll(10)
        check(m is not None, "timed out after %d of %d records" % (len(got), n))
        check(m.error() is None, "consume error %s" % m.error())
        got.append((m.key(), m.value(), m.headers()))
    c.close()
    return got


def main(t):
    b = t.broker()
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    topics = {"as-sent": "producer", "to-zstd": "zstd", "to-gzip": "gzip",
              "to-none": "uncompressed"}
    futures = admin.create_topics([NewTopic(name, 1, 1, config={"compression.type": ct})
                                   for name, ct in topics.items()])
    for f in futures.values():
        f.result(30)
    n = 500
    produce(bs, "as-sent", "lz4", n)
    produce(bs, "to-zstd", "none", n)
    produce(bs, "to-gzip", "snappy", n)
    produce(bs, "to-none", "zstd", n)
    data_dir = b.data_dir
    expect = {"as-sent": "lz4", "to-zstd": "zstd", "to-gzip": "gzip", "to-none": "none"}
    want = [(b"k%d" % i, b"value-%d " % i * 10, [("h", b"%d" % i)]) for i in range(n)]
    for topic, codec in expect.items():
        codecs = stored_codecs(data_dir, topic)
        check(len(codecs) > 0, "no batch stored for %s" % topic)
        check_eq(sorted(set(codecs)), [codec], "stored codecs of %s" % topic)
        check_eq(consume(bs, topic, n), want, "records of %s" % topic)
        note("%s: %d batches stored as %s" % (topic, len(codecs), codec))
    b.stop()


run_test(main)

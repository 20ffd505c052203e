#!/usr/bin/env python3
"""
test_kafka_python: kafka-python 2.0.2 unchanged against a real broker.

- its startup probe (ApiVersions v0 then Metadata v0) succeeds and the broker
  version it infers allows magic v2 records and zstd (>= 2.1);
- KafkaProducer/KafkaConsumer (manual assign, no group) round trip keys,
  values, headers and timestamps with every codec kafka-python can use here
  (gzip always; snappy, lz4, zstd when their Python modules are installed --
  what is skipped is printed);
- KafkaAdminClient create_topics / delete_topics / create_partitions /
  describe_configs with Kafka's error codes.
"""
# strait-test: asan

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic  # noqa: E402
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError  # noqa: E402

RECORDS = 3000


def available_codecs():
    codecs, skipped = [None, "gzip"], []
    for codec, module in (("snappy", "snappy"), ("lz4", "lz4.frame"), ("zstd", "zstandard")):
        try:
            __import__(module)
            codecs.append(codec)
        except ImportError:
            skipped.append("%s (python module %s missing)" % (codec, module))
    return codecs, skipped


def round_trip(bs, codec, partitions=2):
    topic = "kp-%s" % (codec or "none")
    producer = KafkaProducer(bootstrap_servers=bs, compression_type=codec, acks="all",
                             linger_ms=10, api_version_auto_timeout_ms=5000)
    base_ts = int(time.time() * 1000) - 60_000
    expect = {p: [] for p in range(partitions)}
    futures = []
    for i in range(RECORDS):
        p = i % partitions
        key = None if i % 50 == 0 else b"key-%d" % i
        value = b"%s value %d " % ((codec or "none").encode(), i) * (1 + i % 7)
        headers = [("seq", b"%d" % i), ("lib", b"kafka-python")]
        futures.append((i, producer.send(topic, key=key, value=value, headers=headers,
                                         partition=p, timestamp_ms=base_ts + i)))
        expect[p].append((key, value, headers, base_ts + i))
    producer.flush(timeout=60)
    for i, f in futures:
        md = f.get(timeout=30)
        check_eq(md.offset, i // partitions, "offset of record %d (codec %s)" % (i, codec))
    producer.close(timeout=10)

    consumer = KafkaConsumer(bootstrap_servers=bs, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=10_000,
                             api_version_auto_timeout_ms=5000)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    got = {p: [] for p in range(partitions)}
    deadline = time.monotonic() + 60
    while sum(len(v) for v in got.values()) < RECORDS and time.monotonic() < deadline:
        for tp, msgs in consumer.poll(timeout_ms=1000, max_records=2000).items():
            got[tp.partition].extend(msgs)
    consumer.close()
    for p in range(partitions):
        check_eq(len(got[p]), len(expect[p]), "codec %s partition %d record count" % (codec, p))
        for n, (m, (key, value, headers, ts)) in enumerate(zip(got[p], expect[p])):
            what = "codec %s partition %d offset %d" % (codec, p, n)
            check_eq(m.offset, n, what + ": offset")
            check_eq(m.key, key, what + ": key")
            check_eq(m.value, value, what + ": value")
            check_eq(list(m.headers), headers, what + ": headers")
            check_eq((m.timestamp_type, m.timestamp), (0, ts), what + ": (CreateTime, timestamp)")
    note("codec %-6s: %d records round-tripped" % (codec or "none", RECORDS))


def main(t):
    b = t.broker()
    bs = b.bootstrap

    codecs, skipped = available_codecs()
    for s in skipped:
        note("SKIPPED codec %s" % s)

    admin = KafkaAdminClient(bootstrap_servers=bs, api_version_auto_timeout_ms=5000,
                             request_timeout_ms=30000)
    version = admin.config["api_version"]
    note("kafka-python inferred broker version %s" % (version,))
    check(version >= (2, 1), "kafka-python inferred broker version %s; the advertised ranges must "
          "make it infer >= 2.1 (magic v2 records, Produce v7, zstd)" % (version,))

    new = [NewTopic("kp-%s" % (c or "none"), num_partitions=2, replication_factor=1)
           for c in codecs]
    new.append(NewTopic("kp-admin", num_partitions=1, replication_factor=1,
                        topic_configs={"retention.ms": "86400000", "segment.bytes": "1048576"}))
    res = admin.create_topics(new, timeout_ms=30000)
    for topic, code, _msg in res.topic_errors:
        check_eq(code, 0, "create_topics error for %s" % topic)
    try:
        admin.create_topics([NewTopic("kp-admin", 1, 1)], timeout_ms=30000, )
        check(False, "create_topics of an existing topic did not raise TopicAlreadyExistsError")
    except TopicAlreadyExistsError:
        pass
    check(set(n.name for n in new) <= set(admin.list_topics()),
          "created topics missing from list_topics: %s" % admin.list_topics())
    note("create_topics ok")

    for codec in codecs:
        round_trip(bs, codec)

    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-admin")])
    entries = {}
    for r in res:
        for resource in r.resources:
            check_eq(resource[0], 0, "describe_configs error code")
            for entry in resource[4]:
                entries[entry[0]] = entry[1]
    check_eq(entries.get("retention.ms"), "86400000", "describe_configs retention.ms")
    check_eq(entries.get("segment.bytes"), "1048576", "describe_configs segment.bytes")
    note("describe_configs ok")

    admin.create_partitions({"kp-admin": NewPartitions(total_count=3)})
    consumer = KafkaConsumer(bootstrap_servers=bs, api_version_auto_timeout_ms=5000)
    deadline = time.monotonic() + 10
    while len(consumer.partitions_for_topic("kp-admin") or ()) != 3:
        check(time.monotonic() < deadline, "kp-admin does not show 3 partitions after "
              "create_partitions: %s" % consumer.partitions_for_topic("kp-admin"))
        time.sleep(0.3)
        consumer.topics()  # refresh metadata
    consumer.close()
    note("create_partitions ok")

    admin.delete_topics(["kp-admin"], timeout_ms=30000)
    deadline = time.monotonic() + 10
    while "kp-admin" in admin.list_topics():
        check(time.monotonic() < deadline, "kp-admin still listed 10 s after delete_topics")
        time.sleep(0.3)
    try:
        admin.delete_topics(["kp-never-existed"], timeout_ms=30000)
        check(False, "delete_topics of an unknown topic did not raise")
    except UnknownTopicOrPartitionError:
        pass
    note("delete_topics ok")
    admin.close()

    b.stop()


run_test(main)

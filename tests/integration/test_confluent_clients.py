#!/usr/bin/env python3
"""
test_confluent_clients: confluent-kafka-python (librdkafka 2.0.2) unchanged
against a real broker.

- Producer/Consumer: keys (incl. null), values (incl. null), headers (incl.
  repeated names and null values) and CreateTime timestamps preserved, for
  every codec (none gzip snappy lz4 zstd), 10k records each, offsets
  contiguous; consumer uses assign() with explicit offsets, no group.
- get_watermark_offsets; offsets_for_times (ListOffsets by timestamp) on
  records with known timestamps, exact offsets.
- AdminClient create_topics / delete_topics / create_partitions /
  describe_configs / alter_configs (full replacement semantics), with the
  exact Kafka error codes for the refused cases.
- confluent-kafka 1.7 has no incremental_alter_configs and no delete_records,
  so those two are sent as raw IncrementalAlterConfigs v0 / DeleteRecords v0
  requests (lib/kwire.py) and checked through the confluent clients.
"""
# strait-test: asan

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402

import confluent_kafka  # noqa: E402

from confluent_kafka import (OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, Consumer,  # noqa: E402
                             KafkaError, KafkaException, Producer, TopicPartition)
from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions,  # noqa: E402
                                   NewTopic)

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
RECORDS_PER_CODEC = int(os.environ.get("STRAIT_TEST_RECORDS", "10000"))
CODEC_PARTITIONS = 2

TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_CONFIG = 40


def admin_error_code(future):
    """Kafka error code of a failed admin future, 0 on success."""
    try:
        future.result(timeout=30)
        return 0
    except KafkaException as e:
        return e.args[0].code()


def all_ok(futures, what):
    for key, f in futures.items():
        code = admin_error_code(f)
        check(code == 0, "%s %s failed with error %d" % (what, key, code))


def expected_record(codec, i, base_ts):
    key = None if i % 100 == 0 else ("key-%d" % i).encode()
    if i % 500 == 7:
        value = None
    elif i % 3 == 0:
        value = os.urandom(64) + b"|%d" % i           # incompressible part
    else:
        value = ("%s value %d " % (codec, i)).encode() * (1 + i % 20)
    headers = [("seq", str(i).encode()), ("codec", codec.encode())]
    if i % 10 == 1:
        headers.append(("seq", b"again"))              # repeated header name
    if i % 1000 == 3:
        headers.append(("empty", b""))
    return key, value, headers, base_ts + i


def produce_all(bootstrap, topic, records, extra_conf=None, partition_of=None):
    """records: list of (key, value, headers, ts); returns delivery errors."""
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)

    conf = {"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all"}
    conf.update(extra_conf or {})
    p = Producer(conf)
    for i, (key, value, headers, ts) in enumerate(records):
        part = partition_of(i) if partition_of else 0
        while True:
            try:
                p.produce(topic, value=value, key=key, headers=headers, partition=part,
                          timestamp=ts, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    remaining = p.flush(60)
    check(remaining == 0, "%d records still undelivered after 60 s to %s" % (remaining, topic))
    return errors


def consume_all(bootstrap, topic, partitions, start=OFFSET_BEGINNING, deadline_s=90):
    """Reads every partition to its end; returns {partition: [Message]}."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "auto.offset.reset": "error"})
    c.assign([TopicPartition(topic, p, start) for p in partitions])
    out = {p: [] for p in partitions}
    at_eof = set()
    deadline = time.monotonic() + deadline_s
    try:
        while len(at_eof) < len(partitions):
            check(time.monotonic() < deadline, "consuming %s did not reach the end of %s in %d s "
                  "(got %r records so far)" % (topic, sorted(set(partitions) - at_eof), deadline_s,
                                               {p: len(v) for p, v in out.items()}))
            for m in c.consume(num_messages=1000, timeout=1.0):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        at_eof.add(m.partition())
                        continue
                    check(False, "consumer error on %s: %s" % (topic, m.error()))
                out[m.partition()].append(m)
                at_eof.discard(m.partition())
    finally:
        c.close()
    return out


def codec_round_trip(bs, codec):
    topic = "codec-" + codec
    base_ts = int(time.time() * 1000) - 3_600_000
    records = [expected_record(codec, i, base_ts) for i in range(RECORDS_PER_CODEC)]
    started = time.monotonic()
    errors = produce_all(bs, topic, records, {"compression.type": codec},
                         partition_of=lambda i: i % CODEC_PARTITIONS)
    check(not errors, "codec %s: %d delivery errors, first: %s" % (codec, len(errors), errors[:1]))
    got = consume_all(bs, topic, list(range(CODEC_PARTITIONS)))
    for p in range(CODEC_PARTITIONS):
        expect_ids = [i for i in range(RECORDS_PER_CODEC) if i % CODEC_PARTITIONS == p]
        msgs = got[p]
        check_eq(len(msgs), len(expect_ids), "codec %s partition %d record count" % (codec, p))
        for n, (i, m) in enumerate(zip(expect_ids, msgs)):
            key, value, headers, ts = records[i]
            what = "codec %s partition %d offset %d (record %d)" % (codec, p, m.offset(), i)
            check_eq(m.offset(), n, what + ": offset")
            check_eq(m.key(), key, what + ": key")
            check_eq(m.value(), value, what + ": value")
            # librdkafka may hand back an empty header value as None: same bytes on the wire
            got_headers = [(k, b"" if v is None else v) for k, v in (m.headers() or [])]
            check_eq(got_headers, headers, what + ": headers")
            check_eq(m.timestamp(), (TIMESTAMP_CREATE_TIME, ts), what + ": timestamp")
    note("codec %-6s: %d records with keys, headers and timestamps round-tripped in %.1f s"
         % (codec, RECORDS_PER_CODEC, time.monotonic() - started))


def watermarks(bs, topic, partition):
    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    finally:
        c.close()


def offsets_by_time(bs):
    topic = "times"
    t0 = (int(time.time()) - 7200) * 1000
    n = 1000
    records = [(b"k%d" % i, b"v%d" % i, [], t0 + i * 1000) for i in range(n)]
    errors = produce_all(bs, topic, records, {"linger.ms": 50})
    check(not errors, "times: delivery errors %s" % errors[:1])
    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False})
    try:
        cases = [(t0 - 60_000, 0), (t0, 0), (t0 + 1, 1), (t0 + 500_000, 500),
                 (t0 + 500_001, 501), (t0 + 999_000, 999), (t0 + 10_000_000, -1)]
        for ts, expect in cases:
            res = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
            check(res[0].error is None, "offsets_for_times(%d) error %s" % (ts, res[0].error))
            check_eq(res[0].offset, expect, "offsets_for_times(t0%+d ms)" % (ts - t0))
    finally:
        c.close()
    check_eq(watermarks(bs, topic, 0), (0, n), "watermarks of %s" % topic)
    note("offsets_for_times and watermarks exact")


def delete_records(bs):
    topic = "times"
    with kwire.Conn(bs) as conn:
        res = kwire.parse_delete_records_v0(conn.call(
            kwire.API_DELETE_RECORDS, 0, kwire.delete_records_v0_body(topic, 0, 100)))
        check_eq(res.get((topic, 0)), (0, 100), "DeleteRecords(times, 0, 100) -> (error, low)")
        res = kwire.parse_delete_records_v0(conn.call(
            kwire.API_DELETE_RECORDS, 0, kwire.delete_records_v0_body(topic, 0, 5000)))
        check_eq(res.get((topic, 0), (None,))[0], kwire.OFFSET_OUT_OF_RANGE,
                 "DeleteRecords beyond the high watermark: error")
        res = kwire.parse_list_offsets_v1(conn.call(
            kwire.API_LIST_OFFSETS, 1, kwire.list_offsets_v1_body(topic, 0, -2)))
        check_eq(res.get((topic, 0), (None, None, None))[::2], (0, 100),
                 "ListOffsets earliest after DeleteRecords -> (error, offset)")
    check_eq(watermarks(bs, topic, 0), (100, 1000), "watermarks after DeleteRecords")
    got = consume_all(bs, topic, [0])
    check(got[0] and got[0][0].offset() == 100 and got[0][0].key() == b"k100",
          "consumer from the beginning after DeleteRecords starts at %r, expected offset 100"
          % (((got[0][0].offset(), got[0][0].key()) if got[0] else None),))
    check_eq(len(got[0]), 900, "records left after DeleteRecords")
    note("DeleteRecords (raw v0) moved the log start offset to 100")


def describe_topic_configs(admin, topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    futures = admin.describe_configs([res])
    return list(futures.values())[0].result(timeout=30)


def admin_configs(bs, admin):
    topic = "admin-t"
    cfg = describe_topic_configs(admin, topic)
    check("retention.ms" in cfg, "describe_configs(%s) lacks retention.ms: %s" % (topic, sorted(cfg)))
    check_eq(cfg["retention.ms"].value, "3600000", "retention.ms set at creation")
    check(not cfg["retention.ms"].is_default, "retention.ms set at creation reported as default")
    check("cleanup.policy" in cfg and cfg["cleanup.policy"].value == "delete",
          "cleanup.policy default 'delete' not described: %r"
          % (cfg.get("cleanup.policy") and cfg["cleanup.policy"].value))

    # AlterConfigs replaces the whole set of topic overrides.
    res = ConfigResource(ConfigResource.Type.TOPIC, topic,
                         set_config={"max.message.bytes": "500000"})
    all_ok(admin.alter_configs([res]), "alter_configs")
    cfg = describe_topic_configs(admin, topic)
    check_eq(cfg["max.message.bytes"].value, "500000", "max.message.bytes after alter_configs")
    check_eq(cfg["retention.ms"].value, "604800000",
             "retention.ms after an alter_configs that did not name it (replaced -> default)")

    # IncrementalAlterConfigs changes only what it names (raw v0).
    with kwire.Conn(bs) as conn:
        res = kwire.parse_incremental_alter_configs_v0(conn.call(
            kwire.API_INCREMENTAL_ALTER_CONFIGS, 0,
            kwire.incremental_alter_configs_v0_body(topic, [("retention.ms", 0, "1234567")])))
        check(res and res[0][0] == 0, "IncrementalAlterConfigs SET retention.ms: %r" % res)
    cfg = describe_topic_configs(admin, topic)
    check_eq(cfg["retention.ms"].value, "1234567", "retention.ms after incremental SET")
    check_eq(cfg["max.message.bytes"].value, "500000", "max.message.bytes kept by incremental SET")
    with kwire.Conn(bs) as conn:
        res = kwire.parse_incremental_alter_configs_v0(conn.call(
            kwire.API_INCREMENTAL_ALTER_CONFIGS, 0,
            kwire.incremental_alter_configs_v0_body(topic, [("max.message.bytes", 1, None)])))
        check(res and res[0][0] == 0, "IncrementalAlterConfigs DELETE max.message.bytes: %r" % res)
        res = kwire.parse_incremental_alter_configs_v0(conn.call(
            kwire.API_INCREMENTAL_ALTER_CONFIGS, 0,
            kwire.incremental_alter_configs_v0_body(topic, [("no.such.config", 0, "1")])))
        check(res and res[0][0] == INVALID_CONFIG,
              "IncrementalAlterConfigs of an unknown config: expected error %d, got %r"
              % (INVALID_CONFIG, res))
        res = kwire.parse_incremental_alter_configs_v0(conn.call(
            kwire.API_INCREMENTAL_ALTER_CONFIGS, 0,
            kwire.incremental_alter_configs_v0_body(topic, [("retention.ms", 0, "not-a-number")])))
        check(res and res[0][0] == INVALID_CONFIG,
              "IncrementalAlterConfigs retention.ms=not-a-number: expected error %d, got %r"
              % (INVALID_CONFIG, res))
    cfg = describe_topic_configs(admin, topic)
    check_eq(cfg["max.message.bytes"].value, "1048588",
             "max.message.bytes after incremental DELETE (back to the default)")
    check_eq(cfg["retention.ms"].value, "1234567", "retention.ms unchanged by refused requests")
    note("describe/alter/incremental-alter configs behave as Kafka")


def main(t):
    b = t.broker()
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    for method in ("incremental_alter_configs", "delete_records"):
        if not hasattr(admin, method):
            note("confluent-kafka %s has no AdminClient.%s: sent as a raw request instead"
                 % (confluent_kafka.version()[0], method))

    # Topics via the admin API.
    topics = [NewTopic("codec-" + c, num_partitions=CODEC_PARTITIONS, replication_factor=1)
              for c in CODECS]
    topics += [NewTopic("times", num_partitions=1, replication_factor=1),
               NewTopic("admin-t", num_partitions=2, replication_factor=1,
                        config={"retention.ms": "3600000"})]
    all_ok(admin.create_topics(topics, operation_timeout=30), "create_topics")
    dup = admin.create_topics([NewTopic("times", num_partitions=1, replication_factor=1)])
    check_eq(admin_error_code(dup["times"]), TOPIC_ALREADY_EXISTS,
             "create_topics of an existing topic: error")
    md = admin.list_topics(timeout=10)
    for nt in topics:
        check(nt.topic in md.topics, "created topic %s not in metadata" % nt.topic)
        check_eq(len(md.topics[nt.topic].partitions), nt.num_partitions,
                 "partitions of %s" % nt.topic)
    note("create_topics ok")

    for codec in CODECS:
        codec_round_trip(bs, codec)

    offsets_by_time(bs)
    delete_records(bs)
    admin_configs(bs, admin)

    # CreatePartitions: grow works, shrinking is INVALID_PARTITIONS.
    all_ok(admin.create_partitions([NewPartitions("admin-t", 4)]), "create_partitions")
    check_eq(len(admin.list_topics(timeout=10).topics["admin-t"].partitions), 4,
             "partitions of admin-t after create_partitions(4)")
    fut = admin.create_partitions([NewPartitions("admin-t", 2)])
    check_eq(admin_error_code(fut["admin-t"]), INVALID_PARTITIONS,
             "create_partitions shrinking 4 -> 2: error")
    errs = produce_all(bs, "admin-t", [(b"k", b"to new partition", [], int(time.time() * 1000))],
                       partition_of=lambda i: 3)
    check(not errs, "produce to a partition added by create_partitions: %s" % errs)
    note("create_partitions ok")

    # DeleteTopics.
    all_ok(admin.delete_topics(["admin-t"], operation_timeout=30), "delete_topics")
    deadline = time.monotonic() + 10
    while "admin-t" in admin.list_topics(timeout=10).topics:
        check(time.monotonic() < deadline, "deleted topic admin-t still in metadata after 10 s")
        time.sleep(0.2)
    fut = admin.delete_topics(["never-existed"], operation_timeout=30)
    check_eq(admin_error_code(fut["never-existed"]), kwire.UNKNOWN_TOPIC_OR_PARTITION,
             "delete_topics of an unknown topic: error")
    note("delete_topics ok")

    b.stop()


run_test(main)

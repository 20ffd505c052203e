#!/usr/bin/env python3
"""
test_produce_record_errors: records refused one by one (KIP-467) on a
compacted topic, where every record needs a key.

- Produce v8 (raw wire, kwire) of one batch of 20 records whose records 0,
  7 and 19 have no key: the partition answers INVALID_RECORD (87), its
  record_errors name exactly batch indexes 0, 7 and 19 each with a message,
  its error_message sums up (3 of 20 records), and nothing is appended;
- the same batch at Produce v7 (no record_errors on the wire) is refused
  whole with INVALID_RECORD;
- a second batch after a clean one in the same partition's record set: the
  indexes count from the first record of the batch that holds them;
- with a real client (confluent-kafka, librdkafka 2.0.2, which sends Produce
  v7): 100 records with every 10th unkeyed, sent one record per batch, give
  exactly 10 INVALID_RECORD delivery errors and 90 deliveries, and the log
  holds those 90 records, each with its key.

librdkafka 2.8.0's own test 0011 (test_message_single_partition_record_fail)
is the v8 client check: it expects 10 INVALID_RECORD and 90
_INVALID_DIFFERENT_RECORD from a single batch of 100.
"""
# strait-test: asan

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "compacted-records"
CLIENT_TOPIC = "compacted-client"


def log_end(b, topic):
    with kwire.Conn(b.bootstrap) as c:
        res = kwire.parse_list_offsets_v1(c.call(kwire.API_LIST_OFFSETS, 1,
                                                 kwire.list_offsets_v1_body(topic, 0, -1)))
    err, _ts, offset = res[(topic, 0)]
    check_eq(err, 0, "ListOffsets latest error")
    return offset


def produce(b, version, records_bytes):
    with kwire.Conn(b.bootstrap) as c:
        body = c.call(kwire.API_PRODUCE, version, kwire.produce_v3_body(TOPIC, 0, records_bytes))
    if version >= 8:
        return kwire.parse_produce_v8(body)[(TOPIC, 0)]
    return kwire.parse_produce_v3(body)[(TOPIC, 0)]


def batch(count, unkeyed):
    return kwire.record_batch([(None if i in unkeyed else b"key-%d" % i, b"value-%d" % i, [])
                               for i in range(count)])


def raw_wire(b):
    # Produce v8: exactly the unkeyed records are named
    error, base_offset, record_errors, message = produce(b, 8, batch(20, {0, 7, 19}))
    check_eq(error, kwire.INVALID_RECORD, "Produce v8 partition error")
    check_eq(base_offset, -1, "Produce v8 base offset of a refused batch")
    check_eq([index for index, _ in record_errors], [0, 7, 19], "record_errors batch indexes")
    for index, text in record_errors:
        check(text and "no key" in text, "record %d: batch_index_error_message %r" % (index, text))
    check(message is not None and "3 of 20 records" in message,
          "partition error_message %r does not sum up the refused records" % message)
    check_eq(log_end(b, TOPIC), 0, "log end after the refused v8 batch")
    note("Produce v8: INVALID_RECORD, record_errors %s, error_message %r"
         % ([i for i, _ in record_errors], message))

    # Produce v7: the same refusal without the per-record detail
    error, _base = produce(b, 7, batch(20, {0, 7, 19}))
    check_eq(error, kwire.INVALID_RECORD, "Produce v7 partition error")
    check_eq(log_end(b, TOPIC), 0, "log end after the refused v7 batch")

    # two batches: a clean one, then one with record 4 unkeyed; all or nothing
    error, _base, record_errors, message = produce(b, 8, batch(5, set()) + batch(6, {4}))
    check_eq(error, kwire.INVALID_RECORD, "two batches: partition error")
    check_eq([index for index, _ in record_errors], [4], "two batches: record_errors indexes")
    check(message is not None and message.startswith("batch 1 "),
          "two batches: error_message %r should name batch 1" % message)
    check_eq(log_end(b, TOPIC), 0, "log end after the refused record set")

    # control: a batch whose records all have keys is appended
    error, base_offset, record_errors, message = produce(b, 8, batch(20, set()))
    check_eq((error, base_offset, record_errors, message), (0, 0, [], None),
             "Produce v8 of keyed records")
    check_eq(log_end(b, TOPIC), 20, "log end after the keyed batch")


def real_client(b):
    delivered, refused, other = [], [], []

    def on_delivery(err, msg):
        if err is None:
            delivered.append(msg.key())
        elif err.code() == KafkaError.INVALID_RECORD:
            refused.append(msg.value())
        else:
            other.append(err)

    # one record per batch: librdkafka 2.0.2 sends Produce v7, where a
    # refused batch fails whole, so only the unkeyed records fail
    p = Producer({"bootstrap.servers": b.bootstrap, "batch.num.messages": 1,
                  "message.timeout.ms": 20000, "retries": 0})
    for i in range(100):
        key = None if i % 10 == 0 else b"key-%03d" % i
        p.produce(CLIENT_TOPIC, key=key, value=b"value-%03d" % i, partition=0,
                  on_delivery=on_delivery)
    check_eq(p.flush(60), 0, "records still queued after flush")
    check_eq(other, [], "delivery errors other than INVALID_RECORD")
    check_eq(sorted(refused), [b"value-%03d" % i for i in range(0, 100, 10)],
             "records refused with INVALID_RECORD")
    check_eq(len(delivered), 90, "records delivered")

    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "record-errors-check",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([CLIENT_TOPIC])
    keys = []
    for _ in range(60):
        for m in c.consume(100, timeout=1.0):
            if m.error() is None:
                keys.append(m.key())
        if len(keys) >= 90:
            break
    c.close()
    check_eq(sorted(keys), sorted(delivered), "keys read back")
    note("confluent-kafka: 10 INVALID_RECORD, 90 delivered and read back")


def main(t):
    b = t.broker(overrides={"num.partitions": "1"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    topics = [NewTopic(name, 1, 1, config={"cleanup.policy": "compact"})
              for name in (TOPIC, CLIENT_TOPIC)]
    for f in admin.create_topics(topics).values():
        f.result(timeout=30)
    del admin
    raw_wire(b)
    real_client(b)
    b.stop()


run_test(main)

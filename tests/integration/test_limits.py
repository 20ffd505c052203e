#!/usr/bin/env python3
"""
test_limits: message.max.bytes and socket.request.max.bytes are enforced.

- broker message.max.bytes=20000: a 15 KB record is accepted; a 30 KB record
  is refused with MESSAGE_TOO_LARGE (10) in the confluent producer's delivery
  report and in kafka-python's future; nothing of it is stored;
- topic max.message.bytes=5000 overrides the broker value for that topic;
- socket.request.max.bytes=300000: a 250 KB Produce request (20 partitions x
  12 KB) is served; a frame announcing 300001 bytes is refused by closing the
  connection, and the broker goes on serving.
"""
# strait-test: asan

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402
from kwire import i16, i32, nbytes, string  # noqa: E402

from confluent_kafka import KafkaError, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

MESSAGE_MAX = 20000
REQUEST_MAX = 300000


def confluent_send(bs, topic, size):
    """-> (error code or 0, offset) from the delivery report of one record."""
    reports = []
    p = Producer({"bootstrap.servers": bs, "linger.ms": 0, "compression.type": "none",
                  "message.timeout.ms": 20000})
    p.produce(topic, value=b"x" * size, partition=0,
              on_delivery=lambda err, msg: reports.append((err.code() if err else 0, msg.offset())))
    p.flush(30)
    check_eq(len(reports), 1, "delivery reports for one record")
    return reports[0]


def log_end(bs, topic):
    with kwire.Conn(bs) as c:
        res = kwire.parse_list_offsets_v1(c.call(kwire.API_LIST_OFFSETS, 1,
                                                 kwire.list_offsets_v1_body(topic, 0, -1)))
    check_eq(res[(topic, 0)][0], 0, "ListOffsets error on %s" % topic)
    return res[(topic, 0)][2]


def main(t):
    b = t.broker(overrides={"message.max.bytes": str(MESSAGE_MAX),
                            "socket.request.max.bytes": str(REQUEST_MAX)})
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([
            NewTopic("big", num_partitions=1, replication_factor=1),
            NewTopic("small", num_partitions=1, replication_factor=1,
                     config={"max.message.bytes": "5000"}),
            NewTopic("wide", num_partitions=20, replication_factor=1)]).values():
        f.result(timeout=30)

    # message.max.bytes (broker).
    check_eq(confluent_send(bs, "big", 15000), (0, 0), "15 KB record under message.max.bytes")
    err, _ = confluent_send(bs, "big", 30000)
    check_eq(err, KafkaError.MSG_SIZE_TOO_LARGE,
             "confluent delivery report error for a 30 KB record over message.max.bytes=%d"
             % MESSAGE_MAX)
    check_eq(log_end(bs, "big"), 1, "log end of big after the refused record")
    note("confluent: MESSAGE_TOO_LARGE for 30 KB > %d" % MESSAGE_MAX)

    from kafka import KafkaProducer
    from kafka.errors import MessageSizeTooLargeError
    kp = KafkaProducer(bootstrap_servers=bs, api_version_auto_timeout_ms=5000, retries=0)
    try:
        kp.send("big", value=b"y" * 30000, partition=0).get(timeout=30)
        check(False, "kafka-python: a 30 KB record over message.max.bytes was accepted")
    except MessageSizeTooLargeError:
        pass
    md = kp.send("big", value=b"z" * 1000, partition=0).get(timeout=30)
    check_eq(md.offset, 1, "kafka-python: offset of a small record after the refused one")
    kp.close(timeout=10)
    note("kafka-python: MessageSizeTooLargeError for 30 KB")

    # max.message.bytes (topic) overrides the broker value.
    check_eq(confluent_send(bs, "small", 3000), (0, 0), "3 KB record under topic max.message.bytes")
    err, _ = confluent_send(bs, "small", 8000)
    check_eq(err, KafkaError.MSG_SIZE_TOO_LARGE, "8 KB record over topic max.message.bytes=5000")
    note("topic max.message.bytes enforced")

    # socket.request.max.bytes: a large request under the limit is served...
    batch = kwire.record_batch([(None, b"w" * 12000, [])])
    parts = b"".join(i32(p) + nbytes(batch) for p in range(20))
    body = string(None) + i16(1) + i32(10000) + i32(1) + string("wide") + i32(20) + parts
    frame = kwire.request(kwire.API_PRODUCE, 3, 1, body)
    check(200_000 < len(frame) < REQUEST_MAX, "test bug: frame of %d bytes" % len(frame))
    with kwire.Conn(bs) as c:
        c.send(frame)
        _cid, resp = c.recv_response()
        res = kwire.parse_produce_v3(resp)
    check_eq(sorted(res.items()), [(("wide", p), (0, 0)) for p in range(20)],
             "Produce of %d bytes under socket.request.max.bytes" % len(frame))
    # ... and a frame over it is refused before its body is read.
    with kwire.Conn(bs) as c:
        c.send(i32(REQUEST_MAX + 1))  # announces one byte more than allowed
        try:
            c.send(b"\x00" * 65536)
        except OSError:
            pass
        check(c.wait_closed(10), "frame of %d bytes (> socket.request.max.bytes=%d) not refused"
              % (REQUEST_MAX + 1, REQUEST_MAX))
    b.assert_serving("after the oversized frame")
    note("socket.request.max.bytes enforced")
    b.stop()


run_test(main)

#!/usr/bin/env python3
"""
test_retention: segments roll by size and old ones go by bytes and by time.

Broker: log.segment.bytes=1 MiB, log.retention.check.interval.ms=500.
- topic "by-bytes" (retention.bytes=2 MiB): after ~6 MB, old segments are
  deleted, ListOffsets earliest (log start offset) advances past 0, the
  partition directory holds fewer .log files, and what remains is complete
  from the log start to the end;
- topic "by-time" (retention.ms=10 min): records stamped an hour ago go, the
  fresh ones all stay;
- a consumer at offset 0 (now below the log start) with
  auto.offset.reset=error gets ERR__AUTO_OFFSET_RESET (the broker answered
  OFFSET_OUT_OF_RANGE), with =earliest it starts at the log start offset, and
  with =latest it gets only records produced after it.
"""
# strait-test: asan

import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

SEGMENT_BYTES = 1024 * 1024
RETENTION_BYTES = 2 * 1024 * 1024


def produce(bs, topic, start, count, ts_fn):
    errors = []
    p = Producer({"bootstrap.servers": bs, "linger.ms": 5, "acks": 1})
    for i in range(start, start + count):
        while True:
            try:
                p.produce(topic, key=b"%d" % i, value=b"%08d" % i + b"." * 1016, partition=0,
                          timestamp=ts_fn(i),
                          on_delivery=lambda err, msg: err and errors.append(err))
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    check(p.flush(60) == 0, "undelivered records on %s" % topic)
    check(not errors, "delivery errors on %s: %s" % (topic, errors[:1]))


def offsets(bs, topic):
    """(log start offset, log end offset) via raw ListOffsets v1."""
    out = []
    with kwire.Conn(bs) as c:
        for ts in (-2, -1):
            res = kwire.parse_list_offsets_v1(c.call(kwire.API_LIST_OFFSETS, 1,
                                                     kwire.list_offsets_v1_body(topic, 0, ts)))
            check_eq(res[(topic, 0)][0], 0, "ListOffsets(%d) error on %s" % (ts, topic))
            out.append(res[(topic, 0)][2])
    return tuple(out)


def wait_log_start_moves(bs, topic, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while True:
        start, end = offsets(bs, topic)
        if start > 0:
            return start, end
        check(time.monotonic() < deadline, "%s: log start offset still 0 after %d s "
              "(log end %d): retention did not delete segments" % (topic, timeout_s, end))
        time.sleep(0.25)


def wait_log_start_settles(bs, topic, quiet_s=2.0, timeout_s=30):
    """Waits until the log start has moved and then kept still for quiet_s
    (four retention checks): a check that ran while the records were still
    arriving deletes only part of what retention will delete, so the first
    move is not the last (a consumer started then saw its start deleted)."""
    start, end = wait_log_start_moves(bs, topic, timeout_s)
    deadline = time.monotonic() + timeout_s
    still_since = time.monotonic()
    while time.monotonic() - still_since < quiet_s:
        check(time.monotonic() < deadline, "%s: log start still moving after %d s (now %d)"
              % (topic, timeout_s, start))
        time.sleep(0.25)
        now_start, now_end = offsets(bs, topic)
        if (now_start, now_end) != (start, end):
            start, end = now_start, now_end
            still_since = time.monotonic()
    return start, end


def segment_files(b, topic):
    return sorted(glob.glob(os.path.join(b.data_dir, "%s-0" % topic, "*.log")))


def consume_from(bs, topic, offset, reset, want, timeout_s=20):
    """Assigns at offset with auto.offset.reset=reset; returns (messages, errors)."""
    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "auto.offset.reset": reset,
                  "enable.partition.eof": False})
    c.assign([TopicPartition(topic, 0, offset)])
    msgs, errors = [], []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(msgs) < want and not errors:
        for m in c.consume(1000, timeout=0.5):
            if m.error():
                errors.append(m.error())
            else:
                msgs.append(m)
    c.close()
    return msgs, errors


def main(t):
    b = t.broker(overrides={"log.segment.bytes": str(SEGMENT_BYTES),
                            "log.retention.check.interval.ms": "500"})
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([
            NewTopic("by-bytes", 1, 1, config={"retention.bytes": str(RETENTION_BYTES)}),
            NewTopic("by-time", 1, 1, config={"retention.ms": "600000"})]).values():
        f.result(timeout=30)

    # Retention by bytes.
    now_ms = int(time.time() * 1000)
    n = 6000
    produce(bs, "by-bytes", 0, n, lambda i: now_ms)
    start, end = wait_log_start_settles(bs, "by-bytes")
    check_eq(end, n, "log end of by-bytes")
    files = segment_files(b, "by-bytes")
    check(len(files) <= 4, "by-bytes keeps %d segment files for ~%d MB with "
          "retention.bytes=%d and 1 MiB segments: %s" % (len(files), n // 1000,
                                                         RETENTION_BYTES, files))
    kept_bytes = (n - start) * 1024
    check(kept_bytes >= RETENTION_BYTES - SEGMENT_BYTES,
          "by-bytes deleted too much: log start %d leaves ~%d bytes (retention %d)"
          % (start, kept_bytes, RETENTION_BYTES))
    note("by-bytes: log start %d, end %d, %d segment files" % (start, end, len(files)))

    # Consumer at offset 0, now out of range.
    msgs, errors = consume_from(bs, "by-bytes", 0, "error", 1)
    check(errors and errors[0].code() == KafkaError._AUTO_OFFSET_RESET,
          "consumer at offset 0 < log start %d with auto.offset.reset=error: expected "
          "_AUTO_OFFSET_RESET, got errors %s and %d messages" % (start, errors, len(msgs)))
    note("offset 0 -> OFFSET_OUT_OF_RANGE -> %s" % errors[0].str())
    msgs, errors = consume_from(bs, "by-bytes", 0, "earliest", n - start)
    check(not errors, "auto.offset.reset=earliest: errors %s" % errors)
    check(msgs and msgs[0].offset() == start,
          "auto.offset.reset=earliest began at %s, expected the log start %d"
          % (msgs[0].offset() if msgs else None, start))
    check_eq([m.offset() for m in msgs], list(range(start, n)), "offsets kept in by-bytes")
    check_eq([m.value()[:8] for m in msgs[:3]], [b"%08d" % i for i in range(start, start + 3)],
             "values at the log start")

    # auto.offset.reset=latest: only what is produced after the reset.
    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "auto.offset.reset": "latest"})
    c.assign([TopicPartition("by-bytes", 0, 0)])
    c.consume(10, timeout=2.0)  # lets the reset to the end happen
    produce(bs, "by-bytes", n, 1, lambda i: now_ms)
    got = []
    deadline = time.monotonic() + 15
    while not got and time.monotonic() < deadline:
        got = [m for m in c.consume(10, timeout=0.5) if not m.error()]
    c.close()
    check(got and got[0].offset() == n, "auto.offset.reset=latest: first record %s, expected "
          "offset %d" % (got[0].offset() if got else None, n))
    note("auto.offset.reset earliest/latest/error behave as Kafka")

    # Retention by time: records an hour old go, fresh ones stay.
    old_ms = int(time.time() * 1000) - 3_600_000
    produce(bs, "by-time", 0, 3000, lambda i: old_ms + i)
    fresh_ms = int(time.time() * 1000)
    produce(bs, "by-time", 3000, 1500, lambda i: fresh_ms)
    start, end = wait_log_start_settles(bs, "by-time")
    check_eq(end, 4500, "log end of by-time")
    check(start <= 3000, "by-time deleted fresh records: log start %d > 3000" % start)
    msgs, errors = consume_from(bs, "by-time", 0, "earliest", end - start)
    check(not errors and len(msgs) == end - start and msgs[0].offset() == start,
          "by-time read %d records from %s (errors %s), expected %d from %d"
          % (len(msgs), msgs[0].offset() if msgs else None, errors, end - start, start))
    note("by-time: log start %d of %d (3000 old records)" % (start, end))
    b.stop()


run_test(main)

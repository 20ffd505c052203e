#!/usr/bin/env python3
"""
test_compaction: cleanup.policy=compact keeps exactly the latest value per
key and drops tombstones after delete.retention.ms.

Topic "compacted" (segment.bytes=16 KiB, segment.ms=1 s so the tail rolls and
becomes cleanable, min.cleanable.dirty.ratio=0.01, delete.retention.ms=2 s):
- a record without a key is refused with INVALID_RECORD (Kafka's rule for
  compacted topics) and nothing is written;
- 60 keys get 30 updates each (lz4 batches), then 10 keys get a tombstone;
- polling (bounded) until the cleaner has run: a consumer from the beginning
  sees exactly one record per live key, with its latest value at the offset
  the producer was told, offsets increasing, and the log end unchanged;
  tombstones first stay, then are gone once delete.retention.ms passed;
- the partition directory holds fewer bytes than was produced, no .cleaned or
  .swap leftovers, and a cleaner-offset-checkpoint;
- after a restart the same records read back;
- a consumer at a removed offset continues at the next kept record.
"""
# strait-test: asan

import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "compacted"
KEYS = 60
ROUNDS = 30
DELETED = 10
DELETE_RETENTION_MS = 2000


def produce(bs, records):
    """records: [(key, value)]; returns {key: offset of its last write}."""
    reports, errors = {}, []

    def on_delivery(err, msg):
        if err:
            errors.append(err)
        else:
            reports[msg.key()] = max(reports.get(msg.key(), -1), msg.offset())

    p = Producer({"bootstrap.servers": bs, "linger.ms": 5, "acks": 1,
                  "compression.type": "lz4", "batch.num.messages": 20})
    for key, value in records:
        while True:
            try:
                p.produce(TOPIC, key=key, value=value, partition=0, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    check(p.flush(60) == 0, "undelivered records")
    check(not errors, "delivery errors: %s" % errors[:1])
    return reports


def read_from(bs, offset):
    """Every record from offset to the end: [(offset, key, value)]."""
    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "auto.offset.reset": "error"})
    c.assign([TopicPartition(TOPIC, 0, offset)])
    out = []
    deadline = time.monotonic() + 60
    while True:
        check(time.monotonic() < deadline, "reading back did not reach the end in 60 s")
        batch = c.consume(1000, timeout=1.0)
        done = False
        for m in batch:
            if m.error():
                check(m.error().code() == KafkaError._PARTITION_EOF, "consumer error: %s" % m.error())
                done = True
            else:
                out.append((m.offset(), m.key(), m.value()))
        if done:
            break
    c.close()
    return out


def check_latest(records, latest, expect_tombstones):
    """records hold exactly one record per key of latest, at its offset."""
    offsets = [r[0] for r in records]
    check(offsets == sorted(offsets) and len(set(offsets)) == len(offsets),
          "offsets not strictly increasing")
    by_key = {}
    for offset, key, value in records:
        check(key not in by_key, "key %r appears twice (offsets %d and %d)"
              % (key, by_key.get(key, (0,))[0], offset))
        by_key[key] = (offset, value)
    want = {k: v for k, v in latest.items() if v[1] is not None or expect_tombstones}
    check_eq(by_key, want, "records per key")


def cleaned(records, latest, expect_tombstones):
    keys = [r[1] for r in records]
    want = sum(1 for v in latest.values() if v[1] is not None or expect_tombstones)
    return len(keys) == len(set(keys)) == want


def main(t):
    b = t.broker()
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    config = {"cleanup.policy": "compact", "segment.bytes": str(16 * 1024),
              "segment.ms": "1000", "min.cleanable.dirty.ratio": "0.01",
              "delete.retention.ms": str(DELETE_RETENTION_MS)}
    for f in admin.create_topics([NewTopic(TOPIC, 1, 1, config=config)]).values():
        f.result(timeout=30)
    del admin

    # a record without a key is refused on a compacted topic
    refused = []
    p = Producer({"bootstrap.servers": bs, "message.timeout.ms": 10000})
    p.produce(TOPIC, value=b"no key", partition=0,
              on_delivery=lambda err, msg: refused.append(err))
    p.flush(30)
    check(len(refused) == 1 and refused[0] is not None, "unkeyed record was accepted")
    check_eq(refused[0].code(), KafkaError.INVALID_RECORD, "error for an unkeyed record")
    del p

    records = []
    for r in range(ROUNDS):
        for k in range(KEYS):
            records.append((b"key-%03d" % k, b"round-%03d-key-%03d-" % (r, k) + b"x" * 80))
    reports = produce(bs, records)
    tombstones = [(b"key-%03d" % k, None) for k in range(0, KEYS, KEYS // DELETED)]
    reports.update(produce(bs, tombstones))
    latest = {}
    for key, value in records + tombstones:
        latest[key] = (reports[key], value)
    end = max(reports.values()) + 1
    produced_bytes = sum(len(k) + len(v or b"") for k, v in records)
    note("produced %d records, log end %d" % (len(records) + len(tombstones), end))

    # the cleaner runs within a few ticks: first with the tombstones kept
    deadline = time.monotonic() + 60
    while True:
        got = read_from(bs, 0)
        if cleaned(got, latest, True) or cleaned(got, latest, False):
            break
        check(time.monotonic() < deadline, "not compacted within 60 s: %d records for %d keys"
              % (len(got), KEYS))
        time.sleep(0.5)
    note("compacted: %d records" % len(got))
    if cleaned(got, latest, True):
        check_latest(got, latest, True)
    # ... and once delete.retention.ms passed, without them
    deadline = time.monotonic() + 60
    while not cleaned(got, latest, False):
        check(time.monotonic() < deadline, "tombstones still there after 60 s")
        time.sleep(0.5)
        got = read_from(bs, 0)
    check_latest(got, latest, False)

    part = os.path.join(b.data_dir, "%s-0" % TOPIC)
    size = sum(os.path.getsize(f) for f in glob.glob(os.path.join(part, "*.log")))
    check(size < produced_bytes // 4, "partition still holds %d bytes of %d produced"
          % (size, produced_bytes))
    check(not glob.glob(os.path.join(part, "*.cleaned")) and not glob.glob(os.path.join(part, "*.swap")),
          "cleaner leftovers in %s" % os.listdir(part))
    check(os.path.exists(os.path.join(part, "cleaner-offset-checkpoint")), "no cleaner checkpoint")

    # a consumer at a removed offset goes on at the next kept record
    kept = [r[0] for r in got]
    removed = next(o for o in range(end) if o not in kept and o > kept[0])
    after = read_from(bs, removed)
    check(after and after[0][0] == min(o for o in kept if o > removed),
          "fetch from removed offset %d started at %s" % (removed, after[:1]))

    b.restart()
    again = read_from(bs, 0)
    check_eq(again, got, "records after a restart")
    b.stop()


if __name__ == "__main__":
    run_test(main)
